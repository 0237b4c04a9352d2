// libFuzzer target: every tokenizer — encode arbitrary bytes, decode the ids back, and decode
// arbitrary id sequences incrementally (IncrementalDetokenizer, as the engine streams text),
// including ids past the vocabulary. Tokenizers: the byte tokenizer, a synthetic
// SentencePiece vocabulary, and the llama.cpp test vocabularies in ../shared/testdata/vocab
// (SPM, GPT-2, DeepSeek, Falcon, MPT pre-tokenizers) when present.
// Input: byte 0 picks the tokenizer, byte 1 the mode, the rest is the text or the ids.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/gguf_file.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/tokenizer/incremental_detokenizer.h"
#include "engine/tokenizer/tokenizer_factory.h"
#include "tests/engine/tokenizer/synthetic_vocab.h"

using namespace batchscope::engine;

namespace {

std::vector<std::unique_ptr<Tokenizer>>& tokenizers() {
    static std::vector<std::unique_ptr<Tokenizer>> all;
    return all;
}

void loadTokenizers() {
    auto& all = tokenizers();
    all.push_back(std::make_unique<ByteTokenizer>());
    auto synthetic = testing::syntheticSpmVocab(2000).serialize();
    if (synthetic) {
        auto file = GgufFile::fromBytes(std::move(synthetic).value());
        if (file) {
            auto tok = createTokenizerFromGguf(*file.value());
            if (tok) all.push_back(std::move(tok).value());
        }
    }
    const char* env = std::getenv("BATCHSCOPE_SOURCE_DIR");
    const std::filesystem::path dir =
        std::filesystem::path(env != nullptr ? env : BATCHSCOPE_SOURCE_DIR) / ".." / "shared" / "testdata" / "vocab";
    for (const char* name : {"ggml-vocab-llama-spm.gguf", "ggml-vocab-gpt-2.gguf", "ggml-vocab-deepseek-llm.gguf",
                             "ggml-vocab-falcon.gguf", "ggml-vocab-mpt.gguf"}) {
        auto file = GgufFile::open((dir / name).string());
        if (!file) continue;  // the shared test data is absent: fuzz what we have
        auto tok = createTokenizerFromGguf(*file.value());
        if (tok) all.push_back(std::move(tok).value());
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    spdlog::set_level(spdlog::level::off);
    loadTokenizers();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto& all = tokenizers();
    if (all.empty()) loadTokenizers();  // a fuzzer main without LLVMFuzzerInitialize
    if (size < 2) return 0;
    const Tokenizer& tok = *all[data[0] % all.size()];
    const std::uint8_t mode = data[1];
    const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
    IncrementalDetokenizer detok;
    detok.reset(mode & 4 ? std::vector<std::string>{"\n\n", "</s>"} : std::vector<std::string>{});
    if ((mode & 1) == 0) {
        // Encode arbitrary bytes, then decode and stream the ids back.
        const std::vector<TokenId> ids = tok.encode(text, (mode & 2) != 0);
        for (TokenId id : ids)
            if (id < 0 || id >= tok.vocabSize()) __builtin_trap();  // encode made an id it cannot decode
        (void)tok.decode(ids);
        for (TokenId id : ids) (void)detok.push(tok, id);
    } else {
        // Arbitrary id sequences (16-bit little-endian, spread over the vocabulary and a bit
        // past its end, as a model with a padded vocabulary may sample).
        std::vector<TokenId> ids;
        for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
            const std::uint32_t raw = std::uint8_t(text[i]) | (std::uint32_t(std::uint8_t(text[i + 1])) << 8);
            const std::uint32_t range = std::uint32_t(tok.vocabSize()) + 8;
            ids.push_back(TokenId(mode & 8 ? raw % range : raw * (range / 65536 + 1) % range));
        }
        (void)tok.decode(ids);
        for (TokenId id : ids) {
            (void)tok.tokenPiece(id);
            (void)detok.push(tok, id);
        }
    }
    (void)detok.flush();
    return 0;
}
