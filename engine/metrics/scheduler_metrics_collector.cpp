// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/metrics/scheduler_metrics_collector.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace batchscope::engine {

namespace {
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    // Linear interpolation between closest ranks.
    const double rank = p / 100.0 * double(sorted.size() - 1);
    const auto lo = std::size_t(std::floor(rank));
    const auto hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - double(lo));
}

double msBetween(SchedulerMetricsCollector::Clock::time_point a, SchedulerMetricsCollector::Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

SchedulerMetricsCollector::SchedulerMetricsCollector(const MetricsConfiguration& config) : m_config(config) {}

LatencySummary SchedulerMetricsCollector::summarize(const std::vector<double>& samples) {
    LatencySummary s;
    if (samples.empty()) return s;
    std::vector<double> sorted(samples);
    std::sort(sorted.begin(), sorted.end());
    s.count = std::int64_t(sorted.size());
    s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / double(sorted.size());
    s.p50 = percentile(sorted, 50);
    s.p95 = percentile(sorted, 95);
    s.p99 = percentile(sorted, 99);
    s.max = sorted.back();
    return s;
}

void SchedulerMetricsCollector::addSample(std::vector<double>& all, std::deque<double>& recent, double value) {
    if (std::int32_t(all.size()) < m_config.latencySamples) all.push_back(value);
    recent.push_back(value);
    while (std::int32_t(recent.size()) > m_config.recentSamples) recent.pop_front();
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
    m_queue.push_back(r.timings.queueMs);
    if (r.usage.completionTokens > 0) {
        addSample(m_ttft, m_recentTtft, r.timings.timeToFirstTokenMs);
        if (r.usage.completionTokens > 1)
            addSample(m_tpot, m_recentTpot, (r.timings.totalMs - r.timings.timeToFirstTokenMs) /
                                                double(r.usage.completionTokens - 1));
    }
    addSample(m_e2e, m_recentE2e, r.timings.totalMs);
}

void SchedulerMetricsCollector::recordStep(const StepRecord& step, std::int32_t configuredMaxBatchSize) {
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
    const auto now = Clock::now();
    m_throughput.push_back({now, step.prefillTokens, step.generatedTokens});
    while (!m_throughput.empty() && now - m_throughput.front().at > std::chrono::seconds(5)) m_throughput.pop_front();
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

RequestStatistics SchedulerMetricsCollector::getRequestStatistics() const {
    std::lock_guard lock(m_mutex);
    RequestStatistics s;
    s.submitted = m_submitted;
    s.completed = m_completed;
    if (m_firstSubmit && m_lastFinish && *m_lastFinish > *m_firstSubmit)
        s.requestsPerSecond = double(m_completed) / (msBetween(*m_firstSubmit, *m_lastFinish) / 1000.0);
    s.queueTime = summarize(m_queue);
    s.timeToFirstToken = summarize(m_ttft);
    s.timePerOutputToken = summarize(m_tpot);
    s.endToEnd = summarize(m_e2e);
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
    std::vector<StepRecord> out;
    for (const auto& s : m_stepRing)
        if (s.index > afterStep) out.push_back(s);
    return out;
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
    std::lock_guard lock(m_mutex);
    std::int64_t prompt = 0, generated = 0;
    for (const auto& t : m_throughput) {
        if (now - t.at > window) continue;
        prompt += t.prompt;
        generated += t.generated;
    }
    const double seconds = std::chrono::duration<double>(window).count();
    promptPerSecond = double(prompt) / seconds;
    generatedPerSecond = double(generated) / seconds;
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
    m_throughput.clear();
    m_errors = ErrorStatistics{};
}

}  // namespace batchscope::engine
