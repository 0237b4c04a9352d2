#!/usr/bin/env python3
# Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): small, valid inputs that
# reach deep into each parser. Deterministic; rerun after changing it and commit the output.
# SPDX-License-Identifier: GPL-3.0-or-later
import json, os, struct, shutil, sys

HERE = os.path.dirname(os.path.abspath(__file__))

def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# ---- GGUF (v3 little-endian: magic, version, tensor count, kv count, kvs, tensor infos, data)
def gstr(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}

def gval(t, v):
    if t == 8:
        return gstr(v)
    if t == 9:
        et, items = v
        return struct.pack("<IQ", et, len(items)) + b"".join(gval(et, x) for x in items)
    return struct.pack(SCALAR[t], v)

def gguf(kvs, tensors=(), version=3, alignment=32):
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, t, v in kvs:
        head += gstr(key) + struct.pack("<I", t) + gval(t, v)
    offset, blobs = 0, []
    for name, dims, ttype, data in tensors:
        head += gstr(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        head += struct.pack("<IQ", ttype, offset)
        pad = (-len(data)) % alignment
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad
    head += b"\0" * ((-len(head)) % alignment)
    return head + b"".join(blobs)

def seeds_gguf():
    out("gguf", "empty_v3.gguf", gguf([]))
    out("gguf", "arch_only_v2.gguf", gguf([("general.architecture", 8, "llama")], version=2))
    every = [("u8", 0, 7), ("i8", 1, -7), ("u16", 2, 700), ("i16", 3, -700), ("u32", 4, 70000),
             ("i32", 5, -70000), ("f32", 6, 1.5), ("bool", 7, True), ("str", 8, "h\u00e9llo"),
             ("u64", 10, 1 << 40), ("i64", 11, -(1 << 40)), ("f64", 12, 2.25),
             ("arr.u32", 9, (4, [1, 2, 3])), ("arr.str", 9, (8, ["a", "bc", ""])),
             ("arr.arr", 9, (9, [(5, [1, -1])])), ("general.alignment", 4, 32)]
    f32 = struct.pack("<8f", *range(8))
    f16 = struct.pack("<4e", 0.5, 1.0, -2.0, 65504.0)
    q8 = bytes(34)  # one Q8_0 block of 32 weights
    out("gguf", "all_types_tensors.gguf", gguf(
        [("general.architecture", 8, "llama")] + every,
        [("token_embd.weight", [4, 2], 0, f32), ("norm.weight", [4], 1, f16), ("q.weight", [32], 8, q8)]))
    llama = [("general.architecture", 8, "llama"), ("llama.context_length", 4, 64),
             ("llama.embedding_length", 4, 8), ("llama.block_count", 4, 1), ("llama.attention.head_count", 4, 2),
             ("llama.feed_forward_length", 4, 16), ("llama.attention.head_count_kv", 4, 1),
             ("llama.rope.freq_base", 6, 10000.0), ("llama.attention.layer_norm_rms_epsilon", 6, 1e-5)]
    spm_tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + \
                 ["\u2581", "\u2581the", "\u2581a", "he", "llo", "\u2581hello", "wor", "ld", "\u2581world"]
    spm_types = [2, 3, 3] + [6] * 256 + [1] * 9
    out("gguf", "llama_spm_tokenizer.gguf", gguf(llama + [
        ("tokenizer.ggml.model", 8, "llama"),
        ("tokenizer.ggml.tokens", 9, (8, spm_tokens)),
        ("tokenizer.ggml.scores", 9, (6, [-float(i) for i in range(len(spm_tokens))])),
        ("tokenizer.ggml.token_type", 9, (5, spm_types)),
        ("tokenizer.ggml.bos_token_id", 4, 1), ("tokenizer.ggml.eos_token_id", 4, 2),
        ("tokenizer.ggml.unknown_token_id", 4, 0),
        ("tokenizer.chat_template", 8, "{% for m in messages %}{{ m.content }}{% endfor %}")]))
    byte_chars = [chr(c) for c in range(33, 127)] + [chr(c) for c in range(161, 173)] + [chr(c) for c in range(174, 256)]
    byte_chars += [chr(256 + i) for i in range(256 - len(byte_chars))]
    bpe_tokens = byte_chars + ["\u0120t", "he", "\u0120the", "ll", "llo", "<|endoftext|>"]
    bpe_types = [1] * (len(bpe_tokens) - 1) + [3]
    out("gguf", "gpt2_bpe_tokenizer.gguf", gguf([("general.architecture", 8, "gpt2"),
        ("tokenizer.ggml.model", 8, "gpt2"), ("tokenizer.ggml.pre", 8, "gpt-2"),
        ("tokenizer.ggml.tokens", 9, (8, bpe_tokens)),
        ("tokenizer.ggml.token_type", 9, (5, bpe_types)),
        ("tokenizer.ggml.merges", 9, (8, ["\u0120 t", "h e", "\u0120t he", "l l", "ll o"])),
        ("tokenizer.ggml.bos_token_id", 4, len(bpe_tokens) - 1),
        ("tokenizer.ggml.eos_token_id", 4, len(bpe_tokens) - 1)]))

# ---- Tokenizer: byte 0 picks the tokenizer, byte 1 the mode (bit 0: ids instead of text)
def seeds_tokenizer():
    texts = ["Hello world", " Hello World!", "\t\n  tabs and\r\nnewlines", "caf\u00e9 na\u00efve \u4e2d\u6587 \U0001F600",
             "3333 12.5e-3 $x_1 = y^2", "<s></s><|endoftext|><unk>", "\u2581\u2581\u2581 ", "I'm don't we'll",
             "\xff\xfe invalid", ""]
    for sel in range(7):
        for i, t in enumerate(texts):
            data = t.encode("latin-1") if t.startswith("\xff") else t.encode()
            out("tokenizer", "t%d_text%d" % (sel, i), bytes([sel, (i % 3) * 2]) + data)
        out("tokenizer", "t%d_ids" % sel, bytes([sel, 1]) + struct.pack("<12H", 0, 1, 2, 3, 100, 259, 260, 1000,
                                                                         13, 29871, 65535, 40000))
        out("tokenizer", "t%d_ids_stop" % sel, bytes([sel, 13]) + bytes(range(64)))

# ---- WebSocket protocol: one text frame each
def seeds_protocol():
    msgs = [
        {"type": "hello", "id": "h1", "protocol": "batchscope.v1", "token": "3f9ce1", "client": "my-tool"},
        {"type": "generate", "id": "g1", "prompt": "Once upon a time", "max_tokens": 64, "priority": "high",
         "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1,
         "stop": ["\n\n"], "seed": 42, "timeout_ms": 30000, "stream": True, "ignore_eos": False},
        {"type": "generate", "id": 3, "prompt": "x", "priority": 2},
        {"type": "cancel", "id": "c1", "request_id": 17},
        {"type": "set_priority", "id": "p1", "request_id": 17, "priority": "critical"},
        {"type": "list_requests", "id": "l1"}, {"type": "get_stats", "id": "s1"},
        {"type": "get_model", "id": "m1"}, {"type": "ping", "id": 7},
        {"type": "subscribe", "id": "s", "topics": ["steps", "requests", "metrics"], "interval_ms": 500},
        {"type": "unsubscribe", "id": "u", "topics": ["steps"]}, {"type": "unsubscribe"},
    ]
    for i, m in enumerate(msgs):
        out("protocol", "%02d_%s.json" % (i, m["type"]), json.dumps(m, ensure_ascii=False))
    out("protocol", "90_not_object.json", "[1,2,3]")
    out("protocol", "91_bad_types.json", '{"type":"generate","prompt":5,"max_tokens":"a","seed":-1.5}')
    out("protocol", "92_huge_numbers.json", '{"type":"generate","prompt":"a","max_tokens":1e308,"seed":9007199254740993}')

# ---- Chat templates: small templates of our own (tools/fuzz.sh and the replay test add the
# vendors' templates from ../shared/testdata/chat-templates when present; they are not copied
# here), some followed by NUL and a JSON object of variables.
def seeds_chat():
    small = {
        "chatml.jinja": "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content']"
                        " + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}",
        "llama3.jinja": "{{ bos_token }}{% for message in messages %}{% set content = '<|start_header_id|>' + message['role']"
                        " + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' %}{{ content }}{% endfor %}"
                        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}",
        "whitespace.jinja": "{%- for m in messages -%}\n  {%- if m.role == 'user' %} U:{{ m.content }}\n{%- elif m.role == 'assistant' -%}"
                            " A:{{ m.content }}{%- else %}{# comment #} S:{{ m.content|e }}{% endif -%}\n{%- endfor %}{% raw %}{{x}}{% endraw %}",
        "loops.jinja": "{% for m in messages %}{% if loop.first %}[{{ loop.index }}]{% endif %}"
                       "{{ m.role | upper }}: {{ m.content | trim }}{% if not loop.last %}\n{% endif %}{% endfor %}",
        "macro.jinja": "{% macro f(x, y=2) %}{{ x * y }}{% endmacro %}{{ f(3) }}{{ f(2, y=5) }}{% set ns = namespace(a=1) %}"
                       "{% for i in range(3) %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}",
        "filters.jinja": "{{ messages | length }}{{ 'a,b' .split(',') | join('-') }}{{ {'k': [1, 2.5, none]} | tojson }}"
                         "{{ 'x' ~ 1 }}{{ messages[0]['content'][1:3] }}{{ 'abc' | replace('b', 'B') }}",
        "raise.jinja": "{% if messages[0].role == 'system' %}{{ raise_exception('no system') }}{% endif %}",
    }
    for name, text in small.items():
        out("chat_template", name, text)
    out("chat_template", "vars.bin", "{{ a.b[0] }}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}\0"
        + json.dumps({"a": {"b": ["x"]}, "d": {"p": 1, "q": [True, None]}, "bos_token": "<s>"}))

if __name__ == "__main__":
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    seeds_gguf(); seeds_tokenizer(); seeds_protocol(); seeds_chat()
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(os.path.join(HERE, "corpus")) for f in fs)
    print("seed corpora: %d bytes" % total)
