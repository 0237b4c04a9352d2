// SentencePiece and byte-level BPE tokenizers on small handcrafted vocabularies, and the
// factory's errors for bad tokenizer metadata.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "engine/model/gguf_file.h"
#include "engine/model/gguf_writer.h"
#include "engine/tokenizer/bpe_tokenizer.h"
#include "engine/tokenizer/tokenizer_factory.h"
#include "engine/tokenizer/unicode_data.h"

namespace batchscope::engine {
namespace {

const std::string kSp = "\xe2\x96\x81";  // U+2581

std::unique_ptr<GgufFile> toFile(const GgufWriter& w) {
    auto f = GgufFile::fromBytes(w.serialize().value());
    EXPECT_TRUE(f.ok());
    return std::move(f).value();
}

Result<std::unique_ptr<Tokenizer>> makeTokenizer(const GgufWriter& w) {
    return createTokenizerFromGguf(*toFile(w));
}

struct VocabBuilder {
    std::vector<std::string> tokens;
    std::vector<float> scores;
    std::vector<std::int32_t> types;
    TokenId add(const std::string& piece, float score = 0.f, int type = 1) {
        tokens.push_back(piece);
        scores.push_back(score);
        types.push_back(type);
        return static_cast<TokenId>(tokens.size() - 1);
    }
    void writeTo(GgufWriter& w) const {
        w.setStringArray("tokenizer.ggml.tokens", tokens);
        w.setFloat32Array("tokenizer.ggml.scores", scores);
        w.setInt32Array("tokenizer.ggml.token_type", types);
    }
};

// <unk> <s> </s>, 256 byte tokens, then the given scored pieces.
GgufWriter spmWriter(const std::vector<std::pair<std::string, float>>& pieces, bool byteTokens = true) {
    VocabBuilder v;
    v.add("<unk>", 0, 2);
    v.add("<s>", 0, 3);
    v.add("</s>", 0, 3);
    if (byteTokens) {
        for (int b = 0; b < 256; ++b) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "<0x%02X>", b);
            v.add(buf, 0, 6);
        }
    }
    for (const auto& [p, s] : pieces) v.add(p, s);
    GgufWriter w;
    w.setString("tokenizer.ggml.model", "llama");
    v.writeTo(w);
    w.setUInt32("tokenizer.ggml.bos_token_id", 1);
    w.setUInt32("tokenizer.ggml.eos_token_id", 2);
    return w;
}

constexpr TokenId kFirstPiece = 3 + 256;

std::unique_ptr<Tokenizer> spm(const std::vector<std::pair<std::string, float>>& pieces) {
    auto t = makeTokenizer(spmWriter(pieces));
    EXPECT_TRUE(t.ok()) << t.error().message;
    return std::move(t).value();
}

TEST(SpmTokenizer, MergesTheHighestScoringPairFirst) {
    // ids: ▁=259 a=260 b=261 c=262 ▁a=263 ab=264 bc=265 abc=266
    auto tok = spm({{kSp, -10}, {"a", -10}, {"b", -10}, {"c", -10}, {kSp + "a", -5}, {"ab", -3},
                    {"bc", -1}, {"abc", -2}});
    // bc (-1) merges first, then a+bc = abc (-2); ▁a and ab are stale by then.
    EXPECT_EQ(tok->encode("abc", false), (std::vector<TokenId>{kFirstPiece, kFirstPiece + 7}));
    // Without c, ab (-3) beats ▁a (-5).
    EXPECT_EQ(tok->encode("ab", false), (std::vector<TokenId>{kFirstPiece, kFirstPiece + 5}));
}

TEST(SpmTokenizer, EqualScoresMergeLeftmostFirst) {
    // "aaa": pairs (0,1) and (1,2) both "aa"; the left one wins, leaving a trailing "a".
    auto tok = spm({{"a", -1}, {"aa", -2}, {kSp, -1}});
    EXPECT_EQ(tok->encode("aaa", false),
              (std::vector<TokenId>{kFirstPiece + 2, kFirstPiece + 1, kFirstPiece}));
}

