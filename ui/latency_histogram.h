// Histogram of recent latency samples (ms) with p50 / p95 / p99 markers.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QVector>
#include <vector>

#include "ui/live_chart.h"

class QCPBars;
class QCPItemStraightLine;
class QCPItemText;
class QCPTextElement;

namespace batchscope::ui {

/// Samples are the engine's bounded recent window; the chart keeps only its binned counts
/// and the three percentiles (computed from the same samples). GUI thread only.
class LatencyHistogram : public LiveChart {
    Q_OBJECT
public:
    LatencyHistogram(const QString& title, QWidget* parent = nullptr);
    void setSamples(const std::vector<double>& samplesMs);
    int sampleCount() const { return m_count; }
    double p50() const { return m_p[0]; }
    double p95() const { return m_p[1]; }
    double p99() const { return m_p[2]; }
    const QVector<double>& binCounts() const { return m_counts; }
    static constexpr int binCount() { return 30; }

protected:
    void updatePlotData() override;

private:
    QString m_title;
    QCPTextElement* m_titleElement;
    QCPBars* m_bars;
    QCPItemStraightLine* m_lines[3];
    QCPItemText* m_labels[3];
    QVector<double> m_centres, m_counts;
    double m_binWidth = 0;
    double m_p[3] = {0, 0, 0};
    int m_count = 0;
};

}  // namespace batchscope::ui
