// A live line chart of several series over a sliding time window (KV use, throughput, queue).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QColor>
#include <QString>
#include <QVector>

#include "ui/chart_data.h"
#include "ui/live_chart.h"

class QCPGraph;

namespace batchscope::ui {

/// Holds a TimeSeriesBuffer (bounded by time and count); thins each series to maxPoints()
/// before QCustomPlot sees it. Hover shows all values at the nearest time. GUI thread only.
class TimeSeriesChart : public LiveChart {
    Q_OBJECT
public:
    struct Series {
        QString name;
        QString unit;           ///< for the tooltip, e.g. "blocks", "tok/s"
        QColor color;
        bool rightAxis = false;
        bool fill = false;
    };
    TimeSeriesChart(const QVector<Series>& series, const QString& leftLabel,
                    const QString& rightLabel, QWidget* parent = nullptr);

    /// t in seconds; values in series order.
    void append(double t, const std::vector<double>& values);
    void clear();
    void setWindowSeconds(double seconds);
    const TimeSeriesBuffer& buffer() const { return m_buffer; }
    int maxPoints() const { return m_maxPoints; }
    /// Points of series i currently in the plot (after thinning).
    int plottedPoints(int i) const;
    QString valuesToolTip(double t) const;

protected:
    void updatePlotData() override;

private:
    void onMouseMove(QMouseEvent* event);
    QVector<Series> m_specs;
    QVector<QCPGraph*> m_graphs;
    TimeSeriesBuffer m_buffer;
    int m_maxPoints = 600;
};

}  // namespace batchscope::ui
