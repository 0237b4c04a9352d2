// Figures scraped from a server's Prometheus /metrics (or derived from a remote Batchscope's
// statistics), for the Server metrics panel. A plain value type: app/remote fills it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace batchscope::ui {

/// Latency percentiles in milliseconds; nullopt where the server gave no observation.
struct LatencyPercentiles {
    std::optional<double> p50, p95, p99;
};

/// One scrape. Absent fields: the server does not expose that metric (or it is the first
/// scrape, for rates).
struct ServerMetricsSample {
    double timeSeconds = 0;                     ///< since the connection started
    std::optional<double> running, waiting;     ///< requests
    std::optional<double> kvUsagePercent;       ///< 0..100
    std::optional<double> promptTokensPerSecond, generationTokensPerSecond;
    std::optional<double> preemptionsPerSecond;
    std::optional<double> preemptionsTotal;
    LatencyPercentiles ttftMs, interTokenMs, endToEndMs;
    /// Which server's metric names were read ("vllm", "sglang", "tgi", "llama.cpp", "batchscope",
    /// "" when none were recognised).
    std::string flavour;
    /// One sentence per figure the server cannot feed, saying why (e.g. "TTFT: TGI exports no
    /// time-to-first-token histogram"); empty when every figure is fed.
    std::vector<std::string> unavailable;
};

}  // namespace batchscope::ui