TEST(SpmTokenizer, UnknownCharactersFallBackToBytes) {
    auto tok = spm({{kSp, -1}, {"a", -1}});
    // é = C3 A9, byte tokens are 3 + byte.
    EXPECT_EQ(tok->encode("a\xc3\xa9", false),
              (std::vector<TokenId>{kFirstPiece, kFirstPiece + 1, 3 + 0xC3, 3 + 0xA9}));
    EXPECT_EQ(tok->decode(tok->encode("a\xc3\xa9", false)), "a\xc3\xa9");
}

TEST(SpmTokenizer, SpacesBecomeU2581AndDecodeStripsThePrefix) {
    auto tok = spm({{kSp, -1}, {"a", -1}, {kSp + "a", -0.5f}});
    const auto ids = tok->encode("a a", false);
    EXPECT_EQ(ids, (std::vector<TokenId>{kFirstPiece + 2, kFirstPiece + 2}));
    EXPECT_EQ(tok->tokenBytes(kFirstPiece + 2), " a");
    EXPECT_EQ(tok->tokenPiece(kFirstPiece + 2), kSp + "a");
    EXPECT_EQ(tok->decode(ids), "a a");
    EXPECT_TRUE(tok->stripsLeadingSpace());
}

TEST(SpmTokenizer, EmptyTextAndBos) {
    auto tok = spm({{kSp, -1}});
    EXPECT_TRUE(tok->encode("", false).empty());
    EXPECT_EQ(tok->encode("", true), std::vector<TokenId>{1});
    EXPECT_EQ(tok->encode(" ", true), (std::vector<TokenId>{1, kFirstPiece, kFirstPiece}));
    EXPECT_EQ(tok->decode(tok->encode(" ", true)), " ");
}

TEST(SpmTokenizer, TokenBytesByType) {
    auto tok = spm({{kSp, -1}});
    EXPECT_EQ(tok->tokenBytes(0), "\xe2\x96\x85") << "unknown token";
    EXPECT_EQ(tok->tokenBytes(1), "") << "control token";
    EXPECT_EQ(tok->tokenBytes(3 + 'A'), "A") << "byte token";
    EXPECT_EQ(tok->tokenBytes(3 + 0xFF), "\xff");
    EXPECT_EQ(tok->tokenBytes(-3), "");
    EXPECT_EQ(tok->tokenBytes(100000), "");
    EXPECT_EQ(tok->tokenPiece(100000), "");
}

TEST(SpmTokenizer, NoSpacePrefixWhenDisabled) {
    auto w = spmWriter({{"a", -1}, {kSp, -1}});
    w.setBool("tokenizer.ggml.add_space_prefix", false);
    auto tok = makeTokenizer(w);
    ASSERT_TRUE(tok.ok());
    EXPECT_EQ(tok.value()->encode("a a", false),
              (std::vector<TokenId>{kFirstPiece, kFirstPiece + 1, kFirstPiece}));
    EXPECT_FALSE(tok.value()->stripsLeadingSpace());
    EXPECT_EQ(tok.value()->decode(tok.value()->encode(" a", false)), " a");
}

TEST(SpmTokenizer, WithoutByteTokensUnknownCharactersBecomeUnk) {
    auto tok = makeTokenizer(spmWriter({{kSp, -1}, {"a", -1}}, /*byteTokens=*/false));
    ASSERT_TRUE(tok.ok());
    EXPECT_EQ(tok.value()->encode("a\xc3\xa9", false), (std::vector<TokenId>{3, 4, 0, 0}));
}

TEST(SpmTokenizer, RandomTextRoundTrips) {
    auto tok = spm({{kSp, -1}, {"a", -1}, {"b", -2}, {"ab", -1.5f}, {kSp + "a", -0.5f}, {"ba", -3}});
    std::mt19937 rng(7);
    const std::vector<std::string> alphabet = {"a", "b", " ", "\n", "\xc3\xa9", "\xe6\x88\x91", "\xf0\x9f\x98\x80", "\xff"};
    for (int iter = 0; iter < 300; ++iter) {
        std::string text;
        const int len = static_cast<int>(rng() % 40);
        for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
        EXPECT_EQ(tok->decode(tok->encode(text, false)), text) << iter;
    }
}

