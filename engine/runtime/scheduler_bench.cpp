// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/runtime/scheduler_bench.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <mutex>
#include <random>

#include "engine/metrics/percentile.h"
#include "engine/runtime/engine.h"
#include "engine/scheduling/scheduler_client.h"

namespace batchscope::engine {

namespace {

struct Workload {
    std::vector<std::string> prompts;
    std::vector<std::int32_t> outputTokens;
};

double median(std::vector<double> v) { return percentileOf(std::move(v), 50); }

/// Output lengths log-uniform in [16, 512]: many short answers, a few long ones, as in chat
/// traces; prompt lengths uniform in [32, 256] bytes.
Workload mixedWorkload(std::int32_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> logLen(std::log(16.0), std::log(512.0));
    std::uniform_int_distribution<int> promptLen(32, 256);
    Workload w;
    for (std::int32_t i = 0; i < n; ++i) {
        w.prompts.push_back(std::string(std::size_t(promptLen(rng)), char('a' + i % 26)) + std::to_string(i));
        w.outputTokens.push_back(std::int32_t(std::lround(std::exp(logLen(rng)))));
    }
    return w;
}

/// Runs one workload on a fresh engine and measures it.
BenchRun runOnce(const std::string& name, const EngineConfig& config, const SimulatedExecutorConfig& cost,
                 const Workload& work, const std::string& recordPath = {}) {
    EngineConfig cfg = config;
    auto created = Engine::create(cfg, std::make_unique<SimulatedExecutor>(cost));
    if (!created) return BenchRun{name};
    Engine& engine = *created.value();
    if (!recordPath.empty() && !engine.startRecording(recordPath)) return BenchRun{name};
    std::mutex mutex;
    std::vector<double> scheduleUs;
    double utilSum = 0;
    engine.scheduler().setStepObserver([&](const StepRecord& s) {
        std::lock_guard lock(mutex);
        scheduleUs.push_back(s.scheduleUs);
        utilSum += 100.0 * double(s.entries.size()) / double(s.maxBatchSize);
    });
    std::vector<std::future<GenerationResult>> futures;
    for (std::size_t i = 0; i < work.prompts.size(); ++i) {
        GenerationOptions o;
        o.maxTokens = work.outputTokens[i];
        o.ignoreEos = true;
        futures.push_back(engine.client().generate(work.prompts[i], o));
    }
    const auto start = std::chrono::steady_clock::now();
    engine.start();
    BenchRun run{name};
    for (auto& f : futures) {
        GenerationResult r = f.get();
        run.generatedTokens += r.usage.completionTokens;
    }
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    engine.stop();
    engine.stopRecording();
    const SchedulerSnapshot snap = engine.snapshot();
    run.requests = std::int32_t(work.prompts.size());
    run.promptTokensComputed = snap.requestStats.promptTokens;
    run.requestsPerSecond = run.requests / run.seconds;
    run.generatedTokensPerSecond = double(run.generatedTokens) / run.seconds;
    run.timeToFirstToken = snap.requestStats.timeToFirstToken;
    run.endToEnd = snap.requestStats.endToEnd;
    run.timePerOutputToken = snap.requestStats.timePerOutputToken;
    run.prefixHits = snap.kv.prefixHits;
    std::lock_guard lock(mutex);
    run.steps = std::int64_t(scheduleUs.size());
    run.averageUtilization = scheduleUs.empty() ? 0 : utilSum / double(scheduleUs.size());
    run.medianScheduleUs = median(scheduleUs);
    run.p99ScheduleUs = percentileOf(scheduleUs, 99);
    return run;
}

/// The repetition with the median throughput.
BenchRun medianRun(std::vector<BenchRun> runs) {
    std::sort(runs.begin(), runs.end(), [](const BenchRun& a, const BenchRun& b) {
        return a.generatedTokensPerSecond < b.generatedTokensPerSecond;
    });
    return runs[runs.size() / 2];
}

/// The mixed workload's engine and step cost (section 1 of runSchedulerBench).
void mixedSetup(std::int32_t maxBatchSize, EngineConfig& cfg, SimulatedExecutorConfig& cost) {
    cost.stepOverheadUs = 1000;
    cost.perTokenUs = 2;
    cost.perSequenceUs = 10;
    cost.eosProbability = 0;
    cost.busyWait = true;
    cfg.settings.maxBatchSize = maxBatchSize;
    cfg.settings.tokenBudget = 16384;  // admit a whole static batch in one step
    cfg.numKvBlocks = 65536;
    cfg.queueCapacity = 1 << 16;
}

}  // namespace

RecordingOverheadReport runRecordingOverheadBench(std::int32_t repetitions, bool quick, const std::string& tracePath) {
    RecordingOverheadReport report;
    report.repetitions = std::max(1, repetitions);
    const std::int32_t scale = quick ? 4 : 1;
    EngineConfig cfg;
    SimulatedExecutorConfig cost;
    mixedSetup(32, cfg, cost);
    const Workload mixed = mixedWorkload(192 / scale, 7);
    SimulatedExecutorConfig zero;
    zero.eosProbability = 0;
    EngineConfig over;
    over.settings.maxBatchSize = 256;
    over.settings.tokenBudget = 1 << 16;
    over.numKvBlocks = 1 << 16;
    over.queueCapacity = 1 << 16;
    Workload decode;
    for (std::int32_t i = 0; i < 256; ++i) {
        decode.prompts.push_back("overhead " + std::to_string(i));
        decode.outputTokens.push_back(400 / scale);
    }
    std::vector<BenchRun> mp, mr, dp, dr;
    for (std::int32_t r = 0; r < report.repetitions; ++r) {
        // Interleaved, so drift in the machine's load hits both sides alike.
        mp.push_back(runOnce("mixed", cfg, cost, mixed));
        mr.push_back(runOnce("mixed recorded", cfg, cost, mixed, tracePath));
        dp.push_back(runOnce("decode", over, zero, decode));
        dr.push_back(runOnce("decode recorded", over, zero, decode, tracePath));
    }
    report.mixedPlain = medianRun(mp);
    report.mixedRecorded = medianRun(mr);
    report.decodePlain = medianRun(dp);
    report.decodeRecorded = medianRun(dr);
    if (report.mixedPlain.generatedTokensPerSecond > 0)
        report.mixedRatio = report.mixedRecorded.generatedTokensPerSecond / report.mixedPlain.generatedTokensPerSecond;
    if (report.decodePlain.generatedTokensPerSecond > 0)
        report.decodeRatio = report.decodeRecorded.generatedTokensPerSecond / report.decodePlain.generatedTokensPerSecond;
    return report;
}

SchedulerBenchReport runSchedulerBench(const SchedulerBenchOptions& options) {
    SchedulerBenchReport report;
    const std::int32_t reps = std::max(1, options.repetitions);
    const std::int32_t scale = options.quick ? 4 : 1;

    // 1. Continuous vs static batching on mixed output lengths. Step cost is memory-bound
    //    decode: a fixed weight-read cost per step plus small per-token/per-sequence terms.
    SimulatedExecutorConfig cost;
    EngineConfig cfg;
    mixedSetup(options.maxBatchSize, cfg, cost);
    report.costModel = cost;
    report.maxBatchSize = options.maxBatchSize;
    const Workload mixed = mixedWorkload(options.mixedRequests / scale, options.seed);
    std::vector<BenchRun> cont, stat;
    for (std::int32_t r = 0; r < reps; ++r) {
        cont.push_back(runOnce("continuous", cfg, cost, mixed, r == 0 ? options.recordPath : std::string()));
        EngineConfig s = cfg;
        s.staticBatching = true;
        stat.push_back(runOnce("static", s, cost, mixed));
    }
    report.continuous = medianRun(cont);
    report.staticBatching = medianRun(stat);
    if (report.staticBatching.generatedTokensPerSecond > 0)
        report.throughputRatio = report.continuous.generatedTokensPerSecond / report.staticBatching.generatedTokensPerSecond;

    // 2. Scheduler overhead: N sequences decoding together against a zero-cost executor.
    SimulatedExecutorConfig zero;
    zero.eosProbability = 0;
    EngineConfig over;
    over.settings.maxBatchSize = options.overheadSequences;
    over.settings.tokenBudget = 1 << 16;
    over.numKvBlocks = 1 << 16;
    over.queueCapacity = 1 << 16;
    Workload decode;
    for (std::int32_t i = 0; i < options.overheadSequences; ++i) {
        decode.prompts.push_back("overhead " + std::to_string(i));
        decode.outputTokens.push_back(options.overheadSteps / scale);
    }
    std::vector<BenchRun> overheads;
    for (std::int32_t r = 0; r < reps; ++r) overheads.push_back(runOnce("overhead", over, zero, decode));
    std::sort(overheads.begin(), overheads.end(), [](const BenchRun& a, const BenchRun& b) { return a.medianScheduleUs < b.medianScheduleUs; });
    report.overhead = overheads[overheads.size() / 2];

    // 3. Prefix caching on/off: 64 requests sharing a 512-token prefix.
    SimulatedExecutorConfig prefill;
    prefill.stepOverheadUs = 500;
    prefill.perTokenUs = 20;
    prefill.eosProbability = 0;
    prefill.busyWait = true;
    Workload shared;
    const std::string prefix(511, 'S');  // + BOS = 512 tokens
    for (std::int32_t i = 0; i < 64 / scale; ++i) {
        shared.prompts.push_back(prefix + " question " + std::to_string(i) + std::string(20, 'q'));
        shared.outputTokens.push_back(16);
    }
    EngineConfig on;
    on.settings.maxBatchSize = 16;
    on.settings.tokenBudget = 1024;
    on.numKvBlocks = 8192;
    EngineConfig off = on;
    off.settings.prefixCaching = false;
    std::vector<BenchRun> ons, offs;
    for (std::int32_t r = 0; r < reps; ++r) {
        ons.push_back(runOnce("prefix cache on", on, prefill, shared));
        offs.push_back(runOnce("prefix cache off", off, prefill, shared));
    }
    report.prefixOn = medianRun(ons);
    report.prefixOff = medianRun(offs);

    // 4. Engine overhead per step with 1,000,000 finished requests recorded and 10,000 queued,
    //    read by a 30 Hz snapshot reader, vs an idle collector.
    if (options.metricsLoad) {
        MetricsLoadOptions m;
        m.repetitions = std::max(5, reps);
        if (options.quick) {
            m.finished = 100000;
            m.queued = 1000;
            m.steps = 500;
        }
        report.metricsLoad = runMetricsLoadBench(m);
    }
    return report;
}

}  // namespace batchscope::engine
