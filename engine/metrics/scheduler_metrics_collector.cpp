// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/metrics/scheduler_metrics_collector.h"

#include <algorithm>

namespace batchscope::engine {

namespace {
double msBetween(SchedulerMetricsCollector::Clock::time_point a, SchedulerMetricsCollector::Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}
std::chrono::milliseconds windowOf(const MetricsConfiguration& c) {
    return std::chrono::milliseconds(1000LL * std::max(1, c.windowSeconds));
}
}  // namespace

SchedulerMetricsCollector::SchedulerMetricsCollector(const MetricsConfiguration& config, ClockFunction clock)
    : m_config(config), m_clock(clock ? std::move(clock) : ClockFunction([] { return Clock::now(); })),
      m_queue(windowOf(config), config.windowSlots, config.relativeAccuracy),
      m_ttft(windowOf(config), config.windowSlots, config.relativeAccuracy),
      m_tpot(windowOf(config), config.windowSlots, config.relativeAccuracy),
      m_e2e(windowOf(config), config.windowSlots, config.relativeAccuracy) {}

void SchedulerMetricsCollector::addRecent(std::deque<double>& recent, double value) {
    recent.push_back(value);
    while (std::int32_t(recent.size()) > m_config.recentSamples) recent.pop_front();
}

std::int64_t SchedulerMetricsCollector::throughputEpoch(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() / kThroughputSlotMs;
}

void SchedulerMetricsCollector::recordSubmitted(Clock::time_point at) {
    std::lock_guard lock(m_mutex);
    ++m_submitted;
    if (!m_firstSubmit) m_firstSubmit = at;
}

void SchedulerMetricsCollector::recordFinished(const GenerationResult& r, Clock::time_point at) {
    std::lock_guard lock(m_mutex);
    ++m_completed;
    m_lastFinish = at;
    ++m_finishReasons[r.finishReason];
    if (r.finishReason == FinishReason::Cancelled || r.finishReason == FinishReason::Error) return;
    m_queue.record(r.timings.queueMs, at);
    if (r.usage.completionTokens > 0) {
        m_ttft.record(r.timings.timeToFirstTokenMs, at);
        addRecent(m_recentTtft, r.timings.timeToFirstTokenMs);
        if (r.usage.completionTokens > 1) {
            const double tpot = (r.timings.totalMs - r.timings.timeToFirstTokenMs) / double(r.usage.completionTokens - 1);
            m_tpot.record(tpot, at);
            addRecent(m_recentTpot, tpot);
        }
    }
    m_e2e.record(r.timings.totalMs, at);
    addRecent(m_recentE2e, r.timings.totalMs);
}

void SchedulerMetricsCollector::recordStep(const StepRecord& step, std::int32_t configuredMaxBatchSize) {
    const auto now = m_clock();
    std::lock_guard lock(m_mutex);
    const auto seqs = std::int32_t(step.entries.size());
    ++m_steps;
    m_seqSum += seqs;
    m_tokenSum += step.prefillTokens + step.decodeTokens;
    m_maxBatch = std::max(m_maxBatch, seqs);
    if (configuredMaxBatchSize > 0) m_utilSum += 100.0 * seqs / configuredMaxBatchSize;
    m_stepMsSum += step.durationMs;
    m_preemptions += step.preempted;
    m_promptTokens += step.prefillTokens;
    m_generatedTokens += step.generatedTokens;
    m_stepRing.push_back(step);
    while (std::int32_t(m_stepRing.size()) > m_config.stepHistory) m_stepRing.pop_front();
    const std::int64_t epoch = throughputEpoch(now);
    ThroughputSlot& slot = m_throughput[std::size_t(epoch % std::int64_t(kThroughputSlots))];
    if (slot.epoch != epoch) slot = ThroughputSlot{epoch, 0, 0};
    slot.prompt += step.prefillTokens;
    slot.generated += step.generatedTokens;
}

void SchedulerMetricsCollector::recordError(const std::string& kind, bool stepFailure) {
    std::lock_guard lock(m_mutex);
    ++m_errors.totalErrors;
    if (stepFailure) ++m_errors.failedSteps; else ++m_errors.failedRequests;
    ++m_errors.byKind[kind];
}

void SchedulerMetricsCollector::recordKv(const KvStatistics& kv) {
    std::lock_guard lock(m_mutex);
    m_kv = kv;
}

RequestStatistics SchedulerMetricsCollector::getRequestStatistics() const { return getRequestStatistics(m_clock()); }

RequestStatistics SchedulerMetricsCollector::getRequestStatistics(Clock::time_point now) const {
    std::lock_guard lock(m_mutex);
    RequestStatistics s;
    s.submitted = m_submitted;
    s.completed = m_completed;
    if (m_firstSubmit && m_lastFinish && *m_lastFinish > *m_firstSubmit)
        s.requestsPerSecond = double(m_completed) / (msBetween(*m_firstSubmit, *m_lastFinish) / 1000.0);
    s.queueTime = m_queue.allTime().summary();
    s.timeToFirstToken = m_ttft.allTime().summary();
    s.timePerOutputToken = m_tpot.allTime().summary();
    s.endToEnd = m_e2e.allTime().summary();
    s.windowSeconds = double(m_config.windowSeconds);
    s.recentQueueTime = m_queue.window(now).summary();
    s.recentTimeToFirstToken = m_ttft.window(now).summary();
    s.recentTimePerOutputToken = m_tpot.window(now).summary();
    s.recentEndToEnd = m_e2e.window(now).summary();
    s.promptTokens = m_promptTokens;
    s.generatedTokens = m_generatedTokens;
    s.finishReasons = m_finishReasons;
    return s;
}

BatchStatistics SchedulerMetricsCollector::getBatchStatistics() const {
    std::lock_guard lock(m_mutex);
    BatchStatistics s;
    s.steps = m_steps;
    s.maxBatchSize = m_maxBatch;
    s.preemptions = m_preemptions;
    if (m_steps > 0) {
        s.averageBatchSize = double(m_seqSum) / double(m_steps);
        s.averageUtilization = m_utilSum / double(m_steps);
        s.averageTokensPerStep = double(m_tokenSum) / double(m_steps);
        s.averageStepMs = m_stepMsSum / double(m_steps);
    }
    return s;
}

KvStatistics SchedulerMetricsCollector::getKvStatistics() const {
    std::lock_guard lock(m_mutex);
    return m_kv;
}

ErrorStatistics SchedulerMetricsCollector::getErrorStatistics() const {
    std::lock_guard lock(m_mutex);
    return m_errors;
}

std::vector<StepRecord> SchedulerMetricsCollector::stepsAfter(std::int64_t afterStep) const {
    std::lock_guard lock(m_mutex);
    // Indices increase along the ring: binary-search the first new one, copy only those.
    auto first = std::upper_bound(m_stepRing.begin(), m_stepRing.end(), afterStep,
                                  [](std::int64_t index, const StepRecord& s) { return index < s.index; });
    return std::vector<StepRecord>(first, m_stepRing.end());
}

void SchedulerMetricsCollector::recentLatencies(std::vector<double>& ttft, std::vector<double>& tpot,
                                                std::vector<double>& e2e) const {
    std::lock_guard lock(m_mutex);
    ttft.assign(m_recentTtft.begin(), m_recentTtft.end());
    tpot.assign(m_recentTpot.begin(), m_recentTpot.end());
    e2e.assign(m_recentE2e.begin(), m_recentE2e.end());
}

void SchedulerMetricsCollector::recentThroughput(Clock::time_point now, double& promptPerSecond,
                                                 double& generatedPerSecond, std::chrono::milliseconds window) const {
    const std::int64_t slots = std::clamp<std::int64_t>(window.count() / kThroughputSlotMs, 1, kThroughputSlots);
    const std::int64_t current = throughputEpoch(now);
    std::int64_t prompt = 0, generated = 0;
    {
        std::lock_guard lock(m_mutex);
        for (const auto& slot : m_throughput) {
            if (slot.epoch > current || slot.epoch <= current - slots) continue;
            prompt += slot.prompt;
            generated += slot.generated;
        }
    }
    const double seconds = double(slots * kThroughputSlotMs) / 1000.0;
    promptPerSecond = double(prompt) / seconds;
    generatedPerSecond = double(generated) / seconds;
}

std::size_t SchedulerMetricsCollector::latencyMemoryBytes() const {
    std::lock_guard lock(m_mutex);
    const std::size_t rings = (m_recentTtft.size() + m_recentTpot.size() + m_recentE2e.size()) * sizeof(double);
    return m_queue.memoryBytes() + m_ttft.memoryBytes() + m_tpot.memoryBytes() + m_e2e.memoryBytes() + rings;
}

void SchedulerMetricsCollector::reset() {
    std::lock_guard lock(m_mutex);
    m_submitted = m_completed = 0;
    m_firstSubmit.reset();
    m_lastFinish.reset();
    m_queue.clear(); m_ttft.clear(); m_tpot.clear(); m_e2e.clear();
    m_recentTtft.clear(); m_recentTpot.clear(); m_recentE2e.clear();
    m_finishReasons.clear();
    m_promptTokens = m_generatedTokens = 0;
    m_steps = m_seqSum = m_tokenSum = m_preemptions = 0;
    m_maxBatch = 0;
    m_utilSum = m_stepMsSum = 0;
    m_throughput.fill(ThroughputSlot{});
    m_errors = ErrorStatistics{};
}

}  // namespace batchscope::engine
