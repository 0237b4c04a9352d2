// Finish reasons and stop strings matched across token boundaries; UTF-8 never split.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include "engine/scheduling/completion_detector.h"
#include "engine/tokenizer/byte_tokenizer.h"

using namespace batchscope::engine;

namespace {
struct Harness {
    ByteTokenizer tok;
    CompletionDetector detector{CompletionConfiguration{}, tok};
    Sequence seq;
    std::string streamed;
    explicit Harness(std::vector<std::string> stops = {}, int maxTokens = 100) {
        seq.tokens = tok.encode("p", true);
        seq.promptLength = std::int32_t(seq.tokens.size());
        seq.options.maxTokens = maxTokens;
        seq.options.stopStrings = std::move(stops);
        seq.maxLength = 1000;
        detector.begin(seq);
    }
    FinishReason feed(const std::string& bytes) {
        for (unsigned char c : bytes) {
            seq.tokens.push_back(TokenId(c));
            auto v = detector.onToken(seq, TokenId(c));
            streamed += v.textDelta;
            if (v.reason != FinishReason::None) return v.reason;
        }
        return FinishReason::None;
    }
};
}  // namespace

TEST(CompletionDetector, StopStringAcrossTokensIsExcluded) {
    Harness h({"END"});
    EXPECT_EQ(h.feed("hello E"), FinishReason::None);
    EXPECT_EQ(h.streamed, "hello ");  // "E" held back: it may start "END"
    EXPECT_EQ(h.feed("N"), FinishReason::None);
    EXPECT_EQ(h.feed("D more"), FinishReason::StopString);
    EXPECT_EQ(h.streamed, "hello ");
    EXPECT_EQ(h.seq.detokenizer.text(), "hello ");
}

TEST(CompletionDetector, FalseStartIsReleased) {
    Harness h({"END"});
    EXPECT_EQ(h.feed("ENx"), FinishReason::None);
    EXPECT_EQ(h.streamed, "ENx");
}

TEST(CompletionDetector, EarliestOfSeveralStopStrings) {
    Harness h({"world", "lo w"});
    EXPECT_EQ(h.feed("hello world"), FinishReason::StopString);
    EXPECT_EQ(h.seq.detokenizer.text(), "hel");
}

TEST(CompletionDetector, EosWinsAndIsNotText) {
    Harness h;
    h.feed("ab");
    h.seq.tokens.push_back(ByteTokenizer::kEos);
    EXPECT_EQ(h.detector.onToken(h.seq, ByteTokenizer::kEos).reason, FinishReason::Eos);
    EXPECT_EQ(h.seq.detokenizer.text(), "ab");
}

TEST(CompletionDetector, IgnoreEosKeepsGoing) {
    Harness h;
    h.seq.options.ignoreEos = true;
    h.seq.tokens.push_back(ByteTokenizer::kEos);
    EXPECT_EQ(h.detector.onToken(h.seq, ByteTokenizer::kEos).reason, FinishReason::None);
}

TEST(CompletionDetector, MaxTokensExactly) {
    Harness h({}, 3);
    EXPECT_EQ(h.feed("ab"), FinishReason::None);
    EXPECT_EQ(h.feed("c"), FinishReason::MaxTokens);
    EXPECT_EQ(h.seq.generatedCount(), 3);
}

TEST(CompletionDetector, MaxLength) {
    Harness h({}, 100);
    h.seq.maxLength = 4;  // BOS + "p" + 2 generated
    EXPECT_EQ(h.feed("a"), FinishReason::None);
    EXPECT_EQ(h.feed("b"), FinishReason::MaxLength);
}

TEST(CompletionDetector, NeverEmitsHalfAUtf8Character) {
    Harness h;
    const std::string euro = "\xE2\x82\xAC";  // U+20AC, three bytes
    h.feed(euro.substr(0, 1));
    EXPECT_EQ(h.streamed, "");
    h.feed(euro.substr(1, 1));
    EXPECT_EQ(h.streamed, "");
    h.feed(euro.substr(2, 1));
    EXPECT_EQ(h.streamed, euro);
}

TEST(CompletionDetector, UnfinishedCharacterAtTheEndBecomesReplacement) {
    Harness h;
    h.feed("a\xE2\x82");
    EXPECT_EQ(h.detector.finish(h.seq), "\xEF\xBF\xBD");
    EXPECT_EQ(h.seq.detokenizer.text(), "a\xEF\xBF\xBD");
}

TEST(Utf8, CompletePrefix) {
    EXPECT_EQ(completeUtf8Prefix("abc"), 3u);
    EXPECT_EQ(completeUtf8Prefix("ab\xC3"), 2u);
    EXPECT_EQ(completeUtf8Prefix("ab\xC3\xA9"), 4u);
    EXPECT_EQ(completeUtf8Prefix("\xF0\x9F\x98"), 0u);
    EXPECT_EQ(completeUtf8Prefix("\xF0\x9F\x98\x80"), 4u);
}