// All 256 mapped byte characters as tokens 0..255 (in byte order), then merged pieces.
GgufWriter bpeWriter(const std::vector<std::string>& extra, const std::vector<std::string>& merges) {
    VocabBuilder v;
    for (int b = 0; b < 256; ++b) {
        std::string s;
        unicode::appendUtf8(s, BpeTokenizer::byteToCodepoint(static_cast<unsigned char>(b)));
        v.add(s);
    }
    for (const auto& p : extra) v.add(p);
    v.add("<|endoftext|>", 0, 3);
    GgufWriter w;
    w.setString("tokenizer.ggml.model", "gpt2");
    w.setStringArray("tokenizer.ggml.tokens", v.tokens);
    w.setInt32Array("tokenizer.ggml.token_type", v.types);
    w.setStringArray("tokenizer.ggml.merges", merges);
    w.setUInt32("tokenizer.ggml.eos_token_id", static_cast<std::uint32_t>(v.tokens.size() - 1));
    return w;
}

TEST(BpeTokenizer, MergesByLowestRank) {
    // 256 "ab", 257 "bc", 258 "Ġa", 259 "Ġab"
    auto t = makeTokenizer(bpeWriter({"ab", "bc", "\xc4\xa0" "a", "\xc4\xa0" "ab"},
                                     {"b c", "\xc4\xa0 a", "\xc4\xa0" "a b", "a b"}));
    ASSERT_TRUE(t.ok()) << t.error().message;
    auto& tok = *t.value();
    EXPECT_EQ(tok.encode("abc", false), (std::vector<TokenId>{'a', 257})) << "b c has rank 0";
    EXPECT_EQ(tok.encode("ab", false), (std::vector<TokenId>{256}));
    // "Ġ a" (rank 1) beats "a b" (rank 3), then "Ġa b" (rank 2) applies.
    EXPECT_EQ(tok.encode(" ab", false), (std::vector<TokenId>{259}));
    EXPECT_EQ(tok.encode("x ab", false), (std::vector<TokenId>{'x', 259}));
    EXPECT_EQ(tok.tokenBytes(259), " ab");
    EXPECT_EQ(tok.tokenPiece(259), "\xc4\xa0" "ab");
    EXPECT_EQ(tok.tokenBytes(260), "") << "control";
    EXPECT_EQ(tok.endOfGenerationIds(), std::vector<TokenId>{260});
    EXPECT_EQ(tok.bosId(), std::nullopt);
    EXPECT_EQ(tok.encode("a", true), std::vector<TokenId>{'a'}) << "no BOS in this vocabulary";
}

TEST(BpeTokenizer, AnEarlierMergeBlocksALaterOne) {
    auto t = makeTokenizer(bpeWriter({"ab", "\xc4\xa0" "a", "\xc4\xa0" "ab"},
                                     {"a b", "\xc4\xa0 a", "\xc4\xa0" "a b"}));
    ASSERT_TRUE(t.ok());
    // "a b" (rank 0) fires before "Ġ a", and "Ġ ab" is no merge: two tokens.
    EXPECT_EQ(t.value()->encode(" ab", false), (std::vector<TokenId>{' ', 256}));
}

TEST(BpeTokenizer, AnyBytesRoundTrip) {
    auto t = makeTokenizer(bpeWriter({"ab"}, {"a b"}));
    ASSERT_TRUE(t.ok());
    std::mt19937 rng(11);
    for (int iter = 0; iter < 300; ++iter) {
        std::string text;
        const int len = static_cast<int>(rng() % 50);
        for (int i = 0; i < len; ++i) text += static_cast<char>(rng() % 256);
        const auto ids = t.value()->encode(text, false);
        EXPECT_EQ(t.value()->decode(ids), text) << iter;
    }
}

TEST(BpeTokenizer, ByteToUnicodeMapping) {
    EXPECT_EQ(BpeTokenizer::byteToCodepoint('A'), static_cast<std::uint32_t>('A'));
    EXPECT_EQ(BpeTokenizer::byteToCodepoint(' '), 0x120u);  // Ġ
    EXPECT_EQ(BpeTokenizer::byteToCodepoint('\n'), 0x10Au);  // Ċ
    EXPECT_EQ(BpeTokenizer::byteToCodepoint(0), 0x100u);
    EXPECT_EQ(BpeTokenizer::byteToCodepoint(0xAD), 0x143u);
}

