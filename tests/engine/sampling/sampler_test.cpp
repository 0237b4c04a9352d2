// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

using namespace batchscope::engine;

namespace {

SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    p.topK = 0;
    p.topP = 1.0f;
    return p;
}

SamplingParams plain(float temperature = 1.0f) {
    SamplingParams p;
    p.temperature = temperature;
    p.topK = 0;
    p.topP = 1.0f;
    p.minP = 0.0f;
    return p;
}

// Logits whose softmax is exactly {0.6, 0.3, 0.1}.
std::vector<float> threeWay() {
    return {static_cast<float>(std::log(0.6)), static_cast<float>(std::log(0.3)), static_cast<float>(std::log(0.1))};
}

std::vector<int> histogram(Sampler& s, const std::vector<float>& logits, SamplingParams p, int draws) {
    std::vector<int> counts(logits.size(), 0);
    for (int i = 0; i < draws; ++i) {
        p.seed = static_cast<std::uint64_t>(i) * 7919u;
        ++counts[static_cast<std::size_t>(s.sample(logits, p, {}, i % 5))];
    }
    return counts;
}

}  // namespace

TEST(Sampler, Splitmix64KnownValue) {
    EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFull);
    const double u = samplingUniform(42, 3);
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    EXPECT_EQ(u, samplingUniform(42, 3));
    EXPECT_NE(u, samplingUniform(42, 4));
    EXPECT_NE(u, samplingUniform(43, 3));
}

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
    Sampler s;
    EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -1.0f, 3.0f}, greedy(), {}, 0), 1);
    EXPECT_EQ(s.sample(std::vector<float>{5.0f, 5.0f}, greedy(), {}, 0), 0);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveMultipliesNegative) {
    Sampler s;
    SamplingParams p = greedy();
    p.repetitionPenalty = 1.5f;
    const std::vector<TokenId> history{0, 0, 0};  // counted once
    EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.9f}, p, history, 0), 1);  // 2/1.5 < 1.9
    EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.0f}, p, history, 0), 0);  // 1.33 > 1
    p.repetitionPenalty = 2.0f;
    EXPECT_EQ(s.sample(std::vector<float>{-1.0f, -1.2f}, p, history, 0), 1);  // -2 < -1.2
    EXPECT_EQ(s.sample(std::vector<float>{2.0f, 1.9f}, p, std::vector<TokenId>{7, -1}, 0), 0);  // out of range ignored
}

TEST(Sampler, TopKOneIsGreedyForEverySeed) {
    Sampler s;
    SamplingParams p = plain();
    p.topK = 1;
    const std::vector<float> logits{0.5f, 0.7f, 0.69f};
    for (int i = 0; i < 200; ++i) {
        p.seed = static_cast<std::uint64_t>(i);
        EXPECT_EQ(s.sample(logits, p, {}, i), 1);
    }
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingMass) {
    Sampler s;
    SamplingParams p = plain();
    p.topP = 0.5f;  // 0.6 alone reaches it
    auto counts = histogram(s, threeWay(), p, 2000);
    EXPECT_EQ(counts[0], 2000);
    p.topP = 0.85f;  // needs {0.6, 0.3}
    counts = histogram(s, threeWay(), p, 4000);
    EXPECT_EQ(counts[2], 0);
    EXPECT_NEAR(counts[0] / 4000.0, 2.0 / 3.0, 0.04);
}

TEST(Sampler, MinPDropsTokensBelowFractionOfBest) {
    Sampler s;
    SamplingParams p = plain();
    p.minP = 0.2f;  // threshold 0.12: drops 0.1, keeps 0.3
    const auto counts = histogram(s, threeWay(), p, 4000);
    EXPECT_EQ(counts[2], 0);
    EXPECT_GT(counts[1], 0);
}

TEST(Sampler, DrawsFollowTheDistribution) {
    Sampler s;
    const auto counts = histogram(s, threeWay(), plain(), 20000);
    EXPECT_NEAR(counts[0] / 20000.0, 0.6, 0.02);
    EXPECT_NEAR(counts[1] / 20000.0, 0.3, 0.02);
    EXPECT_NEAR(counts[2] / 20000.0, 0.1, 0.02);
}

TEST(Sampler, TemperatureSharpens) {
    Sampler s;
    const auto counts = histogram(s, threeWay(), plain(0.25f), 4000);  // p ~ 0.6^4 : 0.3^4 : 0.1^4
    EXPECT_GT(counts[0], 3600);
}

TEST(Sampler, SameSeedAndIndexSampleTheSameToken) {
    Sampler a, b;
    SamplingParams p = plain();
    std::vector<float> logits(1000);
    for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i)) * 3.0f;
    for (int i = 0; i < 50; ++i) {
        p.seed = 1234;
        EXPECT_EQ(a.sample(logits, p, {}, i), b.sample(logits, p, {}, i));
    }
}

TEST(Sampler, NanAndInfinityRowsStillPickAToken) {
    Sampler s;
    const float inf = std::numeric_limits<float>::infinity();
    EXPECT_EQ(s.sample(std::vector<float>{-inf, -inf, -inf}, plain(), {}, 0), 0);
    EXPECT_EQ(s.sample(std::vector<float>{std::nanf(""), 1.0f, -inf}, plain(), {}, 0), 1);
    EXPECT_EQ(s.sample(std::vector<float>{0.0f, inf}, plain(), {}, 0), 1);
}
