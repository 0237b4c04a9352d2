// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/prometheus_metrics.h"

#include <algorithm>
#include <cmath>

namespace batchscope::app::api {

namespace {

// vLLM's bucket bounds (seconds), so dashboards built for vLLM read ours the same way.
const std::vector<double> kTtftBounds = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5,
                                         0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
                                         640.0, 2560.0};
const std::vector<double> kItlBounds = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                                        0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};
const std::vector<double> kLatencyBounds = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0,
                                            20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
                                            960.0, 1920.0, 7680.0};
const std::vector<double> kTokenBounds = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
                                          10000, 20000, 50000, 100000};

QString finishedLabel(engine::FinishReason reason) {
    switch (reason) {
    case engine::FinishReason::Eos:
    case engine::FinishReason::StopString: return QStringLiteral("stop");
    case engine::FinishReason::MaxTokens:
    case engine::FinishReason::MaxLength: return QStringLiteral("length");
    case engine::FinishReason::Cancelled:
    case engine::FinishReason::Timeout: return QStringLiteral("abort");
    default: return QStringLiteral("error");
    }
}

QString number(double v) {
    if (std::isinf(v)) return v > 0 ? QStringLiteral("+Inf") : QStringLiteral("-Inf");
    return QString::number(v, 'g', 17);
}

QString escapeLabel(QString v) {
    return v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
}

struct Writer {
    QString out;
    QString model;  // the rendered {model_name="..."} label pair, without braces
    void head(const char* name, const char* type, const char* help) {
        out += QStringLiteral("# HELP %1 %2\n# TYPE %1 %3\n").arg(name, help, type);
    }
    void sample(const QString& name, const QString& labels, double value) {
        out += name + '{' + labels + "} " + number(value) + '\n';
    }
    void metric(const char* name, const char* type, const char* help, double value) {
        head(name, type, help);
        sample(name, model, value);
    }
    void histogram(const char* name, const char* help, const FixedHistogram& h) {
        head(name, "histogram", help);
        std::int64_t cumulative = 0;
        for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
            cumulative += h.counts[i];
            const double le = i < h.bounds.size() ? h.bounds[i] : INFINITY;
            sample(QString(name) + "_bucket", model + ",le=\"" + number(le) + '"', double(cumulative));
        }
        sample(QString(name) + "_sum", model, h.sum);
        sample(QString(name) + "_count", model, double(h.count));
    }
};

}  // namespace

FixedHistogram::FixedHistogram(std::vector<double> upperBounds)
    : bounds(std::move(upperBounds)), counts(bounds.size() + 1, 0) {}

void FixedHistogram::observe(double value) {
    if (!std::isfinite(value)) return;
    const auto it = std::lower_bound(bounds.begin(), bounds.end(), value);  // le: value <= bound
    ++counts[std::size_t(it - bounds.begin())];
    sum += value;
    ++count;
}

PrometheusMetrics::PrometheusMetrics()
    : m_ttft(kTtftBounds), m_itl(kItlBounds), m_e2e(kLatencyBounds), m_queue(kLatencyBounds),
      m_promptTokens(kTokenBounds), m_generationTokens(kTokenBounds) {}

void PrometheusMetrics::observeFinished(const engine::GenerationResult& r) {
    std::lock_guard lock(m_mutex);
    ++m_finishedByReason[finishedLabel(r.finishReason)];
    m_e2e.observe(r.timings.totalMs / 1000.0);
    m_queue.observe(r.timings.queueMs / 1000.0);
    m_promptTokens.observe(r.usage.promptTokens);
    m_generationTokens.observe(r.usage.completionTokens);
    if (r.usage.completionTokens > 0 && r.timings.timeToFirstTokenMs > 0)
        m_ttft.observe(r.timings.timeToFirstTokenMs / 1000.0);
    // The engine reports a request's first and last token times, not each gap: its mean
    // inter-token gap is observed once per gap (completion tokens - 1 times).
    if (r.usage.completionTokens > 1 && r.timings.totalMs > r.timings.timeToFirstTokenMs) {
        const double gap = (r.timings.totalMs - r.timings.timeToFirstTokenMs) / 1000.0 /
                           double(r.usage.completionTokens - 1);
        for (std::int32_t i = 0; i + 1 < r.usage.completionTokens; ++i) m_itl.observe(gap);
    }
}

void PrometheusMetrics::setSnapshot(SnapshotPtr snapshot) {
    std::lock_guard lock(m_mutex);
    m_snapshot = std::move(snapshot);
}

