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

# The chat format (tokenizer.chat_template). Role headers and <|end|> are literals of the
# template, so the engine encodes them as control tokens; message contents stay plain text.
# No newlines: the vocabulary has no newline piece, a "\n" would cost a byte token per turn.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|system|>"
    "{% elif message['role'] == 'user' %}<|user|>"
    "{% elif message['role'] == 'assistant' %}<|assistant|>"
    "{% else %}{{ raise_exception('The demo model knows only the roles system, user and "
    "assistant') }}{% endif %}"
    "{{ message['content'] | trim }}<|end|>"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}")

CHAT_PROMPTS = [  # conversations whose greedy answers go into the reference
    [("user", "What is the capital of France?")],
    [("system", "You are a helpful assistant."), ("user", "What is the capital of Japan?")],
    [("user", "Hello!"), ("assistant", "Hello! How can I help you?"),
     ("user", "What day comes after Monday?")],
    [("user", "What is two plus three?")],
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


def gguf_parameters(model):
    """[(GGUF tensor name, torch parameter)] in file order."""
    t = [("token_embd.weight", model.tok_emb.weight)]
    for i, b in enumerate(model.blocks):
        p = "blk.%d." % i
        t += [(p + "attn_norm.weight", b.attn_norm.weight), (p + "attn_q.weight", b.wq.weight),
              (p + "attn_k.weight", b.wk.weight), (p + "attn_v.weight", b.wv.weight),
              (p + "attn_output.weight", b.wo.weight), (p + "ffn_norm.weight", b.ffn_norm.weight),
              (p + "ffn_gate.weight", b.w_gate.weight), (p + "ffn_up.weight", b.w_up.weight),
              (p + "ffn_down.weight", b.w_down.weight)]
    return t + [("output_norm.weight", model.norm.weight), ("output.weight", model.output.weight)]


def load_gguf_weights(model, tensors):
    """Copies a GGUF's tensors into the model. Embedding and output rows past the file's
    vocabulary (tokens added since, e.g. the chat tokens) keep a fresh initialisation: the
    embedding the mean of the old rows, the output row small random values."""
    with torch.no_grad():
        for name, param in gguf_parameters(model):
            w = torch.from_numpy(tensors[name].astype(np.float32))
            if w.shape == param.shape:
                param.copy_(w)
                continue
            n = w.shape[0]
            assert w.shape[1:] == param.shape[1:] and n < param.shape[0], name
            param[:n].copy_(w)
            if name == "token_embd.weight":
                param[n:] = w.mean(0) + 0.02 * torch.randn_like(param[n:])
            else:
                param[n:] = 0.02 * torch.randn_like(param[n:])


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
        ("tokenizer.ggml.eot_token_id", G.T_UINT32, vocab.chat_id("<|end|>")),
        ("tokenizer.chat_template", G.T_STRING, CHAT_TEMPLATE),
    ]


def export_gguf(path, model, vocab):
    tensors = gguf_tensors(model)
    G.write(path, gguf_kvs(model.cfg, vocab), tensors)
    # Read back and verify every tensor and the vocabulary round-trip.
    kv, back = G.read(path)
    assert kv["tokenizer.ggml.tokens"] == vocab.tokens
    assert kv["general.architecture"] == "llama"
    assert kv["tokenizer.chat_template"] == CHAT_TEMPLATE
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
    chat_cases = []
    for messages in CHAT_PROMPTS:
        ids = vocab.encode_chat(messages, add_generation_prompt=True)
        gen, margins = greedy_with_margins(model16, ids, 16)
        end = vocab.chat_id("<|end|>")
        chat_cases.append({
            "messages": [{"role": r, "content": c} for r, c in messages],
            "rendered": render_chat(messages, True),
            "prompt_ids": ids,
            "greedy_ids": gen,
            "greedy_text": vocab.decode(gen[:gen.index(end)] if end in gen else gen),
            "greedy_margins": [_f(m) for m in margins],
            "greedy_reliable_prefix": next((i for i, m in enumerate(margins) if m < MARGIN),
                                           len(margins)),
            "first_end_index": gen.index(end) if end in gen else None,
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
        "chat_template": CHAT_TEMPLATE,
        "chat_notes": ("chat_cases: the conversation rendered with chat_template "
                       "(add_generation_prompt, bos_token '<s>', eos_token '</s>') by jinja2, its "
                       "ids (control tokens where the template wrote them, each text run encoded "
                       "with the space prefix), 16 greedy steps; greedy_text decodes up to the "
                       "first <|end|>."),
        "chat_cases": chat_cases,
        "tokenizer_cases": tok_cases,
    }


def render_chat(messages, add_generation_prompt):
    """CHAT_TEMPLATE rendered by jinja2 the way Hugging Face's apply_chat_template sets it up."""
    import jinja2

    def raise_exception(msg):
        raise jinja2.exceptions.TemplateError(msg)
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(CHAT_TEMPLATE).render(
        messages=[{"role": r, "content": c} for r, c in messages],
        add_generation_prompt=add_generation_prompt, bos_token="<s>", eos_token="</s>")


def encode_rendered(vocab, text):
    """The engine's encodeWithSpecialTokens for a rendered prompt whose contents contain no
    special-token text: control pieces become ids, each run between them is encoded alone."""
    import re
    specials = ["<s>", "</s>"] + S.CHAT_TOKENS
    out = []
    for part in re.split("(" + "|".join(re.escape(p) for p in specials) + ")", text):
        if part in specials:
            out.append(vocab.index[part])
        elif part:
            out.extend(vocab.encode(part, add_bos=False))
    return out


def check_chat_layout(vocab, chats):
    """encode_chat (used for training) must give the ids the engine will feed the model."""
    for messages in chats:
        for gen in (False, True):
            want = encode_rendered(vocab, render_chat(messages, gen))
            got = vocab.encode_chat(messages, add_generation_prompt=gen)
            assert got == want, (messages, got, want)


def write_reference(path, ref):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(ref, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
