// SPDX-License-Identifier: GPL-3.0-or-later
// The micro benchmark's driver on a tiny model: shape of the results and argument errors (no
// timing assertions).
#include <cmath>
#include <gtest/gtest.h>

#include "engine/model/cpu/cpu_bench.h"

using namespace batchscope::engine;

TEST(CpuBench, RunsEveryConcurrencyLevelOnATinyModel) {
    cpu::CpuBenchOptions o;
    o.shape = "tiny";
    o.concurrency = {1, 3};
    o.promptTokens = 21;  // two prefill steps under a budget of 40 for N = 3
    o.prefillTokenBudget = 40;
    o.generatedTokens = 5;
    o.repeats = 2;
    o.probeBufferBytes = std::size_t{8} << 20;  // a small probe keeps the test fast
    std::vector<std::string> log;
    auto r = cpu::runCpuBench(o, [&](const std::string& line) { log.push_back(line); });
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].sequences, 1);
    EXPECT_EQ((*r)[1].sequences, 3);
    for (const auto& x : *r) {
        EXPECT_GT(x.promptTokensPerSec, 0);
        EXPECT_GT(x.decodeTokensPerSec, 0);
        EXPECT_GT(x.ttftMsMean, 0);
        EXPECT_LE(x.tokenLatencyP50Ms, x.tokenLatencyP99Ms);
        EXPECT_GT(x.decodeGflops, 0);
        EXPECT_GT(x.promptGflops, 0);
        EXPECT_GT(x.machineReadGBps, 0);
        EXPECT_GT(x.machinePeakGflops, 0);
        // The fraction is each repetition's GFLOP/s over the probe taken just before it (the
        // result holds medians over repetitions, so it is not exactly the ratio of medians). No
        // bound against the peak itself: on a loaded machine the probe can catch a busier
        // moment than the run ("1.65 of peak" was seen with other builds running).
        EXPECT_GT(x.decodePeakFraction, 0);
        EXPECT_TRUE(std::isfinite(x.decodePeakFraction));
        EXPECT_GT(x.decodeBandwidthFraction, 0);  // no upper bound: the tiny model sits in cache
    }
    // Model generation, KV type, one line per run and one resident-memory line per level.
    ASSERT_EQ(log.size(), 2u + 2 * 2 + 2);
    EXPECT_EQ(log[1], "KV cache: F32");  // the tiny model's weights are F32 (auto)
    EXPECT_EQ(log.back().rfind("resident after N=3: ", 0), 0u) << log.back();
    const std::string table = cpu::formatCpuBenchTable(*r);
    EXPECT_NE(table.find("| 3 |"), std::string::npos) << table;
}

TEST(CpuBench, RejectsBadArguments) {
    cpu::CpuBenchOptions o;
    o.shape = "huge";
    EXPECT_EQ(cpu::runCpuBench(o).error().code, ErrorCode::InvalidArgument);
    o.shape = "tiny";
    o.promptTokens = 250;  // + 64 exceeds the tiny context of 256
    EXPECT_EQ(cpu::runCpuBench(o).error().code, ErrorCode::InvalidArgument);
    o.promptTokens = 8;
    o.concurrency = {0};
    EXPECT_EQ(cpu::runCpuBench(o).error().code, ErrorCode::InvalidArgument);
}
