// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/tokenizer_factory.h"

#include <spdlog/spdlog.h>

#include "engine/model/gguf_file.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/spm_tokenizer.h"

namespace batchscope::engine {

namespace {

Result<std::unique_ptr<Tokenizer>> createSpm(const GgufFile& file) {
    auto vocab = loadVocab(file, /*defaultAddBos=*/true, /*spmDefaults=*/true);
    if (!vocab.ok()) return vocab.error();
    bool addSpacePrefix = true;  // llama.cpp's default for SentencePiece
    if (file.find("tokenizer.ggml.add_space_prefix") != nullptr) {
        auto b = file.getBool("tokenizer.ggml.add_space_prefix");
        if (!b) return makeError(ErrorCode::InvalidFormat, "tokenizer.ggml.add_space_prefix must be a bool");
        addSpacePrefix = *b;
    }
    return std::unique_ptr<Tokenizer>(new SpmTokenizer(std::move(vocab).value(), addSpacePrefix));
}

// tokenizer.ggml.pre -> the pre-tokenizer; a missing key is "default", an unknown name is a
// warning naming it, then "default" (as llama.cpp).
Result<PreTokenizerName> resolvePreTokenizer(const GgufFile& file) {
    const auto fallback = *findPreTokenizer("default");
    if (file.find("tokenizer.ggml.pre") == nullptr) return fallback;
    const auto name = file.getString("tokenizer.ggml.pre");
    if (!name) return makeError(ErrorCode::InvalidFormat, "tokenizer.ggml.pre must be a string");
    if (auto entry = findPreTokenizer(*name)) return *entry;
    spdlog::warn("tokenizer.ggml.pre '{}' is not a known pre-tokenizer; using 'default' (text may be "
                 "split into tokens differently from the model's own tokenizer)", *name);
    return fallback;
}

Result<std::unique_ptr<Tokenizer>> createBpe(const GgufFile& file) {
    auto pre = resolvePreTokenizer(file);
    if (!pre.ok()) return pre.error();
    auto vocab = loadVocab(file, /*defaultAddBos=*/pre->addBos, /*spmDefaults=*/false);
    if (!vocab.ok()) return vocab.error();
    auto preTokenizer = PreTokenizer::create(pre->type);
    if (!preTokenizer.ok()) return preTokenizer.error();
    const auto* merges = file.getStringArray("tokenizer.ggml.merges");
    if (merges == nullptr) {
        return makeError(ErrorCode::InvalidFormat,
                         "tokenizer.ggml.merges is missing or not an array of strings (needed by "
                         "the gpt2 tokenizer)");
    }
    auto tok = BpeTokenizer::create(std::move(vocab).value(), *merges, std::move(preTokenizer).value(),
                                    pre->ignoreMerges);
    if (!tok.ok()) return tok.error();
    return std::unique_ptr<Tokenizer>(std::move(tok).value());
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> createTokenizerFromGguf(const GgufFile& file) {
    const GgufValue* model = file.find("tokenizer.ggml.model");
    if (model == nullptr) {
        return makeError(ErrorCode::InvalidFormat, "tokenizer.ggml.model is missing (no tokenizer in this file)");
    }
    const auto name = file.getString("tokenizer.ggml.model");
    if (!name) return makeError(ErrorCode::InvalidFormat, "tokenizer.ggml.model must be a string");
    if (*name == "llama") return createSpm(file);
    if (*name == "gpt2") return createBpe(file);
    return makeError(ErrorCode::Unsupported, "tokenizer.ggml.model '" + *name +
                     "' is not supported (supported: 'llama' SentencePiece, 'gpt2' byte-level BPE)");
}

}  // namespace batchscope::engine
