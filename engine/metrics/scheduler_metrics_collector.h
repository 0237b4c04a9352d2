// Collects request, batch, KV and error statistics and the recent step records.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/metrics/metrics_configuration.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"

namespace batchscope::engine {

/// Thread-safe (one internal mutex): the engine thread records, any thread reads. Times are
/// milliseconds; rates are per second of steady-clock time.
class SchedulerMetricsCollector {
public:
    using Clock = std::chrono::steady_clock;
    explicit SchedulerMetricsCollector(const MetricsConfiguration& config = {});

    void recordSubmitted(Clock::time_point at);
    void recordFinished(const GenerationResult& result, Clock::time_point at);
    void recordStep(const StepRecord& step, std::int32_t configuredMaxBatchSize);
    void recordError(const std::string& kind, bool stepFailure);
    void recordKv(const KvStatistics& kv);

    RequestStatistics getRequestStatistics() const;
    BatchStatistics getBatchStatistics() const;
    KvStatistics getKvStatistics() const;
    ErrorStatistics getErrorStatistics() const;
    // Spec-compatible names.
    RequestStatistics GetRequestStatistics() const { return getRequestStatistics(); }
    BatchStatistics GetBatchStatistics() const { return getBatchStatistics(); }
    ErrorStatistics GetErrorStatistics() const { return getErrorStatistics(); }

    /// Step records with index > afterStep, oldest first (bounded by the ring).
    std::vector<StepRecord> stepsAfter(std::int64_t afterStep) const;
    void recentLatencies(std::vector<double>& ttft, std::vector<double>& tpot, std::vector<double>& e2e) const;
    /// Prompt and generated tokens per second over the last `window`.
    void recentThroughput(Clock::time_point now, double& promptPerSecond, double& generatedPerSecond,
                          std::chrono::milliseconds window = std::chrono::milliseconds(1000)) const;
    void reset();

private:
    static LatencySummary summarize(const std::vector<double>& samples);
    void addSample(std::vector<double>& all, std::deque<double>& recent, double value);

    MetricsConfiguration m_config;
    mutable std::mutex m_mutex;
    std::int64_t m_submitted = 0, m_completed = 0;
    std::optional<Clock::time_point> m_firstSubmit, m_lastFinish;
    std::vector<double> m_queue, m_ttft, m_tpot, m_e2e;
    std::deque<double> m_recentTtft, m_recentTpot, m_recentE2e;
    std::map<FinishReason, std::int64_t> m_finishReasons;
    std::int64_t m_promptTokens = 0, m_generatedTokens = 0;
    // batch
    std::int64_t m_steps = 0, m_seqSum = 0, m_tokenSum = 0, m_preemptions = 0;
    std::int32_t m_maxBatch = 0;
    double m_utilSum = 0, m_stepMsSum = 0;
    std::deque<StepRecord> m_stepRing;
    struct Throughput { Clock::time_point at; std::int32_t prompt, generated; };
    std::deque<Throughput> m_throughput;
    KvStatistics m_kv;
    ErrorStatistics m_errors;
};

}  // namespace batchscope::engine
