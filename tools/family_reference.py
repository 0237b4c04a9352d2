#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference logits of the model families for tests/engine/cpu/family_reference_test.cpp.

A plain PyTorch forward pass (float64, one sequence, no cache) written from each family's
published definition (Hugging Face transformers' modeling_llama / qwen2 / qwen3 / phi3 / gemma2 /
gemma3, in the GGUF tensor layout llama.cpp's converter writes), over a random model that the
project's GGUF writer produced. Run with Debian's python3-torch (only /usr/bin/python3 sees it):

    build/tests/engine/cpu/batchscope_random_gguf tiny qwen2 7 /tmp/qwen2.gguf
    /usr/bin/python3 tools/family_reference.py /tmp/qwen2.gguf tests/engine/cpu/data/qwen2.ref

The test regenerates the same model (same shape, architecture and seed) and compares its
batched, paged logits against the file. Only F32 tensors are read (the test models are F32).
"""
import math
import struct
import sys

import torch

# ---------------------------------------------------------------- GGUF reading (F32 only)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.data, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n].decode("utf-8")
        self.pos += n
        return s

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:
            et, n = self.take("<I"), self.take("<Q")
            return [self.value(et) for _ in range(n)]
        return self.take(_SCALARS[t])


def read_gguf(path):
    data = open(path, "rb").read()
    r = Reader(data)
    assert r.take("<I") == 0x46554747, "not a GGUF file"
    r.take("<I")  # version
    n_tensors, n_kv = r.take("<Q"), r.take("<Q")
    meta = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = r.string()
        dims = [r.take("<Q") for _ in range(r.take("<I"))]
        ttype, offset = r.take("<I"), r.take("<Q")
        infos.append((name, dims, ttype, offset))
    align = meta.get("general.alignment", 32)
    base = (r.pos + align - 1) // align * align
    tensors = {}
    for name, dims, ttype, offset in infos:
        assert ttype == 0, f"{name}: only F32 tensors are read"
        n = math.prod(dims)
        t = torch.frombuffer(bytearray(data[base + offset:base + offset + 4 * n]), dtype=torch.float32)
        tensors[name] = t.double().reshape(list(reversed(dims)))  # ggml ne[0] is the last axis
    return meta, tensors


# ---------------------------------------------------------------- the forward pass
def rms_norm(x, w, eps):
    # GGUF norm weights are the multiplier itself (Gemma's converter stores 1 + w).
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, pos, inv_freq, attn_factor, neox):
    """x [T, heads, headDim]; rotates the first 2 * len(inv_freq) dims of each head."""
    half = inv_freq.shape[0]
    ang = pos[:, None].double() * inv_freq[None, :]  # [T, half]
    cos = (torch.cos(ang) * attn_factor)[:, None, :]
    sin = (torch.sin(ang) * attn_factor)[:, None, :]
    out = x.clone()
    if neox:  # HF rotate_half: pairs (i, i + half)
        a, b = x[..., :half], x[..., half:2 * half]
        out[..., :half], out[..., half:2 * half] = a * cos - b * sin, a * sin + b * cos
    else:  # llama.cpp's llama layout (the converter permuted Q/K): adjacent pairs
        a, b = x[..., 0:2 * half:2], x[..., 1:2 * half:2]
        out[..., 0:2 * half:2], out[..., 1:2 * half:2] = a * cos - b * sin, a * sin + b * cos
    return out


class Model:
    def __init__(self, path):
        self.meta, self.t = read_gguf(path)
        m = self.meta
        self.arch = a = m["general.architecture"]
        g = lambda k, d=None: m.get(f"{a}.{k}", d)
        self.dim, self.layers = g("embedding_length"), g("block_count")
        self.heads, self.kv_heads = g("attention.head_count"), g("attention.head_count_kv", g("attention.head_count"))
        self.head_dim = g("attention.key_length", self.dim // self.heads)
        self.eps = g("attention.layer_norm_rms_epsilon")
        self.context = g("context_length")
        rope_dim = g("rope.dimension_count", self.head_dim)
        exps = torch.arange(0, rope_dim, 2, dtype=torch.float64) / rope_dim
        self.gemma = a in ("gemma2", "gemma3")
        self.neox = a != "llama"
        self.attn_factor = g("rope.scaling.attn_factor", 1.0) if a == "phi3" else 1.0
        inv = 1.0 / g("rope.freq_base", 10000.0) ** exps
        if "rope_freqs.weight" in self.t:  # Llama 3.x: frequency divisors
            inv = inv / self.t["rope_freqs.weight"]
        if a == "phi3" and "rope_factors_long.weight" in self.t:  # LongRoPE, chosen by context
            long = self.context > g("rope.scaling.original_context_length")
            inv = inv / self.t["rope_factors_long.weight" if long else "rope_factors_short.weight"]
        if g("rope.scaling.type") == "linear":  # positions / factor (gemma3: global layers)
            inv = inv / g("rope.scaling.factor")
        self.inv_global = inv
        self.inv_local = 1.0 / g("rope.freq_base_swa", 10000.0) ** exps if a == "gemma3" else inv
        self.window = g("attention.sliding_window", 0)
        self.scale = g("attention.scale", 1.0 / math.sqrt(self.head_dim))
        self.attn_cap = g("attn_logit_softcapping", 0.0) if a == "gemma2" else 0.0
        self.final_cap = g("final_logit_softcapping", 0.0) if a == "gemma2" else 0.0

    def is_local(self, layer):
        if self.arch == "gemma2":
            return layer % 2 == 0  # even layers slide (Gemma 2)
        if self.arch == "gemma3":
            return (layer + 1) % 6 != 0  # five of six (Gemma 3)
        return self.arch == "phi3" and self.window > 0

    def attention(self, x, p, layer, pos):
        t, T = self.t, x.shape[0]
        if self.arch == "phi3":
            qkv = x @ t[p + "attn_qkv.weight"].T
            qd, kd = self.heads * self.head_dim, self.kv_heads * self.head_dim
            q, k, v = qkv[:, :qd], qkv[:, qd:qd + kd], qkv[:, qd + kd:]
        else:
            q, k, v = (x @ t[p + f"attn_{n}.weight"].T for n in "qkv")
        if self.arch == "qwen2":
            q, k, v = q + t[p + "attn_q.bias"], k + t[p + "attn_k.bias"], v + t[p + "attn_v.bias"]
        q = q.reshape(T, self.heads, self.head_dim)
        k = k.reshape(T, self.kv_heads, self.head_dim)
        v = v.reshape(T, self.kv_heads, self.head_dim)
        if self.arch in ("qwen3", "gemma3"):  # per-head RMSNorm before the rotation
            q, k = rms_norm(q, t[p + "attn_q_norm.weight"], self.eps), rms_norm(k, t[p + "attn_k_norm.weight"], self.eps)
        local = self.is_local(layer)
        inv = self.inv_local if local else self.inv_global
        q, k = rope(q, pos, inv, self.attn_factor, self.neox), rope(k, pos, inv, self.attn_factor, self.neox)
        rep = self.heads // self.kv_heads
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        s = torch.einsum("qhd,khd->hqk", q, k) * self.scale
        if self.attn_cap:
            s = torch.tanh(s / self.attn_cap) * self.attn_cap
        i, j = pos[:, None], pos[None, :]
        allowed = j <= i
        if local:
            allowed &= j > i - self.window
        s = s.masked_fill(~allowed[None], float("-inf"))
        o = torch.einsum("hqk,khd->qhd", torch.softmax(s, dim=-1), v).reshape(T, -1)
        return o @ t[p + "attn_output.weight"].T

    def feed_forward(self, x, p):
        t = self.t
        if self.arch == "phi3":
            gu = x @ t[p + "ffn_up.weight"].T
            gate, up = gu.chunk(2, dim=-1)
        else:
            gate, up = x @ t[p + "ffn_gate.weight"].T, x @ t[p + "ffn_up.weight"].T
        act = torch.nn.functional.gelu(gate, approximate="tanh") if self.gemma else torch.nn.functional.silu(gate)
        return (act * up) @ t[p + "ffn_down.weight"].T

    def logits(self, tokens):
        t = self.t
        pos = torch.arange(len(tokens))
        x = t["token_embd.weight"][torch.tensor(tokens)]
        if self.gemma:
            x = x * torch.tensor(self.dim ** 0.5, dtype=torch.float32).double()
        for layer in range(self.layers):
            p = f"blk.{layer}."
            h = self.attention(rms_norm(x, t[p + "attn_norm.weight"], self.eps), p, layer, pos)
            if self.gemma:
                h = rms_norm(h, t[p + "post_attention_norm.weight"], self.eps)
            x = x + h
            h = self.feed_forward(rms_norm(x, t[p + "ffn_norm.weight"], self.eps), p)
            if self.gemma:
                h = rms_norm(h, t[p + "post_ffw_norm.weight"], self.eps)
            x = x + h
        out = t.get("output.weight", t["token_embd.weight"])
        logits = rms_norm(x, t["output_norm.weight"], self.eps) @ out.T
        if self.final_cap:
            logits = torch.tanh(logits / self.final_cap) * self.final_cap
        return logits


def prompt(n, salt, vocab):
    return [(i * 37 + salt * 101 + 5) % vocab for i in range(n)]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model = Model(sys.argv[1])
    vocab = model.t["token_embd.weight"].shape[0]
    lines = [f"# {model.arch}: reference logits from tools/family_reference.py (float64 PyTorch)"]
    for n, salt in ((5, 1), (17, 2), (40, 3), (60, 4)):  # 17 > 2 windows of 8; 40, 60 > 24
        tokens = prompt(n, salt, vocab)
        logits = model.logits(tokens)
        lines.append("prompt " + " ".join(map(str, tokens)))
        for p in sorted({n // 2, n - 1}):
            lines.append(f"logits {p} " + " ".join(f"{v:.6g}" for v in logits[p].tolist()))
    open(sys.argv[2], "w").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
