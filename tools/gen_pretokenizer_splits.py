#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generates the pre-tokenizer reference splits the C++ test compares against
(tests/engine/tokenizer/test_pre_tokenizer_splits.cpp): each pre-tokenizer's published regexes
(the models' tokenizer.json, HuggingFace `tokenizers`) run by Python's `regex` module over a
small multilingual corpus. No Python is needed at test time: the outputs are committed.

Needs Debian's python3-regex. Usage (from the repository root):
    /usr/bin/python3 tools/gen_pretokenizer_splits.py tests/engine/tokenizer/data

Writes:
  pretokenizer_corpus.txt  the texts, each followed by a line "__ggml_vocab_test__"
  pretokenizer_splits.txt  "pre NAME" then, per text, the UTF-8 byte lengths of its pieces
"""
import os
import sys
import unicodedata

import regex

# The GPT-2 ByteLevel regex, and the single-regex pre-tokenizers (tokenizer.json `Split`).
GPT2 = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3 = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"""
          r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
QWEN2 = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"""
         r""" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
# DeepSeek LLM's letter class, with the code points whose NFC form differs written as escapes
# (Python decodes them before the regex sees them).
DEEPSEEK_LETTERS = ("A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚ"
                    "Ḁ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\u1f7dᾀ-ᾴᾶ-ᾼ\u1fbeῂ-ῄῆ-ῌῐ-\u1fd3ῖ-\u1fdbῠ-Ῥῲ-ῴῶ-ῼ"
                    "ℂℇℊ-ℓℕℙ-ℝℤ\u2126ℨ\u212a-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿ"
                    "ﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃")
CJK = "[一-龥ࠀ-一가-퟿]+"

# Sequences of regexes, each splitting the pieces of the previous one (matches and the gaps
# between them are pieces: HuggingFace's Split(behavior="isolated")). HuggingFace's
# Digits(individual_digits) is \p{N} (Rust char::is_numeric), Digits(contiguous) \p{N}+,
# Punctuation(contiguous) [\p{P}$+<=>^`|~]+ (category P or ASCII punctuation).
PRE_TOKENIZERS = {
    "default": [r"[\p{P}\$\+<=>\^~\|]+", GPT2, r"\p{N}+", r"[0-9][0-9][0-9]"],
    "gpt-2": [GPT2],
    "llama3": [LLAMA3],
    "qwen2": [QWEN2],
    "smollm": [r"\p{N}", GPT2],
    "falcon": [r"[\p{P}\$\+<=>\^~\|`]+", GPT2, r"[0-9][0-9][0-9]"],
    "deepseek-llm": [r"[\r\n]", r"\s?[" + DEEPSEEK_LETTERS + r"]+", r"\s?[!-/:-~！-／：-～‘-‟　-。]+",
                     r"\s+$", CJK, r"\p{N}+"],
    "deepseek-coder": [r"[\r\n]", r"\s?\p{L}+", r"\s?\p{P}+", CJK, r"\p{N}"],
    "bloom": [r" ?[^(\s|.,!?…。，、।۔،)]+"],
}

CORPUS = [
    "Hello world",
    " Hello World!",
    "I'm sure you've seen it; they'll say we'd DON'T, SHE'S, WE'LL, I'M, 'ſ and 'S.",
    "ied 4 ½ months, x² + y³ = z¹, ¼ cup, Ⅻ o'clock, ٣٤٥ and ४२ and 𝟙𝟚𝟛",
    "3 33 333 3333 33333 333333 1234567890 12,345.67 -42 +7 1e10 0x1F",
    "The year 2024 was 365 days; π ≈ 3.14159…",
    "  leading spaces and trailing spaces   ",
    "tabs\tand\t\tmore\ttabs\t",
    "line one\nline two\n\nline four\r\nwindows\r\n\r\n",
    "\n\n\n   \n\t\n  x",
    "mixed\u00a0no-break\u2003em space\u3000ideographic\u0085nel\u180emongolian\u200bzero width",
    "Привет, мир! Как дела? Ёлка и щётка.",
    "Ελληνικά: Αθήνα, ώρα, ΐ, ᾼ, ι, Ω and Kelvin K, Ångström Å.",
    "中文测试：我想在apple工作1314151天～，好吗？",
    "日本語のテキスト、カタカナとひらがな。東京タワー",
    "한국어 텍스트입니다. 안녕하세요!",
    "हिन्दी में पाठ, क्षत्रिय। संख्या १२३",
    "العربية: مرحبا بالعالم، كيف حالك؟ ١٢٣",
    "עברית: שלום עולם",
    "ภาษาไทย สวัสดีครับ",
    "Emoji 😁🚀 👍🏽 family 👨\u200d👩\u200d👧 flags 🇩🇪 ❤️",
    "Fullwidth ＡＢＣ ａｂｃ １２３ ！？ ‘quoted’ “double” «guillemets»",
    "ﬁnance ﬂow — em dash – en dash … ellipsis · middle dot",
    "int main() { return a<=b && c>=d || e!=f; } // C++ $var ^ ~x | y `tick`",
    "def f(x):\n    return x ** 2  # square\n\n\tpass",
    "<|im_start|>user\nhi<|im_end|> <|eot_id|> <s></s> [INST] ### Response:",
    "https://example.com/path?q=1&r=two#frag user@example.org",
    "Führer Ünïcödé naïve café résumé Zürich façade",
    "   \t  \n  mixed   whitespace\t\t\n",
    "a  b   c    d     e",
    "!!!???...,,,;;;:::---___***",
    "Combining: e\u0301 a\u0308 n\u0303 and Devanagari क\u094d\u0937",
]


def split(patterns, text):
    pieces = [text]
    for pattern in patterns:
        compiled = regex.compile(pattern)
        out = []
        for piece in pieces:
            pos = 0
            for m in compiled.finditer(piece):
                if m.start() == m.end():
                    continue
                if m.start() > pos:
                    out.append(piece[pos:m.start()])
                out.append(m.group())
                pos = m.end()
            if pos < len(piece):
                out.append(piece[pos:])
        pieces = out
    assert "".join(pieces) == text
    return pieces


def check_corpus():
    # PCRE2 10.42 (Debian 12) knows Unicode 14, Python's regex module 15: keep to characters
    # that Unicode 14 (this Python's unicodedata) has assigned.
    for text in CORPUS:
        for ch in text:
            if unicodedata.category(ch) == "Cn":
                sys.exit(f"U+{ord(ch):04X} is unassigned in Unicode {unicodedata.unidata_version}")
        if "__ggml_vocab_test__" in text:
            sys.exit("a corpus text contains the separator")


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "tests/engine/tokenizer/data"
    check_corpus()
    with open(os.path.join(out_dir, "pretokenizer_corpus.txt"), "w", encoding="utf-8", newline="") as f:
        for text in CORPUS:
            f.write(text + "\n__ggml_vocab_test__\n")
    with open(os.path.join(out_dir, "pretokenizer_splits.txt"), "w", encoding="utf-8", newline="") as f:
        f.write("# GENERATED by tools/gen_pretokenizer_splits.py with Python regex "
                f"{regex.__version__}. Do not edit.\n")
        f.write("# Per pre-tokenizer, per corpus text: the UTF-8 byte lengths of its pieces.\n")
        for name, patterns in PRE_TOKENIZERS.items():
            f.write(f"pre {name}\n")
            for text in CORPUS:
                f.write(" ".join(str(len(p.encode("utf-8"))) for p in split(patterns, text)) + "\n")


if __name__ == "__main__":
    main()
