// Collects request, batch, KV and error statistics and the recent step records.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/metrics/log_histogram.h"
#include "engine/metrics/metrics_configuration.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"

namespace batchscope::engine {

/// Thread-safe (one internal mutex): the engine thread records, any thread reads. Times are
/// milliseconds; rates are per second of steady-clock time.
///
/// Latencies go into streaming log-bucketed histograms (LogHistogram, all time and the last
/// MetricsConfiguration::windowSeconds): recording is O(1), memory is fixed whatever the number
/// of requests, and percentiles keep moving after any number of samples (relative error
/// <= relativeAccuracy). count/sum/min/max are exact. Reads cost O(buckets), not O(samples).
/// The clock (for windows and throughput) is injectable so tests need no sleeps.
class SchedulerMetricsCollector {
public:
    using Clock = std::chrono::steady_clock;
    using ClockFunction = std::function<Clock::time_point()>;
    explicit SchedulerMetricsCollector(const MetricsConfiguration& config = {}, ClockFunction clock = {});

    void recordSubmitted(Clock::time_point at);
    /// `at` is the finish time; it also places the latencies in the window.
    void recordFinished(const GenerationResult& result, Clock::time_point at);
    void recordStep(const StepRecord& step, std::int32_t configuredMaxBatchSize);
    void recordError(const std::string& kind, bool stepFailure);
    void recordKv(const KvStatistics& kv);

    RequestStatistics getRequestStatistics() const;
    /// With the window ending at `now` (the clock's now for the overload above).
    RequestStatistics getRequestStatistics(Clock::time_point now) const;
    BatchStatistics getBatchStatistics() const;
    KvStatistics getKvStatistics() const;
    ErrorStatistics getErrorStatistics() const;
    // Spec-compatible names.
    RequestStatistics GetRequestStatistics() const { return getRequestStatistics(); }
    BatchStatistics GetBatchStatistics() const { return getBatchStatistics(); }
    ErrorStatistics GetErrorStatistics() const { return getErrorStatistics(); }

    /// Step records with index > afterStep, oldest first (bounded by the ring).
    std::vector<StepRecord> stepsAfter(std::int64_t afterStep) const;
    /// The latest MetricsConfiguration::recentSamples latencies of each kind, oldest first.
    void recentLatencies(std::vector<double>& ttft, std::vector<double>& tpot, std::vector<double>& e2e) const;
    /// Prompt and generated tokens per second over the last `window` (at most 5 s; 100 ms
    /// resolution).
    void recentThroughput(Clock::time_point now, double& promptPerSecond, double& generatedPerSecond,
                          std::chrono::milliseconds window = std::chrono::milliseconds(1000)) const;
    void reset();
    Clock::time_point now() const { return m_clock(); }
    /// Heap bytes of the latency state (histograms and sample rings); bounded by the config.
    std::size_t latencyMemoryBytes() const;

private:
    static constexpr std::int64_t kThroughputSlotMs = 100;
    static constexpr std::size_t kThroughputSlots = 50;   // 5 s
    struct ThroughputSlot { std::int64_t epoch = -1; std::int64_t prompt = 0, generated = 0; };
    void addRecent(std::deque<double>& recent, double value);
    static std::int64_t throughputEpoch(Clock::time_point t);

    MetricsConfiguration m_config;
    ClockFunction m_clock;
    mutable std::mutex m_mutex;
    std::int64_t m_submitted = 0, m_completed = 0;
    std::optional<Clock::time_point> m_firstSubmit, m_lastFinish;
    WindowedHistogram m_queue, m_ttft, m_tpot, m_e2e;
    std::deque<double> m_recentTtft, m_recentTpot, m_recentE2e;
    std::map<FinishReason, std::int64_t> m_finishReasons;
    std::int64_t m_promptTokens = 0, m_generatedTokens = 0;
    // batch
    std::int64_t m_steps = 0, m_seqSum = 0, m_tokenSum = 0, m_preemptions = 0;
    std::int32_t m_maxBatch = 0;
    double m_utilSum = 0, m_stepMsSum = 0;
    std::deque<StepRecord> m_stepRing;   // indices increasing
    std::array<ThroughputSlot, kThroughputSlots> m_throughput{};
    KvStatistics m_kv;
    ErrorStatistics m_errors;
};

}  // namespace batchscope::engine
