// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/server_metrics_reader.h"

#include <initializer_list>

namespace batchscope::app::remote {
namespace {

// Candidate names per figure, vLLM first: vLLM's V1 names, its older V0 ones, then SGLang,
// TGI and llama.cpp's server (--metrics) where they have an equivalent. Sources (docs/remote.md
// has the table): vLLM docs "Production Metrics"; SGLang docs/references/production_metrics.md
// and python/sglang/srt/metrics/collector.py; TGI docs/source/reference/metrics.md and
// router/src/server.rs; llama.cpp tools/server, the /metrics handler.
const std::initializer_list<const char*> kRunning = {"vllm:num_requests_running", "sglang:num_running_reqs",
                                                     "tgi_batch_current_size", "llamacpp:requests_processing"};
const std::initializer_list<const char*> kWaiting = {"vllm:num_requests_waiting", "sglang:num_queue_reqs",
                                                     "tgi_queue_size", "llamacpp:requests_deferred"};
// Fractions (0..1). llama.cpp's gauge is only in builds before its unified KV cache.
const std::initializer_list<const char*> kKvUsage = {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc",
                                                     "sglang:token_usage", "llamacpp:kv_cache_usage_ratio"};
const std::initializer_list<const char*> kPromptTokens = {"vllm:prompt_tokens", "sglang:prompt_tokens",
                                                          "llamacpp:prompt_tokens"};
const std::initializer_list<const char*> kGenerationTokens = {"vllm:generation_tokens", "sglang:generation_tokens",
                                                              "llamacpp:tokens_predicted"};
// TGI has no token counters; the _sum of its per-request token histograms grows by each
// finished request's tokens, so it serves as one (updated when a request ends).
const std::initializer_list<const char*> kPromptTokensHistogramSum = {"tgi_request_input_length"};
const std::initializer_list<const char*> kGenerationTokensHistogramSum = {"tgi_request_generated_tokens"};
// SGLang calls a preemption a retraction; the counter is `requests` (its gauge
// sglang:num_retracted_reqs is the last batch's count, not a total).
const std::initializer_list<const char*> kPreemptions = {"vllm:num_preemptions", "sglang:num_retracted_requests"};
const std::initializer_list<const char*> kTtft = {"vllm:time_to_first_token_seconds",
                                                  "sglang:time_to_first_token_seconds"};
const std::initializer_list<const char*> kItl = {"vllm:inter_token_latency_seconds",
                                                 "vllm:time_per_output_token_seconds",
                                                 "sglang:inter_token_latency_seconds",
                                                 "sglang:time_per_output_token_seconds",
                                                 "tgi_request_mean_time_per_token_duration"};
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

/// The _sum of a histogram (see kPromptTokensHistogramSum).
std::optional<double> histogramSum(const std::vector<MetricFamily>& families, std::initializer_list<const char*> names,
                                   std::string* flavour) {
    for (const char* name : names) {
        const MetricFamily* f = findFamily(families, name);
        if (!f || f->type != MetricType::Histogram) continue;
        const auto v = sumSamples(*f, std::string(name) + "_sum");
        if (!v) continue;
        if (flavour->empty()) *flavour = flavourOf(name);
        return v;
    }
    return std::nullopt;
}

ui::LatencyPercentiles percentilesMs(const HistogramBuckets& h) {
    auto ms = [&](double q) -> std::optional<double> {
        const auto v = histogramQuantile(h, q);
        return v ? std::optional<double>(*v * 1000.0) : std::nullopt;
    };
    return {ms(0.5), ms(0.95), ms(0.99)};
}

/// Why each figure the scrape did not feed is missing: what this kind of server exports instead
/// (from its documentation and code), or that no known name was found.
std::vector<std::string> unavailableFigures(const std::string& flavour, const ui::ServerMetricsSample& out,
                                            const std::map<std::string, double>& counters,
                                            const std::map<std::string, HistogramBuckets>& histograms) {
    std::vector<std::string> notes;
    const bool tgi = flavour == "tgi", llama = flavour == "llama.cpp";
    auto note = [&](bool missing, const std::string& why) {
        if (missing) notes.push_back(why);
    };
    const char* none = "no known metric name in this server's /metrics";
    note(!out.running || !out.waiting, std::string("running/waiting requests: ") + none);
    note(!out.kvUsagePercent, tgi     ? "KV-cache usage: TGI exports none (only batch sizes and token limits)"
                              : llama ? "KV-cache usage: this llama.cpp build does not export "
                                        "llamacpp:kv_cache_usage_ratio (removed with its unified KV cache)"
                                      : std::string("KV-cache usage: ") + none);
    note(!counters.count("prompt") && !counters.count("generation"), std::string("token throughput: ") + none);
    note(!counters.count("preemptions"),
         tgi     ? "preemptions: TGI exports no preemption counter"
         : llama ? "preemptions: llama.cpp's server does not preempt (a request keeps its slot until it ends)"
                 : std::string("preemptions: ") + none);
    const char* noHist = "llama.cpp's server exports no latency histograms (only mean throughput gauges)";
    note(!histograms.count("ttft"), tgi     ? "TTFT: TGI exports no time-to-first-token histogram"
                                    : llama ? std::string("TTFT: ") + noHist
                                            : std::string("TTFT: ") + none);
    note(!histograms.count("itl"), llama ? std::string("inter-token latency: ") + noHist
                                         : std::string("inter-token latency: ") + none);
    note(!histograms.count("e2e"), llama ? std::string("end-to-end latency: ") + noHist
                                         : std::string("end-to-end latency: ") + none);
    return notes;
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
    if (!scrape.counters.count("prompt"))
        if (const auto v = histogramSum(families, kPromptTokensHistogramSum, &flavour)) scrape.counters["prompt"] = *v;
    if (!scrape.counters.count("generation"))
        if (const auto v = histogramSum(families, kGenerationTokensHistogramSum, &flavour))
            scrape.counters["generation"] = *v;
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
    out.flavour = flavour;
    out.unavailable = unavailableFigures(flavour, out, scrape.counters, scrape.histograms);
    m_history.push_back(std::move(scrape));
    return out;
}

}  // namespace batchscope::app::remote
