// Recording: a run's requests, steps and settings land in the SQLite trace; reading refuses
// what is not a trace; a writer killed with SIGKILL leaves a readable trace.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"
#include "engine/scheduling/scheduler_client.h"
#include "engine/trace/prefix_hash.h"
#include "engine/trace/trace_reader.h"

using namespace batchscope::engine;
using namespace std::chrono_literals;

namespace {

std::string tempPath(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("batchscope_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::unique_ptr<Engine> simulatedEngine(double perStepUs = 200) {
    SimulatedExecutorConfig sc;
    sc.eosProbability = 0;
    sc.stepOverheadUs = perStepUs;
    EngineConfig c;
    c.numKvBlocks = 512;
    c.settings.maxBatchSize = 8;
    auto e = Engine::create(c, std::make_unique<SimulatedExecutor>(sc));
    EXPECT_TRUE(e.ok());
    return std::move(e.value());
}

}  // namespace

TEST(PrefixHash, EqualPrefixesGiveEqualLeadingHashes) {
    std::vector<TokenId> a(64), b(64);
    for (int i = 0; i < 64; ++i) a[std::size_t(i)] = b[std::size_t(i)] = 300 + i;
    b[40] = 7;   // differs in block 2 (of 16 tokens)
    const auto ha = prefixBlockHashes(a, 16), hb = prefixBlockHashes(b, 16);
    ASSERT_EQ(ha.size(), 4u);
    EXPECT_EQ(ha[0], hb[0]);
    EXPECT_EQ(ha[1], hb[1]);
    EXPECT_NE(ha[2], hb[2]);
    EXPECT_NE(ha[3], hb[3]);   // chained: everything after a difference differs
    EXPECT_EQ(prefixBlockHashes(std::span<const TokenId>(a).first(15), 16).size(), 0u);
    // Rebuilt prompts share exactly the blocks the hashes share.
    const auto pa = promptFromPrefixHashes(ha, 70, 16, 1, 258, 1000), pb = promptFromPrefixHashes(hb, 70, 16, 2, 258, 1000);
    ASSERT_EQ(pa.size(), 70u);
    EXPECT_TRUE(std::equal(pa.begin(), pa.begin() + 32, pb.begin()));
    EXPECT_FALSE(std::equal(pa.begin() + 32, pa.begin() + 48, pb.begin() + 32));
    for (TokenId t : pa) EXPECT_TRUE(t >= 258 && t < 1258);
}

TEST(TraceRecorder, RecordsRequestsStepsAndSettings) {
    const std::string path = tempPath("record.sqlite");
    auto engine = simulatedEngine();
    ASSERT_TRUE(engine->startRecording(path).ok());
    EXPECT_EQ(engine->recordingPath(), path);
    engine->start();
    std::vector<std::future<GenerationResult>> futures;
    for (int i = 0; i < 20; ++i) {
        GenerationOptions o;
        o.maxTokens = 3 + i % 5;
        o.ignoreEos = true;
        o.priority = i % 4 == 0 ? Priority::High : Priority::Normal;
        o.client = "test-client";
        futures.push_back(engine->client().generate(std::string(40 + i, 'x'), o));
    }
    std::int64_t generated = 0;
    for (auto& f : futures) generated += f.get().usage.completionTokens;
    SchedulerSettings s = engine->settings();
    s.tokenBudget = 99;
    engine->applySettings(s);
    std::this_thread::sleep_for(200ms);   // the loop applies it within its idle wait (20 ms)
    engine->stop();
    engine->stopRecording();
    EXPECT_TRUE(engine->recordingPath().empty());

    auto trace = readTrace(path);
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    EXPECT_EQ(trace->meta.at("schema_version"), "1");
    EXPECT_EQ(trace->meta.at("model"), "simulated");
    EXPECT_EQ(trace->setup.numKvBlocks, 512);
    EXPECT_EQ(trace->setup.settings.maxBatchSize, 8);
    EXPECT_EQ(trace->setup.settings.tokenBudget, 512);   // the first settings row, not the later change
    ASSERT_EQ(trace->requests.size(), 20u);
    std::int64_t recordedOutput = 0;
    for (const auto& r : trace->requests) {
        EXPECT_TRUE(r.finished);
        EXPECT_EQ(r.finishReason, FinishReason::MaxTokens);
        EXPECT_EQ(r.client, "test-client");
        EXPECT_EQ(r.prefixHashes.size(), std::size_t(r.promptTokens / 16));
        ASSERT_TRUE(r.firstTokenMs.has_value());
        EXPECT_GE(*r.firstTokenMs, r.arrivalMs);
        EXPECT_GE(r.finishMs, *r.firstTokenMs);
        recordedOutput += r.outputTokens;
    }
    EXPECT_EQ(recordedOutput, generated);
    // All 20 prompts start with the same 40 'x' bytes: block 0 and 1 hashes are shared.
    EXPECT_EQ(trace->requests[0].prefixHashes[0], trace->requests[19].prefixHashes[0]);
    ASSERT_FALSE(trace->steps.empty());
    std::int64_t prefill = 0, decode = 0;
    for (const auto& st : trace->steps) {
        prefill += st.prefillTokens;
        decode += st.decodeTokens;
        EXPECT_GT(st.attendedContext, 0);
        EXPECT_EQ(st.kvUsed + st.kvCached + st.kvFree, 512);
    }
    EXPECT_EQ(decode + 20, generated);   // each request's first token comes from its prefill step
    EXPECT_GT(prefill, 0);

    // The settings change is a second settings row; the file is readable by plain SQLite.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*), MAX(token_budget) FROM settings", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_GE(sqlite3_column_int(st, 0), 2);
    EXPECT_EQ(sqlite3_column_int(st, 1), 512);
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT MIN(token_budget) FROM settings", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 99);
    sqlite3_finalize(st);
    // The step_sequences view unpacks each step's JSON: one row per sequence per step.
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT (SELECT COUNT(*) FROM step_sequences), (SELECT SUM(sequences) FROM steps), "
                                     "(SELECT SUM(decode_tokens) FROM step_sequences)", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_GT(sqlite3_column_int(st, 0), 0);
    EXPECT_EQ(sqlite3_column_int(st, 0), sqlite3_column_int(st, 1));
    EXPECT_EQ(sqlite3_column_int64(st, 2), decode);
    sqlite3_finalize(st);
    sqlite3_close(db);
    std::filesystem::remove(path);
}

TEST(TraceRecorder, CancelsAndPriorityChangesAreEvents) {
    const std::string path = tempPath("events.sqlite");
    auto engine = simulatedEngine(2000);
    ASSERT_TRUE(engine->startRecording(path).ok());
    SchedulerSettings s = engine->settings();
    s.paused = true;   // nothing runs: the changes apply to queued requests
    engine->applySettings(s);
    engine->start();
    GenerationOptions o;
    o.maxTokens = 2;
    auto a = engine->submit("first", o, {});
    auto b = engine->submit("second", o, {});
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(engine->setPriority(a.value(), Priority::Critical));
    EXPECT_TRUE(engine->cancel(b.value()));
    std::this_thread::sleep_for(100ms);
    s.paused = false;
    engine->applySettings(s);
    engine->stop();
    engine->stopRecording();
    auto trace = readTrace(path);
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    ASSERT_EQ(trace->requests.size(), 2u);
    EXPECT_EQ(trace->requests[0].priorityChanges.size(), 1u);
    EXPECT_EQ(trace->requests[0].priorityChanges[0].second, int(Priority::Critical));
    EXPECT_EQ(trace->requests[1].finishReason, FinishReason::Cancelled);
    const ReplayWorkload w = workloadFromTrace(trace.value());
    ASSERT_EQ(w.requests.size(), 2u);
    EXPECT_TRUE(w.requests[1].cancelAfterSeconds.has_value());
    EXPECT_EQ(w.requests[1].outputTokens, 2);   // cancelled: replays up to its max tokens
    ASSERT_EQ(w.priorityChanges.size(), 1u);
    EXPECT_EQ(w.priorityChanges[0].request, 0u);
    std::filesystem::remove(path);
}

TEST(TraceReader, RefusesWhatIsNotATrace) {
    auto missing = readTrace(tempPath("does-not-exist.sqlite"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::NotFound);

    const std::string garbage = tempPath("garbage.sqlite");
    std::ofstream(garbage) << "this is not a database, just text that goes on for a while............";
    auto g = readTrace(garbage);
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error().code, ErrorCode::InvalidFormat);
    EXPECT_NE(g.error().message.find(garbage), std::string::npos);
    std::filesystem::remove(garbage);

    const std::string future = tempPath("future.sqlite");
    {
        auto engine = simulatedEngine();
        ASSERT_TRUE(engine->startRecording(future).ok());
        engine->stopRecording();
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(future.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto f = readTrace(future);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find("schema version 99"), std::string::npos) << f.error().message;
    std::filesystem::remove(future);
}

TEST(TraceRecorder, StartRecordingReportsAnUnwritablePath) {
    auto engine = simulatedEngine();
    auto st = engine->startRecording("/nonexistent-dir/x/trace.sqlite");
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("/nonexistent-dir/x/trace.sqlite"), std::string::npos);
}

// The child of SurvivesKillMinus9: records an endless stream of requests until it is killed.
// Disabled, so it runs only when that test starts it (a fresh exec of this binary, not a fork
// of a process that may hold threads: sanitizer runtimes do not support threads after fork).
TEST(TraceRecorderChild, DISABLED_RecordUntilKilled) {
    const char* path = std::getenv("BATCHSCOPE_TRACE_CHILD_PATH");
    if (!path) GTEST_SKIP() << "started by TraceRecorder.SurvivesKillMinus9 only";
    auto engine = simulatedEngine(500);
    if (!engine->startRecording(path).ok()) std::_Exit(3);
    engine->start();
    for (int i = 0;; ++i) {
        GenerationOptions o;
        o.maxTokens = 4;
        o.ignoreEos = true;
        (void)engine->submit("request " + std::to_string(i), o, {});
        std::this_thread::sleep_for(2ms);
    }
}

// A recording process killed with SIGKILL leaves a trace readable up to its last commit
// (commits every 250 ms; WAL journal).
TEST(TraceRecorder, SurvivesKillMinus9) {
    const std::string path = tempPath("killed.sqlite");
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::setenv("BATCHSCOPE_TRACE_CHILD_PATH", path.c_str(), 1);
        ::execl(self.c_str(), self.c_str(), "--gtest_also_run_disabled_tests",
                "--gtest_filter=TraceRecorderChild.DISABLED_RecordUntilKilled", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Wait until at least one commit with finished requests is visible, then kill.
    bool seen = false;
    for (int i = 0; i < 200 && !seen; ++i) {
        std::this_thread::sleep_for(50ms);
        auto t = readTrace(path);
        seen = t.ok() && t->requests.size() >= 20 && !t->steps.empty();
    }
    std::this_thread::sleep_for(600ms);   // more than two commit intervals
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    ASSERT_TRUE(seen) << "the child never committed a readable trace";
    auto trace = readTrace(path);
    ASSERT_TRUE(trace.ok()) << trace.error().message;
    EXPECT_GE(trace->requests.size(), 20u);
    EXPECT_FALSE(trace->steps.empty());
    std::size_t finished = 0;
    for (const auto& r : trace->requests) finished += r.finished;
    EXPECT_GT(finished, 0u);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
