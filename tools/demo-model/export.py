# SPDX-License-Identifier: GPL-3.0-or-later
"""GGUF export of the demo model and the reference outputs the C++ engine's tests compare to."""
import json

import numpy as np
import torch

import gguf_io as G
import spm_tokenizer as S

REFERENCE_PROMPTS = [
    "The capital of France is",
    "The capital of Japan is",
    "Paris is the capital of",
    "Once upon a time, there was a little",
    "The day after Monday is",
    "Two plus three is",
    "Hello, w\u00f6rld! 42",  # exercises byte fallback and digits
]

TOKENIZER_CASES = [
    "", "The capital of France is", "Hello world", " leading space", "two  spaces",
    "Caf\u00e9 \u00fcber \u2603 \U0001F600", "line one\nline two", "N'Djamena, Port-au-Prince.",
    "1234567890", "unbelievably quixotic", "\u2581 literal lower block", "tab\there",
]


def rounded_f16(model):
    """A copy of the model whose matrices are rounded to F16 (as stored in the GGUF); the 1-D
    norm weights stay F32. Its float32 forward pass is what the engine computes."""
    import copy
    m = copy.deepcopy(model)
    with torch.no_grad():
        for p in m.parameters():
            if p.dim() == 2:
                p.copy_(p.half().float())
    return m


def gguf_tensors(model):
    def mat(w):  # torch [out, in] row-major == ggml ne = [in, out]
        return w.detach().float().numpy()
    t = [("token_embd.weight", mat(model.tok_emb.weight), G.GGML_F16)]
    for i, b in enumerate(model.blocks):
        p = "blk.%d." % i
        t += [(p + "attn_norm.weight", mat(b.attn_norm.weight), G.GGML_F32),
              (p + "attn_q.weight", mat(b.wq.weight), G.GGML_F16),
              (p + "attn_k.weight", mat(b.wk.weight), G.GGML_F16),
              (p + "attn_v.weight", mat(b.wv.weight), G.GGML_F16),
              (p + "attn_output.weight", mat(b.wo.weight), G.GGML_F16),
              (p + "ffn_norm.weight", mat(b.ffn_norm.weight), G.GGML_F32),
              (p + "ffn_gate.weight", mat(b.w_gate.weight), G.GGML_F16),
              (p + "ffn_up.weight", mat(b.w_up.weight), G.GGML_F16),
              (p + "ffn_down.weight", mat(b.w_down.weight), G.GGML_F16)]
    t += [("output_norm.weight", mat(model.norm.weight), G.GGML_F32),
          ("output.weight", mat(model.output.weight), G.GGML_F16)]
    return t


def gguf_kvs(cfg, vocab):
    A = G.T_ARRAY
    return [
        ("general.architecture", G.T_STRING, "llama"),
        ("general.name", G.T_STRING, "batchscope-demo"),
        ("general.license", G.T_STRING, "GPL-3.0-or-later"),
        ("general.file_type", G.T_UINT32, 1),  # LLAMA_FTYPE_MOSTLY_F16
        ("general.alignment", G.T_UINT32, G.ALIGNMENT),
        ("llama.context_length", G.T_UINT32, cfg.context_length),
        ("llama.embedding_length", G.T_UINT32, cfg.dim),
        ("llama.block_count", G.T_UINT32, cfg.n_layers),
        ("llama.feed_forward_length", G.T_UINT32, cfg.ffn_dim),
        ("llama.attention.head_count", G.T_UINT32, cfg.n_heads),
        ("llama.attention.head_count_kv", G.T_UINT32, cfg.n_kv_heads),
        ("llama.attention.layer_norm_rms_epsilon", G.T_FLOAT32, cfg.norm_eps),
        ("llama.rope.freq_base", G.T_FLOAT32, cfg.rope_base),
        ("llama.rope.dimension_count", G.T_UINT32, cfg.head_dim),
        ("llama.vocab_size", G.T_UINT32, len(vocab)),
        ("tokenizer.ggml.model", G.T_STRING, "llama"),
        ("tokenizer.ggml.tokens", (A, G.T_STRING), vocab.tokens),
        ("tokenizer.ggml.scores", (A, G.T_FLOAT32), vocab.scores),
        ("tokenizer.ggml.token_type", (A, G.T_INT32), vocab.types),
        ("tokenizer.ggml.bos_token_id", G.T_UINT32, S.BOS),
        ("tokenizer.ggml.eos_token_id", G.T_UINT32, S.EOS),
        ("tokenizer.ggml.unknown_token_id", G.T_UINT32, S.UNK),
        ("tokenizer.ggml.add_bos_token", G.T_BOOL, True),
        ("tokenizer.ggml.add_eos_token", G.T_BOOL, False),
        ("tokenizer.ggml.add_space_prefix", G.T_BOOL, True),
    ]


