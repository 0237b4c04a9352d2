// A synthetic SentencePiece vocabulary GGUF of any size (Gemma's is 262144 tokens), shared by
// the load test and the tokenizer bench.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "engine/model/gguf_writer.h"

namespace batchscope::engine::testing {

/// <pad> <eos> <bos> <unk>, the 256 <0xXX> byte tokens, "▁", then pseudo-random
/// pieces (Latin letters with some Greek/CJK, half with a leading "▁") of 2-12 characters with
/// descending scores, until `size` tokens; like Gemma's layout. Deterministic.
inline GgufWriter syntheticSpmVocab(int size) {
    std::vector<std::string> tokens{"<pad>", "<eos>", "<bos>", "<unk>"};
    std::vector<std::int32_t> types{3, 3, 3, 2};
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        tokens.emplace_back(buf);
        types.push_back(6);
    }
    tokens.emplace_back("\xe2\x96\x81");
    types.push_back(1);
    static const char* const kAlphabet[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "k", "l", "m",
                                            "n", "o", "p", "r", "s", "t", "u", "w", "\xce\xb1", "\xe4\xb8\xad"};
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    auto next = [&state] {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        return state;
    };
    for (std::uint64_t serial = 0; static_cast<int>(tokens.size()) < size; ++serial) {
        std::string piece = (serial & 1) ? "\xe2\x96\x81" : "";
        const int length = 2 + static_cast<int>(next() % 11);
        for (int k = 0; k < length; ++k) piece += kAlphabet[next() % 22];
        piece += std::to_string(serial % 7 == 0 ? serial : 0).substr(0, serial % 7 == 0 ? 8 : 0);
        tokens.push_back(std::move(piece));
        types.push_back(1);
    }
    std::vector<float> scores(tokens.size());
    for (std::size_t i = 0; i < scores.size(); ++i) scores[i] = -static_cast<float>(i);
    GgufWriter w;
    w.setString("tokenizer.ggml.model", "llama");
    w.setStringArray("tokenizer.ggml.tokens", std::move(tokens));
    w.setFloat32Array("tokenizer.ggml.scores", std::move(scores));
    w.setInt32Array("tokenizer.ggml.token_type", std::move(types));
    w.setUInt32("tokenizer.ggml.bos_token_id", 2);
    w.setUInt32("tokenizer.ggml.eos_token_id", 1);
    w.setUInt32("tokenizer.ggml.unknown_token_id", 3);
    w.setUInt32("tokenizer.ggml.padding_token_id", 0);
    return w;
}

}  // namespace batchscope::engine::testing
