// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/latency_histogram.h"

#include <algorithm>
#include <qcustomplot.h>

#include "ui/chart_data.h"

namespace batchscope::ui {

LatencyHistogram::LatencyHistogram(const QString& title, QWidget* parent)
    : LiveChart(parent), m_title(title) {
    QCustomPlot* p = plot();
    p->plotLayout()->insertRow(0);
    m_titleElement = new QCPTextElement(p, title, QFont(font().family(), font().pointSize(),
                                                        QFont::Bold));
    m_titleElement->setTextColor(palette().color(QPalette::WindowText));
    p->plotLayout()->addElement(0, 0, m_titleElement);
    p->xAxis->setLabel(tr("latency (ms)"));
    p->yAxis->setLabel(tr("requests"));
    m_bars = new QCPBars(p->xAxis, p->yAxis);
    m_bars->setName(title);
    m_bars->setBrush(QColor(0x1f, 0x8f, 0xd6, 170));
    m_bars->setPen(Qt::NoPen);
    m_bars->setWidthType(QCPBars::wtPlotCoords);
    static const char* const names[] = {"p50", "p95", "p99"};
    static const QColor colors[] = {QColor(0x2e, 0xa0, 0x43), QColor(0xe0, 0x8e, 0x0b),
                                    QColor(0xd7, 0x3a, 0x49)};
    for (int i = 0; i < 3; ++i) {
        m_lines[i] = new QCPItemStraightLine(p);
        m_lines[i]->setPen(QPen(colors[i], 1.5, Qt::DashLine));
        m_labels[i] = new QCPItemText(p);
        m_labels[i]->setColor(colors[i]);
        m_labels[i]->setPositionAlignment(Qt::AlignTop | Qt::AlignLeft);
        m_labels[i]->position->setAxisRect(p->axisRect());
        m_labels[i]->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
        m_labels[i]->setText(QString::fromLatin1(names[i]));
        m_lines[i]->setVisible(false);
        m_labels[i]->setVisible(false);
    }
    stylePlot(p, palette());
    setToolTip(tr("%1: distribution of recent requests' latency; dashed lines are the "
                  "p50 / p95 / p99 percentiles").arg(title));
}

void LatencyHistogram::setSamples(const std::vector<double>& samplesMs) {
    m_count = int(samplesMs.size());
    histogram(samplesMs, binCount(), m_centres, m_counts, m_binWidth);
    m_p[0] = percentile(samplesMs, 50);
    m_p[1] = percentile(samplesMs, 95);
    m_p[2] = percentile(samplesMs, 99);
    scheduleReplot();
}

void LatencyHistogram::updatePlotData() {
    m_titleElement->setTextColor(palette().color(QPalette::WindowText));  // palette may change
    m_bars->setWidth(m_binWidth * 0.9);
    m_bars->setData(m_centres, m_counts, true);
    QCustomPlot* p = plot();
    const double top = m_counts.isEmpty() ? 1 : *std::max_element(m_counts.begin(), m_counts.end());
    p->xAxis->setRange(0, std::max(1.0, m_binWidth * binCount()));
    p->yAxis->setRange(0, std::max(1.0, top * 1.25));
    static const char* const names[] = {"p50", "p95", "p99"};
    for (int i = 0; i < 3; ++i) {
        const bool show = m_count > 0;
        m_lines[i]->setVisible(show);
        m_labels[i]->setVisible(show);
        m_lines[i]->point1->setCoords(m_p[i], 0);
        m_lines[i]->point2->setCoords(m_p[i], 1);
        m_labels[i]->position->setCoords(m_p[i], 0.02 + 0.12 * i);
        // Near the right edge the label goes to the left of its line so it stays visible.
        const bool right = m_p[i] > 0.65 * std::max(1.0, m_binWidth * binCount());
        m_labels[i]->setPositionAlignment(Qt::AlignTop | (right ? Qt::AlignRight : Qt::AlignLeft));
        m_labels[i]->setText(QStringLiteral(" %1 %2 ms ").arg(QLatin1String(names[i]))
                                 .arg(m_p[i], 0, 'f', m_p[i] < 10 ? 1 : 0));
    }
    p->xAxis->setLabel(tr("latency (ms) — %n sample(s)", nullptr, m_count));
}

}  // namespace batchscope::ui
