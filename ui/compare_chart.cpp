// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/compare_chart.h"

#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

namespace batchscope::ui {

CompareChart::CompareChart(const QString& title, const QString& unit, QWidget* parent)
    : LiveChart(parent), m_unit(unit) {
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("time (s)"));
    p->yAxis->setLabel(unit.isEmpty() ? title : QStringLiteral("%1 (%2)").arg(title, unit));
    placeLegendBelow(p, 2);
    stylePlot(p, palette());
}

int CompareChart::addGraph(const QString& name, const QColor& color, Qt::PenStyle style) {
    QCustomPlot* p = plot();
    Graph g;
    g.graph = p->addGraph(p->xAxis, p->yAxis);
    g.graph->setName(name);
    QPen pen(color, 1.8);
    pen.setStyle(style);
    g.graph->setPen(pen);
    // Dots too: a server scraped once (or rarely) is still visible.
    g.graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, 4));
    const int key = m_nextKey++;
    m_graphs.insert(key, std::move(g));
    scheduleReplot();
    return key;
}

void CompareChart::removeGraph(int key) {
    const auto it = m_graphs.find(key);
    if (it == m_graphs.end()) return;
    plot()->removeGraph(it->graph);
    m_graphs.erase(it);
    scheduleReplot();
}

void CompareChart::setGraphName(int key, const QString& name) {
    if (const auto it = m_graphs.find(key); it != m_graphs.end()) it->graph->setName(name);
    scheduleReplot();
}

void CompareChart::setGraphVisible(int key, bool visible) {
    const auto it = m_graphs.find(key);
    if (it == m_graphs.end()) return;
    it->graph->setVisible(visible);
    // A hidden graph leaves the legend too, so the legend names only the compared servers.
    if (visible) it->graph->addToLegend();
    else it->graph->removeFromLegend();
    scheduleReplot();
}

void CompareChart::append(int key, double t, double value) {
    const auto it = m_graphs.find(key);
    if (it == m_graphs.end() || !std::isfinite(value)) return;
    it->points.emplace_back(t, value);
    m_newest = std::max(m_newest, t);
    while (!it->points.empty() && it->points.front().first < m_newest - m_window) it->points.pop_front();
    scheduleReplot();
}

int CompareChart::pointCount(int key) const {
    const auto it = m_graphs.find(key);
    return it == m_graphs.end() ? 0 : int(it->points.size());
}

bool CompareChart::isGraphVisible(int key) const {
    const auto it = m_graphs.find(key);
    return it != m_graphs.end() && it->graph->visible();
}

double CompareChart::lastValue(int key) const {
    const auto it = m_graphs.find(key);
    return it == m_graphs.end() || it->points.empty() ? std::nan("") : it->points.back().second;
}

QString CompareChart::graphName(int key) const {
    const auto it = m_graphs.find(key);
    return it == m_graphs.end() ? QString() : it->graph->name();
}

void CompareChart::updatePlotData() {
    double top = 1;
    for (auto it = m_graphs.begin(); it != m_graphs.end(); ++it) {
        while (!it->points.empty() && it->points.front().first < m_newest - m_window) it->points.pop_front();
        QVector<double> x, y;
        x.reserve(int(it->points.size()));
        y.reserve(int(it->points.size()));
        for (const auto& [t, v] : it->points) {
            x << t;
            y << v;
            if (it->graph->visible()) top = std::max(top, v);
        }
        it->graph->setData(x, y, true);
    }
    QCustomPlot* p = plot();
    p->xAxis->setRange(std::max(0.0, m_newest - m_window), std::max(m_newest, 1.0));
    p->yAxis->setRange(0, top * 1.15);
}

}  // namespace batchscope::ui
