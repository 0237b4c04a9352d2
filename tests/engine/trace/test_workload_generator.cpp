// Workload generators: reproducible for a seed, and the arrival and length statistics are the
// ones asked for (tolerances are several standard errors wide; the draws are seeded, so the
// tests are deterministic).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "engine/trace/workload_generator.h"

namespace batchscope::engine {
namespace {

struct Moments {
    double mean = 0, sd = 0;
};
Moments moments(const std::vector<double>& v) {
    Moments m;
    m.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    double ss = 0;
    for (double x : v) ss += (x - m.mean) * (x - m.mean);
    m.sd = std::sqrt(ss / double(v.size() - 1));
    return m;
}

std::vector<double> gaps(const std::vector<WorkloadRequest>& w) {
    std::vector<double> g;
    for (std::size_t i = 1; i < w.size(); ++i) g.push_back(w[i].arrivalSeconds - w[i - 1].arrivalSeconds);
    return g;
}

WorkloadGeneratorConfig config(ArrivalProcess::Kind kind, double rate, double cv, std::int64_t n, std::uint64_t seed) {
    WorkloadGeneratorConfig c;
    c.arrivals = {kind, rate, cv};
    c.requests = n;
    c.seed = seed;
    return c;
}

TEST(WorkloadGenerator, SameSeedSameWorkloadOtherSeedOther) {
    auto c = config(ArrivalProcess::Kind::Gamma, 5, 3, 500, 42);
    c.promptTokens = LengthDistribution::parse("lognormal:600:300").value();
    c.outputTokens = LengthDistribution::parse("uniform:1:256").value();
    auto a = generateWorkload(c), b = generateWorkload(c);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), 500u);
    for (std::size_t i = 0; i < a->size(); ++i) {
        EXPECT_EQ((*a)[i].arrivalSeconds, (*b)[i].arrivalSeconds);
        EXPECT_EQ((*a)[i].promptTokens, (*b)[i].promptTokens);
        EXPECT_EQ((*a)[i].outputTokens, (*b)[i].outputTokens);
    }
    c.seed = 43;
    auto d = generateWorkload(c);
    ASSERT_TRUE(d.ok());
    int same = 0;
    for (std::size_t i = 1; i < d->size(); ++i) same += (*d)[i].arrivalSeconds == (*a)[i].arrivalSeconds;
    EXPECT_EQ(same, 0);
    // Changing a length distribution leaves the arrival times alone (separate streams).
    c.seed = 42;
    c.outputTokens = LengthDistribution::parse("fixed:7").value();
    auto e = generateWorkload(c);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->back().arrivalSeconds, a->back().arrivalSeconds);
    EXPECT_EQ(e->back().promptTokens, a->back().promptTokens);
    EXPECT_EQ(e->back().outputTokens, 7);
}

TEST(WorkloadGenerator, PoissonRateAndUnitCv) {
    auto w = generateWorkload(config(ArrivalProcess::Kind::Poisson, 8, 1, 20000, 1));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(w->front().arrivalSeconds, 0.0);
    const auto m = moments(gaps(*w));
    EXPECT_NEAR(m.mean, 1.0 / 8, 0.03 / 8);  // standard error ~0.7 %
    EXPECT_NEAR(m.sd / m.mean, 1.0, 0.04);
}

TEST(WorkloadGenerator, GammaRateAndCv) {
    for (double cv : {0.5, 2.0, 4.0}) {
        auto w = generateWorkload(config(ArrivalProcess::Kind::Gamma, 10, cv, 40000, 7));
        ASSERT_TRUE(w.ok());
        const auto m = moments(gaps(*w));
        EXPECT_NEAR(m.mean, 0.1, 0.1 * 0.04 * cv) << "cv " << cv;
        EXPECT_NEAR(m.sd / m.mean, cv, 0.08 * cv) << "cv " << cv;
    }
}

TEST(WorkloadGenerator, DurationStopsEarly) {
    auto c = config(ArrivalProcess::Kind::Poisson, 100, 1, 1000000, 3);
    c.durationSeconds = 2;
    auto w = generateWorkload(c);
    ASSERT_TRUE(w.ok());
    EXPECT_LE(w->back().arrivalSeconds, 2.0);
    EXPECT_NEAR(double(w->size()), 200, 60);
}

TEST(WorkloadGenerator, LengthDistributions) {
    auto c = config(ArrivalProcess::Kind::Poisson, 1, 1, 30000, 9);
    c.promptTokens = LengthDistribution::parse("lognormal:600:300").value();
    c.outputTokens = LengthDistribution::parse("uniform:10:20").value();
    auto w = generateWorkload(c);
    ASSERT_TRUE(w.ok());
    std::vector<double> prompts;
    int lo = 1 << 30, hi = 0;
    for (const auto& r : *w) {
        prompts.push_back(r.promptTokens);
        lo = std::min(lo, r.outputTokens);
        hi = std::max(hi, r.outputTokens);
    }
    const auto m = moments(prompts);
    EXPECT_NEAR(m.mean, 600, 12);
    EXPECT_NEAR(m.sd, 300, 15);
    EXPECT_EQ(lo, 10);
    EXPECT_EQ(hi, 20);
    c.promptTokens = LengthDistribution::parse("fixed:33").value();
    c.requests = 10;
    auto fixed = generateWorkload(c);
    ASSERT_TRUE(fixed.ok());
    for (const auto& r : fixed.value()) EXPECT_EQ(r.promptTokens, 33);
}

TEST(WorkloadGenerator, BadSettingsAreErrors) {
    for (const char* spec : {"fixed", "fixed:0", "fixed:1.5", "uniform:5:2", "uniform:1", "lognormal:0:3",
                             "lognormal:10:-1", "normal:3:4", "fixed:abc", "lognormal:5:x"}) {
        auto d = LengthDistribution::parse(spec);
        ASSERT_FALSE(d.ok()) << spec;
        EXPECT_NE(d.error().message.find(spec), std::string::npos) << d.error().message;
    }
    EXPECT_FALSE(generateWorkload(config(ArrivalProcess::Kind::Poisson, 0, 1, 10, 1)).ok());
    EXPECT_FALSE(generateWorkload(config(ArrivalProcess::Kind::Gamma, 1, 0, 10, 1)).ok());
    EXPECT_FALSE(generateWorkload(config(ArrivalProcess::Kind::Poisson, 1, 1, 0, 1)).ok());
    EXPECT_EQ(generateWorkload(config(ArrivalProcess::Kind::Poisson, -1, 1, 10, 1)).error().message,
              "arrival rate must be > 0 requests/s");
}

}  // namespace
}  // namespace batchscope::engine
