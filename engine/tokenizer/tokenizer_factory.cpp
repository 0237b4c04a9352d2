// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/tokenizer_factory.h"

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

Result<std::unique_ptr<Tokenizer>> createBpe(const GgufFile& file) {
    auto vocab = loadVocab(file, /*defaultAddBos=*/false, /*spmDefaults=*/false);
    if (!vocab.ok()) return vocab.error();
    const auto* merges = file.getStringArray("tokenizer.ggml.merges");
    if (merges == nullptr) {
        return makeError(ErrorCode::InvalidFormat,
                         "tokenizer.ggml.merges is missing or not an array of strings (needed by "
                         "the gpt2 tokenizer)");
    }
    auto tok = BpeTokenizer::create(std::move(vocab).value(), *merges);
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
