// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/server_metrics_reader.h"

#include <initializer_list>

namespace batchscope::app::remote {
namespace {

// Candidate names per figure, vLLM first. vLLM's V1 names, its older V0 ones, then SGLang,
// llama.cpp's server (--metrics) and TGI where they have an equivalent.
const std::initializer_list<const char*> kRunning = {"vllm:num_requests_running", "sglang:num_running_reqs",
                                                     "llamacpp:requests_processing", "tgi_batch_current_size"};
const std::initializer_list<const char*> kWaiting = {"vllm:num_requests_waiting", "sglang:num_queue_reqs",
                                                     "llamacpp:requests_deferred", "tgi_queue_size"};
const std::initializer_list<const char*> kKvUsage = {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc",
                                                     "sglang:token_usage", "llamacpp:kv_cache_usage_ratio"};
const std::initializer_list<const char*> kPromptTokens = {"vllm:prompt_tokens", "sglang:prompt_tokens",
                                                          "llamacpp:prompt_tokens"};
const std::initializer_list<const char*> kGenerationTokens = {"vllm:generation_tokens", "sglang:generation_tokens",
                                                              "llamacpp:tokens_predicted"};
const std::initializer_list<const char*> kPreemptions = {"vllm:num_preemptions"};
const std::initializer_list<const char*> kTtft = {"vllm:time_to_first_token_seconds",
                                                  "sglang:time_to_first_token_seconds"};
const std::initializer_list<const char*> kItl = {"vllm:inter_token_latency_seconds",
                                                 "vllm:time_per_output_token_seconds",
                                                 "sglang:inter_token_latency_seconds",
                                                 "sglang:time_per_output_token_seconds"};
const std::initializer_list<const char*> kE2e = {"vllm:e2e_request_latency_seconds",
                                                 "sglang:e2e_request_latency_seconds", "tgi_request_duration"};

std::string flavourOf(std::string_view name) {
    if (name.rfind("vllm:", 0) == 0) return "vllm";
    if (name.rfind("sglang:", 0) == 0) return "sglang";
    if (name.rfind("llamacpp:", 0) == 0) return "llama.cpp";
    if (name.rfind("tgi_", 0) == 0) return "tgi";
    return "";
}

/// A gauge: the mean over its series (one per engine or model), so a fraction stays a fraction
/// when `mean` and a count sums when not.
std::optional<double> gauge(const std::vector<MetricFamily>& families, std::initializer_list<const char*> names,
                            bool mean, std::string* flavour) {
    for (const char* name : names) {
        const MetricFamily* f = findFamily(families, name);
        if (!f) continue;
        double sum = 0;
        int n = 0;
        for (const MetricSample& s : f->samples)
            if (s.name == name) sum += s.value, ++n;
        if (n == 0) continue;
        if (flavour->empty()) *flavour = flavourOf(name);
        return mean ? sum / n : sum;
    }
    return std::nullopt;
}

/// A counter exposed as `X_total` (TYPE X_total counter, as prometheus_client writes it) or as
/// family X with samples X_total (OpenMetrics style) or X.
std::optional<double> counter(const std::vector<MetricFamily>& families, std::initializer_list<const char*> names,
                              std::string* flavour) {
    for (const char* name : names) {
        const std::string total = std::string(name) + "_total";
        std::optional<double> v;
        if (const MetricFamily* f = findFamily(families, total)) v = sumSamples(*f, total);
        if (!v)
            if (const MetricFamily* f = findFamily(families, name)) {
                v = sumSamples(*f, total);
                if (!v) v = sumSamples(*f, name);
            }
        if (!v) continue;
        if (flavour->empty()) *flavour = flavourOf(name);
        return v;
    }
    return std::nullopt;
}

engine::Result<std::optional<HistogramBuckets>> histogram(const std::vector<MetricFamily>& families,
                                                          std::initializer_list<const char*> names) {
    for (const char* name : names) {
        const MetricFamily* f = findFamily(families, name);
        if (!f || f->type != MetricType::Histogram) continue;
        auto h = histogramOf(*f);
        if (!h) return h.error();
        return std::optional<HistogramBuckets>(std::move(h.value()));
    }
    return std::optional<HistogramBuckets>();
}

ui::LatencyPercentiles percentilesMs(const HistogramBuckets& h) {
    auto ms = [&](double q) -> std::optional<double> {
        const auto v = histogramQuantile(h, q);
        return v ? std::optional<double>(*v * 1000.0) : std::nullopt;
    };
    return {ms(0.5), ms(0.95), ms(0.99)};
}

}  // namespace

engine::Result<ui::ServerMetricsSample> ServerMetricsReader::addScrape(std::string_view body, double t) {
    auto parsed = parsePrometheusText(body);
    if (!parsed) return parsed.error();
    const std::vector<MetricFamily>& families = parsed.value();
    std::string flavour;
    ui::ServerMetricsSample out;
    out.timeSeconds = t;
    out.running = gauge(families, kRunning, false, &flavour);
    out.waiting = gauge(families, kWaiting, false, &flavour);
    if (const auto kv = gauge(families, kKvUsage, true, &flavour)) out.kvUsagePercent = *kv * 100.0;

    Scrape scrape;
    scrape.time = t;
    const std::pair<const char*, std::initializer_list<const char*>> counters[] = {
        {"prompt", kPromptTokens}, {"generation", kGenerationTokens}, {"preemptions", kPreemptions}};
    for (const auto& [key, names] : counters)
        if (const auto v = counter(families, names, &flavour)) scrape.counters[key] = *v;
    const std::pair<const char*, std::initializer_list<const char*>> histograms[] = {
        {"ttft", kTtft}, {"itl", kItl}, {"e2e", kE2e}};
    for (const auto& [key, names] : histograms) {
        auto h = histogram(families, names);
        if (!h) return h.error();
        if (h.value()) scrape.histograms[key] = std::move(*h.value());
    }
    if (const auto pt = scrape.counters.find("preemptions"); pt != scrape.counters.end())
        out.preemptionsTotal = pt->second;

    // Rates against the previous scrape.
    if (!m_history.empty() && t > m_history.back().time) {
        const Scrape& prev = m_history.back();
        auto rate = [&](const char* key) -> std::optional<double> {
            const auto a = scrape.counters.find(key);
            const auto b = prev.counters.find(key);
            if (a == scrape.counters.end() || b == prev.counters.end() || a->second < b->second) return std::nullopt;
            return (a->second - b->second) / (t - prev.time);
        };
        out.promptTokensPerSecond = rate("prompt");
        out.generationTokensPerSecond = rate("generation");
        out.preemptionsPerSecond = rate("preemptions");
    }
    // Percentiles over the window: against the oldest scrape still inside it (or all-time
    // on the first scrape).
    while (!m_history.empty() && m_history.front().time < t - m_window) m_history.pop_front();
    const Scrape* base = m_history.empty() ? nullptr : &m_history.front();
    auto windowed = [&](const char* key) -> ui::LatencyPercentiles {
        const auto cur = scrape.histograms.find(key);
        if (cur == scrape.histograms.end()) return {};
        if (!base) return percentilesMs(cur->second);
        const auto old = base->histograms.find(key);
        return percentilesMs(old == base->histograms.end() ? cur->second : histogramDelta(cur->second, old->second));
    };
    out.ttftMs = windowed("ttft");
    out.interTokenMs = windowed("itl");
    out.endToEndMs = windowed("e2e");

    for (const MetricFamily& f : families)
        for (const MetricSample& s : f.samples)
            if (auto m = s.label("model_name")) {
                m_modelName = *m;
                break;
            }
    m_flavour = flavour;
    m_history.push_back(std::move(scrape));
    return out;
}

}  // namespace batchscope::app::remote
