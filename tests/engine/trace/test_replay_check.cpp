// replayWithRecordedStepTimes: with the recorded step times the replay forms exactly the
// recorded steps (so the scheduler's side of a replay adds no error), and a difference in how
// the replay drives the scheduler shows at the first step it changes. Virtual time only.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/trace/replay_bench.h"
#include "engine/trace/replay_check.h"
#include "engine/trace/trace_replay.h"

using namespace batchscope::engine;

namespace {

RecordedSetup setup() {
    RecordedSetup s;
    s.settings.maxBatchSize = 16;
    s.settings.tokenBudget = 256;
    s.blockSize = 16;
    s.numKvBlocks = 400;
    s.maxSequenceLength = 2048;
    return s;
}

/// A recorded run whose step times no linear model reproduces: the linear cost times a
/// deterministic factor of 0.5-2.5 per step (a machine that other processes slow down now
/// and then). Idle gaps and queueing both occur at this rate.
RecordedTrace recordNoisyRun(const std::string& path) {
    SyntheticWorkloadOptions o;
    o.requests = 200;
    o.ratePerSecond = 25;
    o.seed = 11;
    o.sharedPrefixShare = 0.3;
    ReplayWorkload w;
    w.requests = syntheticWorkload(o);
    const StepCostModel linear({2.0, 0.02, 0.3, 0.05, 2e-5});
    auto noisy = [&](std::int64_t step, double, const StepFeatures& f) {
        const std::uint64_t h = (std::uint64_t(step) + 1) * 0x9E3779B97F4A7C15ull;
        return linear.predictMs(f) * (0.5 + 2.0 * double(h >> 40) / double(1ull << 24));
    };
    auto run = replayWorkload(w, StepCostFunction(noisy), setup(), path);
    EXPECT_TRUE(run.ok()) << run.error().message;
    auto trace = readTrace(path);
    EXPECT_TRUE(trace.ok()) << trace.error().message;
    return trace.value();
}

struct TempTrace {
    std::string path = (std::filesystem::temp_directory_path() /
                        ("batchscope_" + std::to_string(::getpid()) + "_replay_check.sqlite")).string();
    ~TempTrace() {
        for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    }
};

}  // namespace

TEST(ReplayCheck, RecordedStepTimesReproduceEveryStep) {
    TempTrace file;
    const RecordedTrace trace = recordNoisyRun(file.path);
    ASSERT_GT(trace.steps.size(), 300u);
    auto check = replayWithRecordedStepTimes(trace);
    ASSERT_TRUE(check.ok()) << check.error().message;
    EXPECT_FALSE(check->divergence) << "first difference at step " << check->divergence.value_or(-1);
    EXPECT_EQ(check->identicalSteps, std::int64_t(trace.steps.size()));
    EXPECT_EQ(check->replayedSteps, std::int64_t(trace.steps.size()));
    const FidelityErrors e = fidelityErrors(check->recorded, check->replayed);
    EXPECT_LT(e.worst(), 0.1) << "ttft p50 " << e.ttftP50 << " p90 " << e.ttftP90 << " tpot p50 " << e.tpotP50
                              << " p90 " << e.tpotP90 << " throughput " << e.throughput;

    // The fitted model averages the noise away: its replay forms other steps, which is what
    // the check tells apart from an error on the scheduler's side.
    auto model = fitStepCostModel(trace);
    ASSERT_TRUE(model.ok());
    EXPECT_LT(model->r2(), 0.95);
    auto fitted = replayWorkload(workloadFromTrace(trace), model.value(), trace.setup);
    ASSERT_TRUE(fitted.ok());
    EXPECT_NE(fitted->summary.steps, std::int64_t(trace.steps.size()));
}

TEST(ReplayCheck, ADifferentScheduleShowsAtTheFirstStepItChanges) {
    TempTrace file;
    RecordedTrace trace = recordNoisyRun(file.path);
    // Replay with a smaller batch than the run had: the first recorded step with more than
    // 4 sequences is the first one the replay cannot form.
    std::int64_t first = -1;
    for (std::size_t i = 0; i < trace.steps.size() && first < 0; ++i)
        if (trace.steps[i].sequences > 4) first = std::int64_t(i);
    ASSERT_GT(first, 0) << "the run needs a step of over 4 sequences after its first";
    trace.setup.settings.maxBatchSize = 4;
    auto check = replayWithRecordedStepTimes(trace);
    ASSERT_TRUE(check.ok()) << check.error().message;
    ASSERT_TRUE(check->divergence);
    EXPECT_EQ(*check->divergence, first);
    EXPECT_EQ(check->identicalSteps, first);
    EXPECT_EQ(check->replayedAtDivergence.sequences, 4);
    EXPECT_EQ(check->recordedAtDivergence.sequences, trace.steps[std::size_t(first)].sequences);
    EXPECT_NEAR(check->replayedStartMs, check->recordedStartMs, 1e-3);   // in step until then
    const std::string text = formatStepCheck(check.value());
    EXPECT_NE(text.find("first difference at step " + std::to_string(first)), std::string::npos) << text;
}