def export_gguf(path, model, vocab):
    tensors = gguf_tensors(model)
    G.write(path, gguf_kvs(model.cfg, vocab), tensors)
    # Read back and verify every tensor and the vocabulary round-trip.
    kv, back = G.read(path)
    assert kv["tokenizer.ggml.tokens"] == vocab.tokens
    assert kv["general.architecture"] == "llama"
    for name, arr, gtype in tensors:
        want = arr.astype(np.float16) if gtype == G.GGML_F16 else arr.astype(np.float32)
        assert back[name].shape == want.shape, name
        assert np.array_equal(back[name], want), name
    return len(tensors)


MARGIN = 0.05  # top-1 minus top-2 logit below which a greedy step may flip under 1e-3 error


@torch.no_grad()
def greedy_with_margins(model, ids, n):
    ids, out, margins = list(ids), [], []
    for _ in range(n):
        logits = model(torch.tensor([ids]))[0, -1]
        top = torch.topk(logits, 2).values
        t = int(torch.argmax(logits))
        out.append(t)
        margins.append(float(top[0] - top[1]))
        ids.append(t)
    return out, margins


def _f(x):
    return float("%.8g" % x)


def reference(model16, vocab, n_gen=12):
    """model16: the F16-rounded model. Returns the reference dict (float32 computation)."""
    cases = []
    for prompt in REFERENCE_PROMPTS:
        ids = vocab.encode(prompt, add_bos=True)
        with torch.no_grad():
            logits = model16(torch.tensor([ids]))[0, -1]
        gen, margins = greedy_with_margins(model16, ids, n_gen)
        reliable = next((i for i, m in enumerate(margins) if m < MARGIN), len(margins))
        top = torch.topk(logits, 5)
        cases.append({
            "prompt": prompt,
            "prompt_ids": ids,
            "prompt_pieces": [vocab.tokens[i] for i in ids],
            "next_token_logits": [_f(x) for x in logits.tolist()],
            "top5_ids": top.indices.tolist(),
            "top5_logits": [_f(x) for x in top.values.tolist()],
            "greedy_ids": gen,
            "greedy_text": vocab.decode(gen),
            "greedy_margins": [_f(m) for m in margins],
            "greedy_reliable_prefix": reliable,
            "first_eos_index": gen.index(S.EOS) if S.EOS in gen else None,
        })
    tok_cases = [{"text": t, "ids_with_bos": vocab.encode(t, add_bos=True),
                  "decoded": vocab.decode(vocab.encode(t, add_bos=True), True)}
                 for t in TOKENIZER_CASES]
    return {
        "model": "demo.gguf",
        "notes": ("next_token_logits: float32 forward pass with the F16 weights of demo.gguf "
                  "(norm weights F32), logits at the last prompt position, full vocabulary. "
                  "greedy_ids: 12 argmax steps from the prompt, EOS not treated specially "
                  "(first_eos_index says where the first </s> is, if any). greedy_margins: top-1 "
                  "minus top-2 logit per step; greedy_reliable_prefix: number of leading "
                  "steps whose margins are all >= 0.05, i.e. the part of greedy_ids an engine "
                  "with 1e-3 relative logit error must reproduce exactly. greedy_text: "
                  "concatenated token bytes, leading space kept. tokenizer_cases: llama.cpp "
                  "SPM encoding with add_space_prefix=true and BOS; 'decoded' strips the "
                  "one leading space."),
        "vocab_size": len(vocab),
        "bos_id": S.BOS, "eos_id": S.EOS, "unk_id": S.UNK,
        "cases": cases,
        "tokenizer_cases": tok_cases,
    }


def write_reference(path, ref):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
