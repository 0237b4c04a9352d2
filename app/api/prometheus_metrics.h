// Prometheus text exposition (format 0.0.4) of the engine's state under vLLM's metric names.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QByteArray>
#include <QString>
#include <array>
#include <map>
#include <mutex>
#include <vector>

#include "app/bridge/engine_bridge.h"

namespace batchscope::app::api {

/// A Prometheus histogram with fixed upper bounds: cumulative bucket counts, sum and count.
struct FixedHistogram {
    std::vector<double> bounds;     ///< ascending upper bounds; +Inf is implicit
    std::vector<std::int64_t> counts;  ///< per bucket (not cumulative), bounds.size() + 1
    double sum = 0;
    std::int64_t count = 0;
    explicit FixedHistogram(std::vector<double> upperBounds);
    void observe(double value);
};

/// Fed by finished-request results (GUI/main thread) and the latest snapshot; rendered by any
/// thread. Histograms are updated once per finished request (fixed buckets, never derived from
/// the percentile sketch). All members are guarded by one mutex.
class PrometheusMetrics {
public:
    PrometheusMetrics();

    /// A finished request: success counter by finish reason, and the latency/token histograms.
    void observeFinished(const engine::GenerationResult& result);
    void setSnapshot(SnapshotPtr snapshot);
    /// The full exposition text; modelName labels every vLLM series.
    QByteArray render(const QString& modelName) const;

private:
    mutable std::mutex m_mutex;
    SnapshotPtr m_snapshot;
    std::map<QString, std::int64_t> m_finishedByReason;  ///< "stop", "length", "abort", "error"
    FixedHistogram m_ttft, m_itl, m_e2e, m_queue, m_promptTokens, m_generationTokens;
};

}  // namespace batchscope::app::api
