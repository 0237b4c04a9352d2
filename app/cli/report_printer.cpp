// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/cli/report_printer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <cstdio>

namespace batchscope::app {

namespace {
void printLatency(const char* name, const engine::LatencySummary& s) {
    std::printf("  %-22s mean %8.2f  p50 %8.2f  p95 %8.2f  p99 %8.2f ms  (n=%lld)\n", name, s.mean, s.p50, s.p95,
                s.p99, (long long)s.count);
}

QJsonObject latencyJson(const engine::LatencySummary& s) {
    return {{"mean_ms", s.mean}, {"p50_ms", s.p50}, {"p95_ms", s.p95}, {"p99_ms", s.p99}, {"count", qint64(s.count)}};
}

QJsonObject runJson(const engine::BenchRun& r) {
    return {{"name", QString::fromStdString(r.name)}, {"seconds", r.seconds}, {"requests", r.requests},
            {"requests_per_second", r.requestsPerSecond}, {"generated_tokens", qint64(r.generatedTokens)},
            {"generated_tokens_per_second", r.generatedTokensPerSecond},
            {"prompt_tokens_computed", qint64(r.promptTokensComputed)}, {"ttft", latencyJson(r.timeToFirstToken)},
            {"tpot", latencyJson(r.timePerOutputToken)}, {"end_to_end", latencyJson(r.endToEnd)},
            {"average_batch_utilization_percent", r.averageUtilization}, {"steps", qint64(r.steps)},
            {"median_schedule_us", r.medianScheduleUs}, {"p99_schedule_us", r.p99ScheduleUs},
            {"prefix_hits", qint64(r.prefixHits)}};
}

void printRun(const engine::BenchRun& r) {
    std::printf("%-18s %8.1f %10.1f %9.1f %9.1f %9.1f %7.1f%% %9lld %8.1f\n", r.name.c_str(), r.requestsPerSecond,
                r.generatedTokensPerSecond, r.timeToFirstToken.p50, r.endToEnd.p50, r.endToEnd.p99,
                r.averageUtilization, (long long)r.promptTokensComputed, r.medianScheduleUs);
}
}  // namespace

void printMetricsSummary(const engine::SchedulerSnapshot& s) {
    const auto& r = s.requestStats;
    const auto& b = s.batchStats;
    std::printf("\nrequests: %lld submitted, %lld completed, %.2f requests/s; %lld prompt tokens computed, "
                "%lld generated\n", (long long)r.submitted, (long long)r.completed, r.requestsPerSecond,
                (long long)r.promptTokens, (long long)r.generatedTokens);
    printLatency("queue time", r.queueTime);
    printLatency("time to first token", r.timeToFirstToken);
    printLatency("time per output token", r.timePerOutputToken);
    printLatency("end to end", r.endToEnd);
    std::printf("batches: %lld steps, max %d sequences, average %.2f (%.1f%% of max batch size), %.1f tokens/step, "
                "%.2f ms/step, %lld preemptions\n", (long long)b.steps, b.maxBatchSize, b.averageBatchSize,
                b.averageUtilization, b.averageTokensPerStep, b.averageStepMs, (long long)b.preemptions);
    std::printf("kv cache: %d blocks of %d tokens: %d used, %d cached, %d free; prefix hit rate %.1f%% (%lld/%lld)\n",
                s.kv.totalBlocks, s.blockSize, s.kv.usedBlocks, s.kv.cachedBlocks, s.kv.freeBlocks,
                100.0 * s.kv.prefixHitRate(), (long long)s.kv.prefixHits, (long long)s.kv.prefixQueries);
    std::printf("errors: %lld\n", (long long)s.errorStats.totalErrors);
}

void printSchedulerBench(const engine::SchedulerBenchReport& rep) {
    std::printf("%-18s %8s %10s %9s %9s %9s %8s %9s %8s\n", "scenario", "req/s", "gen tok/s", "ttft p50",
                "e2e p50", "e2e p99", "util", "prefill", "sched us");
    for (const auto* r : {&rep.continuous, &rep.staticBatching, &rep.overhead, &rep.prefixOn, &rep.prefixOff})
        printRun(*r);
    std::printf("\ncontinuous / static batching throughput: %.2fx (cost model: %.0f us/step + %.0f us/token + "
                "%.0f us/sequence; outputs log-uniform 16-512 tokens; max batch %d)\n",
                rep.throughputRatio, rep.costModel.stepOverheadUs, rep.costModel.perTokenUs,
                rep.costModel.perSequenceUs, rep.maxBatchSize);
    std::printf("scheduler overhead with %s: median %.1f us/step, p99 %.1f us/step over %lld steps\n",
                "256 running sequences and a zero-cost executor", rep.overhead.medianScheduleUs,
                rep.overhead.p99ScheduleUs, (long long)rep.overhead.steps);
    std::printf("prefix caching (shared 512-token prefix): prefill tokens computed %lld on vs %lld off; "
                "TTFT p50 %.1f ms on vs %.1f ms off\n", (long long)rep.prefixOn.promptTokensComputed,
                (long long)rep.prefixOff.promptTokensComputed, rep.prefixOn.timeToFirstToken.p50,
                rep.prefixOff.timeToFirstToken.p50);
    printMetricsLoad(rep.metricsLoad);
}

void printMetricsLoad(const engine::MetricsLoadReport& m) {
    if (m.idleStepUs > 0) {
        std::printf("metrics under load (%lld finished, %d queued, %d running, %d Hz snapshot reader; medians of %d "
                    "runs of %d steps): engine %.1f us/step vs %.1f idle, paired ratio %.3fx (target <= 1.10); snapshot read "
                    "median %.2f us, max %.1f us (target < 1000); statistics read %.1f us; fresh snapshot %.1f us\n",
                    (long long)m.options.finished, m.options.queued, m.options.running, m.options.readerHz,
                    m.options.repetitions, m.options.steps, m.loadedStepUs, m.idleStepUs, m.stepRatio,
                    m.snapshotReadUs, m.snapshotReadMaxUs, m.statisticsReadUs, m.freshSnapshotUs);
    }
}

std::string schedulerBenchJson(const engine::SchedulerBenchReport& rep) {
    QJsonObject o{{"continuous", runJson(rep.continuous)}, {"static", runJson(rep.staticBatching)},
                  {"overhead", runJson(rep.overhead)}, {"prefix_cache_on", runJson(rep.prefixOn)},
                  {"prefix_cache_off", runJson(rep.prefixOff)}, {"continuous_vs_static_ratio", rep.throughputRatio},
                  {"metrics_load", QJsonObject{{"finished", qint64(rep.metricsLoad.options.finished)},
                                               {"queued", rep.metricsLoad.options.queued},
                                               {"idle_step_us", rep.metricsLoad.idleStepUs},
                                               {"loaded_step_us", rep.metricsLoad.loadedStepUs},
                                               {"step_ratio", rep.metricsLoad.stepRatio},
                                               {"snapshot_read_us", rep.metricsLoad.snapshotReadUs},
                                               {"snapshot_read_max_us", rep.metricsLoad.snapshotReadMaxUs},
                                               {"statistics_read_us", rep.metricsLoad.statisticsReadUs},
                                               {"fresh_snapshot_us", rep.metricsLoad.freshSnapshotUs}}}};
    return QJsonDocument(o).toJson(QJsonDocument::Indented).toStdString();
}

}  // namespace batchscope::app
