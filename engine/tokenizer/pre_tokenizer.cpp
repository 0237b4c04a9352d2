// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/pre_tokenizer.h"

#include <array>

namespace batchscope::engine {

namespace {

// The patterns as published in the models' tokenizer.json (HuggingFace `tokenizers`), which is
// what the vocabularies were trained with; llama.cpp's llama-vocab.cpp lists the same splits
// (rewritten there for std::regex). A HuggingFace `Digits(individual_digits=true)` step is the
// regex \p{N} (Rust's char::is_numeric is exactly the N categories); `Punctuation` is
// [\p{P}$+<=>^`|~] (the general category P plus ASCII punctuation outside it).
// tools/gen_pretokenizer_splits.py holds the same lists and checks them with Python's `regex`.

constexpr std::string_view kGpt2 =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr std::array<std::string_view, 4> kDefaultPatterns = {
    R"([\p{P}\$\+<=>\^~\|]+)", kGpt2, R"(\p{N}+)", R"([0-9][0-9][0-9])"};
constexpr std::array<std::string_view, 1> kGpt2Patterns = {kGpt2};
constexpr std::array<std::string_view, 1> kLlama3Patterns = {kLlama3};
constexpr std::array<std::string_view, 1> kQwen2Patterns = {kQwen2};
constexpr std::array<std::string_view, 2> kStarcoderPatterns = {R"(\p{N})", kGpt2};
constexpr std::array<std::string_view, 3> kFalconPatterns = {
    R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, R"([0-9][0-9][0-9])"};
// The letter class is Unicode's cased letters (Lu, Ll, Lt) in these blocks. Code points whose
// NFC form differs (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) are written as \x{..} so no
// editor or tool can normalize them into different characters.
constexpr std::array<std::string_view, 6> kDeepseekLlmPatterns = {
    R"([\r\n])",
    R"(\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-\x{1F7D}ᾀ-ᾴᾶ-ᾼ\x{1FBE}ῂ-ῄῆ-ῌῐ-\x{1FD3}ῖ-\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\x{2126}ℨ\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+)",
    R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)",
    R"(\s+$)",
    R"([一-龥ࠀ-一가-퟿]+)",
    R"(\p{N}+)"};
constexpr std::array<std::string_view, 5> kDeepseekCoderPatterns = {
    R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)", R"([一-龥ࠀ-一가-퟿]+)", R"(\p{N})"};
constexpr std::array<std::string_view, 1> kBloomPatterns = {R"( ?[^(\s|.,!?…。，、।۔،)]+)"};

using T = PreTokenizerType;
// name, type, ignoreMerges, addBos — as llama.cpp's llama_vocab::load.
constexpr PreTokenizerName kNames[] = {
    {"default", T::Default, false, false},
    {"llama3", T::Llama3, true, true},
    {"llama-v3", T::Llama3, true, true},
    {"llama-bpe", T::Llama3, true, true},
    {"falcon3", T::Llama3, true, true},
    {"dbrx", T::Llama3, false, false},
    {"smaug-bpe", T::Llama3, false, false},
    {"qwen2", T::Qwen2, false, false},
    {"deepseek-r1-qwen", T::Qwen2, false, false},
    {"stablelm2", T::Qwen2, false, false},
    {"megrez", T::Qwen2, false, false},
    {"gpt-2", T::Gpt2, false, false},
    {"phi-2", T::Gpt2, false, false},
    {"mpt", T::Gpt2, false, false},
    {"olmo", T::Gpt2, false, false},
    {"jais", T::Gpt2, false, false},
    {"starcoder", T::Starcoder, false, false},
    {"refact", T::Starcoder, false, false},
    {"command-r", T::Starcoder, false, false},
    {"smollm", T::Starcoder, false, false},
    {"codeshell", T::Starcoder, false, false},
    {"exaone", T::Starcoder, false, false},
    {"minerva-7b", T::Starcoder, false, false},
    {"falcon", T::Falcon, false, false},
    {"deepseek-llm", T::DeepseekLlm, false, false},
    {"deepseek-coder", T::DeepseekCoder, false, false},
    {"bloom", T::Bloom, false, false},
    {"poro-chat", T::Bloom, false, false},
    {"gpt3-finnish", T::Bloom, false, false},
    {"jina-es", T::Gpt2, false, false},
    {"jina-de", T::Gpt2, false, false},
};

}  // namespace

std::span<const PreTokenizerName> preTokenizerNames() { return kNames; }

std::optional<PreTokenizerName> findPreTokenizer(std::string_view name) {
    for (const auto& entry : kNames) {
        if (entry.name == name) return entry;
    }
    return std::nullopt;
}

std::span<const std::string_view> preTokenizerPatterns(PreTokenizerType type) {
    switch (type) {
        case T::Default: return kDefaultPatterns;
        case T::Gpt2: return kGpt2Patterns;
        case T::Llama3: return kLlama3Patterns;
        case T::Qwen2: return kQwen2Patterns;
        case T::Starcoder: return kStarcoderPatterns;
        case T::Falcon: return kFalconPatterns;
        case T::DeepseekLlm: return kDeepseekLlmPatterns;
        case T::DeepseekCoder: return kDeepseekCoderPatterns;
        case T::Bloom: return kBloomPatterns;
    }
    return kDefaultPatterns;
}

Result<PreTokenizer> PreTokenizer::create(PreTokenizerType type) {
    PreTokenizer pre;
    pre.m_type = type;
    for (std::string_view pattern : preTokenizerPatterns(type)) {
        auto splitter = RegexSplitter::compile(pattern);
        if (!splitter.ok()) return makeError(ErrorCode::Internal, splitter.error().message);
        pre.m_splitters.push_back(std::move(splitter).value());
    }
    return pre;
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
    std::vector<std::string_view> pieces;
    if (text.empty()) return pieces;
    pieces.push_back(text);
    std::vector<std::string_view> next;
    for (const RegexSplitter& splitter : m_splitters) {
        next.clear();
        next.reserve(pieces.size() * 2);
        for (std::string_view piece : pieces) splitter.split(piece, next);
        pieces.swap(next);
    }
    return pieces;
}

}  // namespace batchscope::engine
