// A live line chart that overlays one graph per server (or per server and figure), each with
// its own sample times: servers are scraped at different moments, so unlike TimeSeriesChart
// the graphs do not share a time column.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QColor>
#include <QHash>
#include <QString>
#include <deque>

#include "ui/live_chart.h"

class QCPGraph;

namespace batchscope::ui {

/// GUI thread only. Points older than the window (default 120 s before the newest point of
/// any graph) are dropped. The y axis starts at 0 and fits the visible graphs.
class CompareChart : public LiveChart {
    Q_OBJECT
public:
    CompareChart(const QString& title, const QString& unit, QWidget* parent = nullptr);

    /// A new graph; returns its key (stable until removeGraph).
    int addGraph(const QString& name, const QColor& color, Qt::PenStyle style = Qt::SolidLine);
    void removeGraph(int key);
    void setGraphName(int key, const QString& name);
    void setGraphVisible(int key, bool visible);
    /// t in seconds on the chart's common clock.
    void append(int key, double t, double value);
    void setWindowSeconds(double seconds) { m_window = seconds; }

    int graphCount() const { return int(m_graphs.size()); }
    int pointCount(int key) const;
    bool isGraphVisible(int key) const;
    /// The newest value of the graph (NaN when it has none).
    double lastValue(int key) const;
    QString graphName(int key) const;
    QString unit() const { return m_unit; }

protected:
    void updatePlotData() override;

private:
    struct Graph {
        QCPGraph* graph = nullptr;
        std::deque<std::pair<double, double>> points;
    };
    QHash<int, Graph> m_graphs;
    QString m_unit;
    double m_window = 120;
    double m_newest = 0;
    int m_nextKey = 1;
};

}  // namespace batchscope::ui
