// Playback: a run recorded in the test (a replay on virtual time, with live snapshots taken
// after chosen steps) is reopened, and the snapshots TracePlayback rebuilds at those times
// match the live ones: running/queued counts, KV blocks, every request's state and progress.
// Also the errors for a missing, corrupt and wrong-version file.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "engine/runtime/engine.h"
#include "engine/scheduling/continuous_batch_scheduler.h"
#include "engine/trace/replay_bench.h"
#include "engine/trace/trace_playback.h"
#include "engine/trace/trace_replay.h"

using namespace batchscope::engine;

namespace {

std::string tempPath(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("batchscope_" + std::to_string(::getpid()) + "_" + name)).string();
}

void removeTrace(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

/// A recorded run with queueing and preemptions, and the live snapshots taken during it.
struct RecordedRun {
    std::string path;
    std::vector<SchedulerSnapshot> live;
};

RecordedRun recordRun(const std::string& name) {
    RecordedRun run;
    run.path = tempPath(name);
    SyntheticWorkloadOptions o;
    o.requests = 160;
    o.ratePerSecond = 120;   // faster than 8 sequences per step can serve: a queue builds
    o.seed = 5;
    o.sharedPrefixShare = 0.4;
    ReplayWorkload w;
    w.requests = syntheticWorkload(o);
    w.requests[10].cancelAfterSeconds = 0.02;
    w.priorityChanges.push_back({20, w.requests[20].arrivalSeconds + 0.005, 3});
    RecordedSetup setup;
    setup.settings.maxBatchSize = 8;
    setup.settings.tokenBudget = 128;
    setup.blockSize = 16;
    setup.numKvBlocks = 70;   // tight: running sequences get preempted
    setup.maxSequenceLength = 1024;
    std::int64_t steps = 0;
    auto r = replayWorkload(w, StepCostModel({2.0, 0.02, 0.3, 0.05, 2e-5}), setup, run.path, [&](Engine& engine) {
        if (++steps % 9 == 0) run.live.push_back(engine.scheduler().snapshot(-1));
    });
    EXPECT_TRUE(r.ok()) << r.error().message;
    return run;
}

}  // namespace

