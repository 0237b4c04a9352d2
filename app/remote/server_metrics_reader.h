// Maps a scraped Prometheus exposition of an OpenAI-compatible server (vLLM's metric names,
// and the equivalent SGLang, llama.cpp and TGI names) to the Server metrics panel's figures:
// gauges as they are, counters as rates between scrapes, latency histograms as percentiles.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "app/remote/prometheus_text.h"
#include "engine/core/result.h"
#include "ui/server_metrics.h"

namespace batchscope::app::remote {

/// Not thread-safe; one per server. Rates (tokens/s, preemptions/s) compare a scrape with the
/// previous one; latency percentiles use the histogram observations of the last
/// `windowSeconds` (current buckets minus those of the oldest scrape in the window), so they
/// describe recent requests, not the server's whole life. A counter reset (server restart)
/// yields no rate for that scrape.
class ServerMetricsReader {
public:
    explicit ServerMetricsReader(double windowSeconds = 30) : m_window(windowSeconds) {}

    /// Parses one scrape taken at `timeSeconds` (monotonic). A malformed exposition is an
    /// error naming the line; the previous scrapes are kept.
    engine::Result<ui::ServerMetricsSample> addScrape(std::string_view body, double timeSeconds);
    /// The server family the metric names belong to ("vllm", "sglang", "llama.cpp", "tgi",
    /// or "" when none of the known names were found), from the last scrape.
    const std::string& flavour() const { return m_flavour; }
    /// The `model_name` label of vLLM's metrics ("" when absent).
    const std::string& modelName() const { return m_modelName; }
    void reset() { m_history.clear(); }

private:
    struct Scrape {
        double time = 0;
        std::map<std::string, double> counters;            ///< logical name -> value
        std::map<std::string, HistogramBuckets> histograms; ///< logical name -> buckets
    };
    double m_window;
    std::deque<Scrape> m_history;
    std::string m_flavour, m_modelName;
};

}  // namespace batchscope::app::remote
