// ByteTokenizer: the model-free tokenizer of the simulated executor.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/tokenizer/byte_tokenizer.h"

namespace batchscope::engine {
namespace {

TEST(ByteTokenizer, EncodesBytesAndBos) {
    ByteTokenizer tok;
    EXPECT_EQ(tok.encode("Hi\xff", false), (std::vector<TokenId>{'H', 'i', 255}));
    EXPECT_EQ(tok.encode("", true), std::vector<TokenId>{ByteTokenizer::kBos});
    EXPECT_EQ(tok.encode("a", true), (std::vector<TokenId>{256, 'a'}));
}

TEST(ByteTokenizer, DecodeRoundTripsAndSkipsSpecials) {
    ByteTokenizer tok;
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    auto ids = tok.encode(all, true);
    ids.push_back(ByteTokenizer::kEos);
    EXPECT_EQ(tok.decode(ids), all);
    EXPECT_FALSE(tok.stripsLeadingSpace());
}

TEST(ByteTokenizer, WordsAboveTheSpecialsAndBounds) {
    ByteTokenizer tok(300);
    EXPECT_EQ(tok.vocabSize(), 300);
    EXPECT_EQ(tok.tokenBytes(258), " the");
    EXPECT_EQ(tok.tokenBytes(259), " model");
    EXPECT_EQ(tok.tokenBytes(300), "");
    EXPECT_EQ(tok.tokenBytes(-1), "");
    EXPECT_EQ(ByteTokenizer(10).vocabSize(), 258) << "at least bytes + BOS + EOS";
    EXPECT_EQ(tok.bosId(), 256);
    EXPECT_EQ(tok.eosId(), 257);
    EXPECT_EQ(tok.endOfGenerationIds(), std::vector<TokenId>{257});
    EXPECT_EQ(tok.kind(), "byte");
}

}  // namespace
}  // namespace batchscope::engine
