// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/vocab.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "engine/model/gguf_file.h"

namespace batchscope::engine {

namespace {

Error invalid(std::string message) { return makeError(ErrorCode::InvalidFormat, std::move(message)); }

// Reads an optional special-token id; an out-of-range value is an error.
Status readSpecialId(const GgufFile& file, const std::string& key, int vocabSize,
                     std::optional<TokenId>& out) {
    const GgufValue* v = file.find(key);
    if (v == nullptr) return Ok{};
    const auto id = file.getInt(key);
    if (!id) return invalid(key + " must be an integer, got " + std::string(ggufValueTypeName(v->type)));
    if (*id < 0 || *id >= vocabSize) {
        return invalid(key + " = " + std::to_string(*id) + " is out of range (vocabulary has " +
                       std::to_string(vocabSize) + " tokens)");
    }
    out = static_cast<TokenId>(*id);
    return Ok{};
}

Status readScoresAndTypes(const GgufFile& file, Vocab& vocab) {
    const std::size_t n = vocab.pieces.size();
    vocab.scores.assign(n, 0.0f);
    vocab.types.assign(n, TokenType::Normal);
    if (file.find("tokenizer.ggml.scores") != nullptr) {
        auto scores = file.getFloatArray("tokenizer.ggml.scores");
        if (!scores) return invalid("tokenizer.ggml.scores must be an array of numbers");
        if (scores->size() != n) {
            return invalid("tokenizer.ggml.scores has " + std::to_string(scores->size()) +
                           " entries, tokenizer.ggml.tokens has " + std::to_string(n));
        }
        for (std::size_t i = 0; i < n; ++i) {
            // NaN would break the merge queue's ordering.
            if (std::isnan((*scores)[i])) {
                return invalid("tokenizer.ggml.scores[" + std::to_string(i) + "] is NaN");
            }
        }
        vocab.scores = std::move(*scores);
    }
    if (file.find("tokenizer.ggml.token_type") != nullptr) {
        auto types = file.getIntArray("tokenizer.ggml.token_type");
        if (!types) return invalid("tokenizer.ggml.token_type must be an array of integers");
        if (types->size() != n) {
            return invalid("tokenizer.ggml.token_type has " + std::to_string(types->size()) +
                           " entries, tokenizer.ggml.tokens has " + std::to_string(n));
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::int64_t t = (*types)[i];
            if (t < 0 || t > static_cast<std::int64_t>(TokenType::Byte)) {
                return invalid("tokenizer.ggml.token_type[" + std::to_string(i) + "] = " +
                               std::to_string(t) + " is not a known token type (0..6)");
            }
            vocab.types[i] = static_cast<TokenType>(t);
        }
    }
    return Ok{};
}

void collectEndOfGeneration(Vocab& vocab, std::optional<TokenId> eom) {
    auto add = [&](std::optional<TokenId> id) {
        if (id && std::find(vocab.endOfGeneration.begin(), vocab.endOfGeneration.end(), *id) ==
                      vocab.endOfGeneration.end()) {
            vocab.endOfGeneration.push_back(*id);
        }
    };
    add(vocab.eos);
    add(vocab.eot);
    add(eom);
    // As llama.cpp: control tokens that conventionally end a turn also end generation.
    static constexpr std::array<std::string_view, 6> kEndTexts = {"<|eot_id|>", "<|im_end|>",
        "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>"};
    for (auto text : kEndTexts) {
        auto id = vocab.find(text);
        if (id && vocab.type(*id) == TokenType::Control) add(id);
    }
}

}  // namespace

std::optional<TokenId> Vocab::find(std::string_view piece) const {
    return pieceIndex.find(pieces, piece);
}

Result<Vocab> loadVocab(const GgufFile& file, bool defaultAddBos, bool spmDefaults) {
    Vocab vocab;
    const auto* tokens = file.getStringArray("tokenizer.ggml.tokens");
    if (tokens == nullptr) return invalid("tokenizer.ggml.tokens is missing or not an array of strings");
    if (tokens->empty()) return invalid("tokenizer.ggml.tokens is empty");
    if (tokens->size() >= static_cast<std::size_t>(std::numeric_limits<TokenId>::max())) {
        return invalid("tokenizer.ggml.tokens has too many entries (" + std::to_string(tokens->size()) + ")");
    }
    vocab.pieces = *tokens;
    if (Status st = readScoresAndTypes(file, vocab); !st.ok()) return st.error();
    vocab.pieceIndex.build(vocab.pieces, StringIndex::Repeats::LaterWins);  // as llama.cpp
    const int n = vocab.size();
    if (spmDefaults) {
        vocab.bos = n > 1 ? std::optional<TokenId>(1) : std::nullopt;
        vocab.eos = n > 2 ? std::optional<TokenId>(2) : std::nullopt;
        vocab.unk = 0;
    }
    std::optional<TokenId> eom;
    for (auto [key, slot] : {std::pair{"tokenizer.ggml.bos_token_id", &vocab.bos},
                             std::pair{"tokenizer.ggml.eos_token_id", &vocab.eos},
                             std::pair{"tokenizer.ggml.eot_token_id", &vocab.eot},
                             std::pair{"tokenizer.ggml.eom_token_id", &eom},
                             std::pair{"tokenizer.ggml.unknown_token_id", &vocab.unk}}) {
        if (Status st = readSpecialId(file, key, n, *slot); !st.ok()) return st.error();
    }
    vocab.addBos = defaultAddBos;
    if (file.find("tokenizer.ggml.add_bos_token") != nullptr) {
        auto b = file.getBool("tokenizer.ggml.add_bos_token");
        if (!b) return invalid("tokenizer.ggml.add_bos_token must be a bool");
        vocab.addBos = *b;
    }
    collectEndOfGeneration(vocab, eom);
    return vocab;
}

}  // namespace batchscope::engine
