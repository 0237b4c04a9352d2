// Charts of a server's scraped metrics: requests running/waiting, KV-cache usage, token
// throughput and preemptions, latency percentiles. Fed by ServerMetricsSample values.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QLabel>
#include <QWidget>

#include "ui/server_metrics.h"

namespace batchscope::ui {

class TimeSeriesChart;

/// GUI thread only. A metric the server does not expose is carried as 0 on its chart and
/// listed under the charts ("not exposed by this server: ..."); latency percentiles hold their
/// last value while no request finishes.
class ServerMetricsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ServerMetricsPanel(QWidget* parent = nullptr);

    void addSample(const ServerMetricsSample& sample);
    void clear();
    /// Charts, for tests: 0 requests (running, waiting), 1 KV usage %, 2 tokens/s (prompt,
    /// generated; preemptions/s on the right), 3 latency (TTFT p50, p99, ITL p50, p99,
    /// E2E p50, p99; ms).
    TimeSeriesChart* chart(int i) const { return m_charts[i]; }
    QString missingText() const { return m_missing->text(); }
    void replotImmediately();

private:
    TimeSeriesChart* m_charts[4];
    QLabel* m_missing;
    ServerMetricsSample m_last;
};

}  // namespace batchscope::ui
