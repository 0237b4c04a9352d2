// The step-cost model: least squares that recovers known coefficients, stays non-negative,
// reports R² and MAPE, and refuses too few steps.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <random>

#include "engine/trace/step_cost_model.h"

using namespace batchscope::engine;

namespace {
std::vector<StepFeatures> randomSteps(int n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> p(0, 512), d(0, 64);
    std::vector<StepFeatures> out;
    for (int i = 0; i < n; ++i) {
        StepFeatures f;
        f.prefillTokens = p(rng) * (i % 3 == 0);
        f.decodeTokens = d(rng);
        f.sequences = f.decodeTokens + (f.prefillTokens > 0);
        f.attendedContext = f.decodeTokens * 300 + f.prefillTokens * f.prefillTokens / 2.0;
        out.push_back(f);
    }
    return out;
}
}  // namespace

TEST(StepCostModel, RecoversExactCoefficients) {
    const StepCostModel truth({0.8, 0.01, 0.05, 0.002, 1e-5});
    const auto steps = randomSteps(400, 1);
    std::vector<double> ms;
    for (const auto& f : steps) ms.push_back(truth.predictMs(f));
    auto fit = StepCostModel::fit(steps, ms);
    ASSERT_TRUE(fit.ok()) << fit.error().message;
    // Within one kind of step some terms are collinear (a decode-only step's sequences are its
    // decode tokens), so the coefficients are not unique; every step's cost is.
    for (std::size_t i = 0; i < steps.size(); ++i)
        EXPECT_NEAR(fit->predictMs(steps[i]), ms[i], 1e-6 + 1e-6 * ms[i]) << "step " << i;
    EXPECT_GT(fit->r2(), 0.999999);
    EXPECT_LT(fit->mape(), 1e-3);
    EXPECT_EQ(fit->samples(), 400);
}

TEST(StepCostModel, NoisyFitReportsItsError) {
    const StepCostModel truth({1.0, 0.02, 0.1, 0.0, 0.0});
    const auto steps = randomSteps(500, 2);
    std::mt19937_64 rng(3);
    std::normal_distribution<double> noise(1.0, 0.1);
    std::vector<double> ms;
    for (const auto& f : steps) ms.push_back(truth.predictMs(f) * noise(rng));
    auto fit = StepCostModel::fit(steps, ms);
    ASSERT_TRUE(fit.ok());
    EXPECT_GT(fit->r2(), 0.8);
    EXPECT_LT(fit->r2(), 1.0);
    EXPECT_GT(fit->mape(), 2.0);    // 10 % multiplicative noise: about 8 %
    EXPECT_LT(fit->mape(), 15.0);
}

TEST(StepCostModel, CoefficientsNeverGoNegative) {
    // Cost falls with decode tokens in the data: the fit must drop that term, not go negative.
    std::vector<StepFeatures> steps;
    std::vector<double> ms;
    for (int i = 0; i < 50; ++i) {
        StepFeatures f;
        f.decodeTokens = i;
        f.sequences = 1;
        steps.push_back(f);
        ms.push_back(10.0 - 0.1 * i);
    }
    auto fit = StepCostModel::fit(steps, ms);
    ASSERT_TRUE(fit.ok());
    for (double c : fit->coefficients()) EXPECT_GE(c, 0.0);
    EXPECT_GE(fit->predictMs(steps.back()), 0.0);
}

TEST(StepCostModel, FitsDecodeOnlyAndPrefillingStepsSeparately) {
    // Decode-only steps pay a large fixed cost (reading the weights) and little per sequence;
    // prefilling steps pay per token. One line through both gets the short steps wrong.
    const StepCostModel truth({2.0, 0.6, 0.6, 0.5, 1e-4}, {20.0, 0.0, 0.0, 0.8, 2e-4});
    const auto steps = randomSteps(600, 4);
    std::vector<double> ms;
    for (const auto& f : steps) ms.push_back(truth.predictMs(f));
    auto fit = StepCostModel::fit(steps, ms);
    ASSERT_TRUE(fit.ok()) << fit.error().message;
    EXPECT_TRUE(fit->split());
    for (std::size_t i = 0; i < steps.size(); ++i)
        EXPECT_NEAR(fit->predictMs(steps[i]), ms[i], 1e-6 + 1e-6 * ms[i]) << "step " << i;
    EXPECT_NE(fit->describe().find("decode-only steps:"), std::string::npos) << fit->describe();
}

TEST(StepCostModel, TooFewStepsOfOneKindShareOneFit) {
    const StepCostModel truth({1.0, 0.02, 0.1, 0.01, 1e-5});
    std::vector<StepFeatures> steps;
    std::vector<double> ms;
    int decodeOnly = 0;
    for (const auto& f : randomSteps(300, 5)) {
        // Keep only 10 decode-only steps: too few to fit that kind alone.
        if (f.prefillTokens == 0 && ++decodeOnly > 10) continue;
        steps.push_back(f);
        ms.push_back(truth.predictMs(f));
    }
    auto fit = StepCostModel::fit(steps, ms);
    ASSERT_TRUE(fit.ok()) << fit.error().message;
    EXPECT_FALSE(fit->split());
    EXPECT_EQ(fit->coefficients(), fit->decodeCoefficients());
    for (std::size_t i = 0; i < steps.size(); ++i)
        EXPECT_NEAR(fit->predictMs(steps[i]), ms[i], 1e-6 + 1e-6 * ms[i]) << "step " << i;
}

TEST(StepCostModel, RefusesTooFewSteps) {
    auto fit = StepCostModel::fit(randomSteps(3, 1), {1, 2, 3});
    ASSERT_FALSE(fit.ok());
    EXPECT_NE(fit.error().message.find("at least 5"), std::string::npos) << fit.error().message;
    auto mismatch = StepCostModel::fit(randomSteps(10, 1), {1, 2});
    EXPECT_FALSE(mismatch.ok());
}