void expectFactoryError(const GgufWriter& w, ErrorCode code, const std::string& message) {
    auto t = makeTokenizer(w);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().code, code);
    EXPECT_EQ(t.error().message, message);
}

TEST(TokenizerFactory, RejectsUnsupportedModels) {
    GgufWriter w;
    w.setString("tokenizer.ggml.model", "bert");
    expectFactoryError(w, ErrorCode::Unsupported,
                       "tokenizer.ggml.model 'bert' is not supported (supported: 'llama' "
                       "SentencePiece, 'gpt2' byte-level BPE)");
    expectFactoryError(GgufWriter{}, ErrorCode::InvalidFormat,
                       "tokenizer.ggml.model is missing (no tokenizer in this file)");
}

TEST(TokenizerFactory, RejectsBadMetadata) {
    GgufWriter noTokens;
    noTokens.setString("tokenizer.ggml.model", "llama");
    expectFactoryError(noTokens, ErrorCode::InvalidFormat,
                       "tokenizer.ggml.tokens is missing or not an array of strings");

    auto scores = spmWriter({{"a", 0}});
    scores.setFloat32Array("tokenizer.ggml.scores", {1.f, 2.f});
    expectFactoryError(scores, ErrorCode::InvalidFormat,
                       "tokenizer.ggml.scores has 2 entries, tokenizer.ggml.tokens has 260");

    auto nan = spmWriter({{"a", std::nanf("")}});
    expectFactoryError(nan, ErrorCode::InvalidFormat, "tokenizer.ggml.scores[259] is NaN");

    auto types = spmWriter({{"a", 0}});
    std::vector<std::int32_t> t(260, 1);
    t[5] = 9;
    types.setInt32Array("tokenizer.ggml.token_type", t);
    expectFactoryError(types, ErrorCode::InvalidFormat,
                       "tokenizer.ggml.token_type[5] = 9 is not a known token type (0..6)");

    auto bos = spmWriter({{"a", 0}});
    bos.setUInt32("tokenizer.ggml.bos_token_id", 999);
    expectFactoryError(bos, ErrorCode::InvalidFormat,
                       "tokenizer.ggml.bos_token_id = 999 is out of range (vocabulary has 260 tokens)");

    auto prefix = spmWriter({{"a", 0}});
    prefix.setString("tokenizer.ggml.add_space_prefix", "yes");
    expectFactoryError(prefix, ErrorCode::InvalidFormat, "tokenizer.ggml.add_space_prefix must be a bool");

    auto noMerges = bpeWriter({}, {});
    noMerges.setString("tokenizer.ggml.merges", "a b");
    expectFactoryError(noMerges, ErrorCode::InvalidFormat,
                       "tokenizer.ggml.merges is missing or not an array of strings (needed by the "
                       "gpt2 tokenizer)");

    expectFactoryError(bpeWriter({"ab"}, {"a b", "ab"}), ErrorCode::InvalidFormat,
                       "tokenizer.ggml.merges[1] = 'ab' is not two symbols separated by a space");
}

TEST(TokenizerFactory, AddBosFollowsMetadata) {
    auto w = spmWriter({{"a", 0}});
    auto on = makeTokenizer(w);
    ASSERT_TRUE(on.ok());
    EXPECT_TRUE(on.value()->addsBosByDefault()) << "SentencePiece default";
    w.setBool("tokenizer.ggml.add_bos_token", false);
    auto off = makeTokenizer(w);
    ASSERT_TRUE(off.ok());
    EXPECT_FALSE(off.value()->addsBosByDefault());
    EXPECT_EQ(off.value()->encode("a", true).front(), 1) << "encode(addBos=true) still adds it";
}

TEST(TokenizerFactory, EndOfGenerationIncludesEotAndKnownEndTokens) {
    auto w = spmWriter({{"a", 0}});
    w.setUInt32("tokenizer.ggml.eot_token_id", 3);
    auto t = makeTokenizer(w);
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value()->endOfGenerationIds(), (std::vector<TokenId>{2, 3}));
}

}  // namespace
}  // namespace batchscope::engine