QByteArray PrometheusMetrics::render(const QString& modelName) const {
    std::lock_guard lock(m_mutex);
    Writer w;
    w.model = "model_name=\"" + escapeLabel(modelName) + '"';
    const engine::SchedulerSnapshot empty;
    const engine::SchedulerSnapshot& s = m_snapshot ? *m_snapshot : empty;
    const double blocks = double(s.kv.usedBlocks + s.kv.cachedBlocks + s.kv.freeBlocks);
    w.metric("vllm:num_requests_running", "gauge", "Requests in the running batch.", s.runningCount);
    w.metric("vllm:num_requests_waiting", "gauge", "Requests waiting in the queue.", s.queueDepth);
    w.metric("vllm:kv_cache_usage_perc", "gauge", "Fraction of KV blocks used by running sequences (1 = full).",
             blocks > 0 ? s.kv.usedBlocks / blocks : 0.0);
    w.metric("vllm:prefix_cache_queries_total", "counter", "KV blocks looked up in the prefix cache.",
             double(s.kv.prefixQueries));
    w.metric("vllm:prefix_cache_hits_total", "counter", "KV blocks found in the prefix cache.",
             double(s.kv.prefixHits));
    w.metric("vllm:num_preemptions_total", "counter", "Sequences preempted.", double(s.batchStats.preemptions));
    w.metric("vllm:prompt_tokens_total", "counter", "Prompt tokens computed (prefix-cache hits excluded).",
             double(s.requestStats.promptTokens));
    w.metric("vllm:generation_tokens_total", "counter", "Tokens generated.",
             double(s.requestStats.generatedTokens));
    w.head("vllm:request_success_total", "counter", "Finished requests by finish reason.");
    for (const char* reason : {"stop", "length", "abort", "error"}) {
        const auto it = m_finishedByReason.find(QString::fromLatin1(reason));
        w.sample("vllm:request_success_total", w.model + ",finished_reason=\"" + reason + '"',
                 double(it == m_finishedByReason.end() ? 0 : it->second));
    }
    w.histogram("vllm:time_to_first_token_seconds", "Submission to first generated token.", m_ttft);
    w.histogram("vllm:inter_token_latency_seconds", "Time between generated tokens (per-request mean gap).", m_itl);
    w.histogram("vllm:e2e_request_latency_seconds", "Submission to finish.", m_e2e);
    w.histogram("vllm:request_queue_time_seconds", "Submission to first scheduled.", m_queue);
    w.histogram("vllm:request_prompt_tokens", "Prompt tokens per finished request.", m_promptTokens);
    w.histogram("vllm:request_generation_tokens", "Generated tokens per finished request.", m_generationTokens);
    w.metric("batchscope:steps_total", "counter", "Engine steps executed.", double(s.batchStats.steps));
    w.metric("batchscope:batch_size_average", "gauge", "Mean sequences per step.", s.batchStats.averageBatchSize);
    w.metric("batchscope:batch_utilization_percent", "gauge", "Mean sequences per step / max batch size, percent.",
             s.batchStats.averageUtilization);
    w.metric("batchscope:tokens_per_step_average", "gauge", "Mean tokens (prefill + decode) per step.",
             s.batchStats.averageTokensPerStep);
    w.metric("batchscope:step_duration_average_seconds", "gauge", "Mean step execution time.",
             s.batchStats.averageStepMs / 1000.0);
    w.metric("batchscope:kv_blocks_used", "gauge", "KV blocks referenced by running sequences.", s.kv.usedBlocks);
    w.metric("batchscope:kv_blocks_cached", "gauge", "Unreferenced KV blocks holding a reusable prefix.", s.kv.cachedBlocks);
    w.metric("batchscope:kv_blocks_free", "gauge", "Empty KV blocks.", s.kv.freeBlocks);
    w.metric("batchscope:kv_evictions_total", "counter", "Cached KV blocks reused for new content.", double(s.kv.evictions));
    w.metric("batchscope:prompt_tokens_per_second", "gauge", "Prompt tokens computed over the last second.",
             s.promptTokensPerSecond);
    w.metric("batchscope:generation_tokens_per_second", "gauge", "Tokens generated over the last second.",
             s.generatedTokensPerSecond);
    w.metric("batchscope:errors_total", "counter", "Failed steps and failed requests.", double(s.errorStats.totalErrors));
    return w.out.toUtf8();
}

}  // namespace batchscope::app::api
