// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/runtime/metrics_load_bench.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "engine/metrics/percentile.h"
#include "engine/metrics/scheduler_metrics_collector.h"
#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"
#include "engine/scheduling/continuous_batch_scheduler.h"

namespace batchscope::engine {

namespace {

using BenchClock = std::chrono::steady_clock;

double usSince(BenchClock::time_point t) {
    return std::chrono::duration<double, std::micro>(BenchClock::now() - t).count();
}

struct RunResult {
    double stepUs = 0;
    std::vector<double> readUs;
    double statisticsUs = 0;
    double freshUs = 0;
};

/// Records `n` finished requests with lognormal latencies straight into the collector.
void preload(SchedulerMetricsCollector& metrics, std::int64_t n) {
    std::mt19937_64 rng(5);
    std::lognormal_distribution<double> ttft(3.5, 0.7), perToken(2.5, 0.4);
    const auto at = metrics.now();
    for (std::int64_t i = 0; i < n; ++i) {
        GenerationResult r;
        r.finishReason = FinishReason::MaxTokens;
        r.usage.completionTokens = 64;
        r.timings.queueMs = ttft(rng) / 4;
        r.timings.timeToFirstTokenMs = ttft(rng);
        r.timings.totalMs = r.timings.timeToFirstTokenMs + 63 * perToken(rng);
        metrics.recordFinished(r, at);
    }
}

RunResult runOnce(const MetricsLoadOptions& o, bool loaded) {
    RunResult result;
    EngineConfig cfg;
    cfg.settings.maxBatchSize = o.running;
    cfg.settings.tokenBudget = 1 << 16;
    cfg.numKvBlocks = 1 << 16;
    cfg.queueCapacity = o.queued + o.running + 16;
    SimulatedExecutorConfig zero;
    zero.eosProbability = 0;
    auto created = Engine::create(cfg, std::make_unique<SimulatedExecutor>(zero));
    if (!created) return result;
    Engine& engine = *created.value();
    if (loaded) preload(engine.metrics(), o.finished);

    const std::int32_t warmup = 200;
    std::mutex mutex;
    std::condition_variable done;
    std::int64_t seen = 0;
    BenchClock::time_point start, end;
    engine.scheduler().setStepObserver([&](const StepRecord&) {
        std::lock_guard lock(mutex);
        ++seen;
        if (seen == warmup) start = BenchClock::now();
        if (seen == warmup + o.steps) {
            end = BenchClock::now();
            done.notify_all();
        }
    });
    GenerationOptions g;
    g.maxTokens = warmup + o.steps + 100;   // nobody finishes while measured
    g.ignoreEos = true;
    const std::int32_t requests = o.running + (loaded ? o.queued : 0);
    for (std::int32_t i = 0; i < requests; ++i)
        if (!engine.submit("metrics load " + std::to_string(i), g, {})) return result;

    std::atomic<bool> stop{false};
    std::thread reader;
    if (loaded) {
        reader = std::thread([&] {
            std::int64_t lastStep = -1;
            (void)engine.latestSnapshot();   // the first call builds one itself: not timed
            const auto period = std::chrono::microseconds(1000000 / std::max(1, o.readerHz));
            while (!stop.load()) {
                const auto t = BenchClock::now();
                const auto snapshot = engine.latestSnapshot();
                result.readUs.push_back(usSince(t));
                const auto steps = engine.stepsAfter(lastStep);
                if (!steps.empty()) lastStep = steps.back().index;
                if (snapshot->queueDepth < 0) break;   // keeps the read from being optimised out
                std::this_thread::sleep_until(t + period);
            }
        });
    }
    engine.start();
    {
        std::unique_lock lock(mutex);
        done.wait(lock, [&] { return seen >= warmup + o.steps; });
    }
    stop = true;
    if (reader.joinable()) reader.join();
    result.stepUs = std::chrono::duration<double, std::micro>(end - start).count() / double(o.steps);
    if (loaded) {
        auto t = BenchClock::now();
        (void)engine.metrics().getRequestStatistics();
        result.statisticsUs = usSince(t);
        t = BenchClock::now();
        (void)engine.snapshot();
        result.freshUs = usSince(t);
    }
    engine.stop();
    return result;
}

}  // namespace

MetricsLoadReport runMetricsLoadBench(const MetricsLoadOptions& options) {
    MetricsLoadReport report;
    report.options = options;
    std::vector<double> idle, loaded, ratios, reads, stats, fresh;
    for (std::int32_t r = 0; r < std::max(1, options.repetitions); ++r) {
        // Alternate the two cases so a machine-wide slowdown hits both alike.
        idle.push_back(runOnce(options, false).stepUs);
        RunResult l = runOnce(options, true);
        loaded.push_back(l.stepUs);
        if (idle.back() > 0) ratios.push_back(l.stepUs / idle.back());
        stats.push_back(l.statisticsUs);
        fresh.push_back(l.freshUs);
        report.readsPerRun = std::int64_t(l.readUs.size());
        for (double v : l.readUs) report.snapshotReadMaxUs = std::max(report.snapshotReadMaxUs, v);
        reads.insert(reads.end(), l.readUs.begin(), l.readUs.end());
    }
    report.idleStepUs = percentileOf(idle, 50);
    report.loadedStepUs = percentileOf(loaded, 50);
    report.stepRatio = percentileOf(ratios, 50);
    report.snapshotReadUs = percentileOf(reads, 50);
    report.statisticsReadUs = percentileOf(stats, 50);
    report.freshSnapshotUs = percentileOf(fresh, 50);
    return report;
}

}  // namespace batchscope::engine
