#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Independent check of demo.gguf against demo-reference.json, using only the GGUF file.

Rebuilds the tokenizer from the GGUF metadata, re-encodes every reference prompt, and runs a
NumPy float32 Llama forward pass written the way ggml/llama.cpp computes it (weights read by
their ggml shapes, RoPE mode 0 loop over (i0, i0+1) pairs, GQA head mapping h -> h / (H/Hkv)).
Prints the worst relative logit error; exits non-zero above 1e-3 or on any id mismatch.

  /usr/bin/python3 tools/demo-model/verify_gguf.py resources/models
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_io  # noqa: E402
import spm_tokenizer as S  # noqa: E402


def rms(x, w, eps):
    return (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)) * w


def rope(x, n_pos, base):
    """x: [T, H, hd]; ggml rope mode 0 (GGML_ROPE_TYPE_NORM)."""
    T, H, hd = x.shape
    out = x.copy()
    for p in range(n_pos):
        for i0 in range(0, hd, 2):
            theta = p * base ** (-i0 / hd)
            c, s = np.float32(np.cos(theta)), np.float32(np.sin(theta))
            x0, x1 = x[p, :, i0], x[p, :, i0 + 1]
            out[p, :, i0] = x0 * c - x1 * s
            out[p, :, i0 + 1] = x0 * s + x1 * c
    return out


def forward(kv, t, ids):
    f32 = lambda a: np.asarray(a, dtype=np.float32)  # noqa: E731
    D = kv["llama.embedding_length"]
    H, Hkv = kv["llama.attention.head_count"], kv["llama.attention.head_count_kv"]
    eps, base = kv["llama.attention.layer_norm_rms_epsilon"], kv["llama.rope.freq_base"]
    hd = D // H
    T = len(ids)
    x = f32(t["token_embd.weight"])[ids]  # ne = [D, vocab] -> numpy [vocab, D]
    for L in range(kv["llama.block_count"]):
        g = lambda n: f32(t["blk.%d.%s.weight" % (L, n)])  # noqa: E731
        a = rms(x, g("attn_norm"), eps)
        q = (a @ g("attn_q").T).reshape(T, H, hd)  # numpy [out, in]: y = W x
        k = (a @ g("attn_k").T).reshape(T, Hkv, hd)
        v = (a @ g("attn_v").T).reshape(T, Hkv, hd)
        q, k = rope(q, T, base), rope(k, T, base)
        o = np.zeros((T, H, hd), dtype=np.float32)
        for h in range(H):
            kh = h // (H // Hkv)
            s = (q[:, h, :] @ k[:, kh, :].T) / np.float32(np.sqrt(hd))
            s = np.where(np.tril(np.ones((T, T), bool)), s, -np.inf)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            o[:, h, :] = s @ v[:, kh, :]
        x = x + o.reshape(T, D) @ g("attn_output").T
        f = rms(x, g("ffn_norm"), eps)
        gate, up = f @ g("ffn_gate").T, f @ g("ffn_up").T
        x = x + ((gate / (1 + np.exp(-gate))) * up) @ g("ffn_down").T
    x = rms(x, f32(t["output_norm.weight"]), eps)
    return x[-1] @ f32(t["output.weight"]).T


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "resources/models"
    kv, t = gguf_io.read(os.path.join(d, "demo.gguf"))
    ref = json.load(open(os.path.join(d, "demo-reference.json"), encoding="utf-8"))
    vocab = S.Vocab(kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.scores"],
                    kv["tokenizer.ggml.token_type"])
    bad = 0
    for c in ref["tokenizer_cases"]:
        if vocab.encode(c["text"]) != c["ids_with_bos"]:
            print("tokenizer mismatch:", repr(c["text"]))
            bad += 1
    worst = 0.0
    for c in ref["cases"]:
        ids = vocab.encode(c["prompt"])
        if ids != c["prompt_ids"]:
            print("prompt ids mismatch:", c["prompt"])
            bad += 1
        got = forward(kv, t, ids)
        want = np.asarray(c["next_token_logits"], dtype=np.float64)
        err = np.max(np.abs(got - want)) / max(1e-6, np.max(np.abs(want)))
        worst = max(worst, err)
        if int(np.argmax(got)) != c["greedy_ids"][0]:
            print("argmax mismatch:", c["prompt"])
            bad += 1
        print("%-40r max|diff|/max|ref| = %.2e" % (c["prompt"], err))
    print("worst relative error %.2e, %d mismatches" % (worst, bad))
    return 1 if bad or worst > 1e-3 else 0


if __name__ == "__main__":
    sys.exit(main())
