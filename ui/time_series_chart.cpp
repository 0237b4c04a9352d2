// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/time_series_chart.h"

#include <QToolTip>
#include <algorithm>
#include <qcustomplot.h>

namespace batchscope::ui {

TimeSeriesChart::TimeSeriesChart(const QVector<Series>& series, const QString& leftLabel,
                                 const QString& rightLabel, QWidget* parent)
    : LiveChart(parent), m_specs(series), m_buffer(int(series.size()), 60.0) {
    QCustomPlot* p = plot();
    p->xAxis->setLabel(tr("time (s)"));
    p->yAxis->setLabel(leftLabel);
    if (!rightLabel.isEmpty()) {
        p->yAxis2->setVisible(true);
        p->yAxis2->setLabel(rightLabel);
    }
    for (const Series& s : series) {
        QCPGraph* g = p->addGraph(p->xAxis, s.rightAxis ? p->yAxis2 : p->yAxis);
        g->setName(s.unit.isEmpty() ? s.name : QStringLiteral("%1 (%2)").arg(s.name, s.unit));
        g->setPen(QPen(s.color, 1.6));
        if (s.fill) {
            QColor fill = s.color;
            fill.setAlpha(60);
            g->setBrush(fill);
        }
        m_graphs << g;
    }
    placeLegendBelow(p, 3);
    stylePlot(p, palette());
    connect(p, &QCustomPlot::mouseMove, this, &TimeSeriesChart::onMouseMove);
}

void TimeSeriesChart::append(double t, const std::vector<double>& values) {
    m_buffer.append(t, values);
    scheduleReplot();
}

void TimeSeriesChart::clear() {
    m_buffer.clear();
    scheduleReplot();
}

void TimeSeriesChart::setWindowSeconds(double seconds) {
    m_buffer.setWindowSeconds(seconds);
    scheduleReplot();
}

int TimeSeriesChart::plottedPoints(int i) const { return m_graphs[i]->data()->size(); }

void TimeSeriesChart::updatePlotData() {
    double topLeft = 1, topRight = 1;
    QVector<double> x, y;
    for (int i = 0; i < m_graphs.size(); ++i) {
        thinMinMax(m_buffer.times(), m_buffer.series(i), m_maxPoints, x, y);
        double& top = m_specs[i].rightAxis ? topRight : topLeft;
        for (double v : y) top = std::max(top, v);
        m_graphs[i]->setData(x, y, true);
    }
    QCustomPlot* p = plot();
    const double end = std::max(m_buffer.lastTime(), m_buffer.firstTime() + 1.0);
    p->xAxis->setRange(std::max(0.0, end - m_buffer.windowSeconds()), end);
    p->yAxis->setRange(0, topLeft * 1.15);
    p->yAxis2->setRange(0, topRight * 1.15);
}

QString TimeSeriesChart::valuesToolTip(double t) const {
    const auto& times = m_buffer.times();
    if (times.empty()) return {};
    auto it = std::lower_bound(times.begin(), times.end(), t);
    if (it == times.end()) --it;
    const size_t i = size_t(it - times.begin());
    QString text = tr("t = %1 s").arg(times[i], 0, 'f', 1);
    for (int s = 0; s < m_specs.size(); ++s)
        text += QStringLiteral("\n%1: %2 %3")
                    .arg(m_specs[s].name)
                    .arg(m_buffer.series(s)[i], 0, 'f', 1)
                    .arg(m_specs[s].unit);
    return text;
}

void TimeSeriesChart::onMouseMove(QMouseEvent* event) {
    const double t = plot()->xAxis->pixelToCoord(event->position().x());
    const QString text = valuesToolTip(t);
    if (!text.isEmpty()) QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

}  // namespace batchscope::ui