TEST(TracePlayback, SnapshotsMatchTheLiveRunAtChosenTimes) {
    const RecordedRun run = recordRun("playback_live.sqlite");
    ASSERT_GT(run.live.size(), 20u);
    auto opened = TracePlayback::open(run.path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    const TracePlayback& p = opened.value();
    ASSERT_EQ(p.trace().requests.size(), 160u);
    // A cancel reaches the scheduler between steps, on virtual time at the very instant the
    // previous step ended: a snapshot taken there comes just before the cancel, the trace's
    // finish time equals its time. (On the wall clock the two differ.) Such instants are left out.
    std::vector<double> cancels;
    for (const RecordedRequest& r : p.trace().requests)
        if (r.finished && r.finishReason == FinishReason::Cancelled) cancels.push_back(r.finishMs);
    ASSERT_EQ(cancels.size(), 1u);
    std::int64_t preemptedSeen = 0, queuedSeen = 0, runningSeen = 0;
    for (const SchedulerSnapshot& live : run.live) {
        if (std::abs(live.timeMs - cancels.front()) < 1e-6) continue;
        PlaybackQuery q;
        q.timeMs = live.timeMs;
        q.maxQueued = 100000;
        const SchedulerSnapshot back = p.snapshotAt(q);
        SCOPED_TRACE("t = " + std::to_string(live.timeMs) + " ms");
        EXPECT_EQ(back.runningCount, live.runningCount);
        EXPECT_EQ(back.queueDepth, live.queueDepth);
        EXPECT_EQ(back.kv.usedBlocks, live.kv.usedBlocks);
        EXPECT_EQ(back.kv.cachedBlocks, live.kv.cachedBlocks);
        EXPECT_EQ(back.kv.freeBlocks, live.kv.freeBlocks);
        EXPECT_EQ(back.requestStats.submitted, live.requestStats.submitted);
        EXPECT_EQ(back.requestStats.completed, live.requestStats.completed);
        std::map<RequestId, const RequestSnapshot*> rebuilt;
        for (const RequestSnapshot& r : back.requests) rebuilt[r.id] = &r;
        // Every running and queued request of the live snapshot (finished ones are listed by
        // recency, differently bounded).
        for (std::size_t i = 0; i < live.requests.size(); ++i) {
            const RequestSnapshot& l = live.requests[i];
            if (isTerminal(l.state)) continue;
            auto it = rebuilt.find(l.id);
            ASSERT_NE(it, rebuilt.end()) << "request " << l.id;
            const RequestSnapshot& b = *it->second;
            EXPECT_EQ(int(b.state), int(l.state)) << "request " << l.id;
            EXPECT_EQ(b.generatedTokens, l.generatedTokens) << "request " << l.id;
            EXPECT_EQ(int(b.priority), int(l.priority)) << "request " << l.id;
            if (l.state == RequestState::Prefilling || l.state == RequestState::Decoding) {
                EXPECT_EQ(b.computedTokens, l.computedTokens) << "request " << l.id;
                ++runningSeen;
            }
            preemptedSeen += l.state == RequestState::Preempted;
            queuedSeen += l.state == RequestState::Queued;
        }
        EXPECT_EQ(std::int64_t(back.blocks.size()), p.trace().setup.numKvBlocks);
    }
    // The chosen times covered what matters.
    EXPECT_GT(runningSeen, 50);
    EXPECT_GT(queuedSeen, 50);
    EXPECT_GT(preemptedSeen, 0);
    removeTrace(run.path);
}

TEST(TracePlayback, ScrubbingBackwardsGivesTheSameSnapshot) {
    const RecordedRun run = recordRun("playback_scrub.sqlite");
    auto opened = TracePlayback::open(run.path);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    const TracePlayback& p = opened.value();
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> when(p.startMs(), p.endMs());
    std::vector<double> times(40);
    for (double& t : times) t = when(rng);
    std::vector<SchedulerSnapshot> forward;
    for (double t : times) forward.push_back(p.snapshotAt({t}));
    for (std::size_t i = times.size(); i-- > 0;) {   // the other way round
        const SchedulerSnapshot s = p.snapshotAt({times[i]});
        EXPECT_EQ(s.runningCount, forward[i].runningCount);
        EXPECT_EQ(s.queueDepth, forward[i].queueDepth);
        ASSERT_EQ(s.requests.size(), forward[i].requests.size());
        for (std::size_t r = 0; r < s.requests.size(); ++r) {
            EXPECT_EQ(s.requests[r].id, forward[i].requests[r].id);
            EXPECT_EQ(s.requests[r].generatedTokens, forward[i].requests[r].generatedTokens);
        }
    }
    // At the end every request has finished; steps after an index are the ones asked for.
    PlaybackQuery end{p.endMs()};
    end.history = 1000;
    const SchedulerSnapshot last = p.snapshotAt(end);
    EXPECT_EQ(last.runningCount, 0);
    EXPECT_EQ(last.queueDepth, 0);
    EXPECT_EQ(last.requestStats.completed, 160);
    EXPECT_EQ(last.requests.size(), 160u);
    PlaybackQuery some{p.endMs()};
    some.afterStep = std::int64_t(p.trace().steps.size()) - 6;
    EXPECT_EQ(p.snapshotAt(some).steps.size(), 5u);
    EXPECT_EQ(p.snapshotAt({p.startMs() - 1}).requests.size(), 0u);
    removeTrace(run.path);
}

TEST(TracePlayback, BadFilesGetClearErrors) {
    auto missing = TracePlayback::open(tempPath("no_such_trace.sqlite"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
    EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos) << missing.error().message;

    const std::string garbage = tempPath("garbage.sqlite");
    std::ofstream(garbage) << "this is not a database, just text that goes on for a while ............";
    auto corrupt = TracePlayback::open(garbage);
    ASSERT_FALSE(corrupt.ok());
    EXPECT_EQ(corrupt.error().code, ErrorCode::InvalidFormat);
    EXPECT_NE(corrupt.error().message.find("not a readable Batchscope trace"), std::string::npos)
        << corrupt.error().message;
    removeTrace(garbage);

    const RecordedRun run = recordRun("playback_version.sqlite");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(run.path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
    auto version = TracePlayback::open(run.path);
    ASSERT_FALSE(version.ok());
    EXPECT_NE(version.error().message.find("schema version 99"), std::string::npos) << version.error().message;
    removeTrace(run.path);
}
