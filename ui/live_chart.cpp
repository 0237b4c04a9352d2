// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/live_chart.h"

#include <QVBoxLayout>
#include <qcustomplot.h>

namespace batchscope::ui {

LiveChart::LiveChart(QWidget* parent) : QWidget(parent), m_plot(new QCustomPlot(this)) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    m_plot->setNoAntialiasingOnDrag(true);
    m_plot->setMinimumSize(200, 140);
    m_plot->setMouseTracking(true);
    for (QCPAxis* axis : m_plot->axisRect()->axes()) axis->ticker()->setTickCount(4);
    stylePlot(m_plot, palette());
    m_timer.setSingleShot(true);
    m_timer.setInterval(replotIntervalMs());
    connect(&m_timer, &QTimer::timeout, this, &LiveChart::replotNow);
}

void LiveChart::scheduleReplot() {
    m_dirty = true;
    if (isVisible() && !m_timer.isActive()) m_timer.start();
}

void LiveChart::replotNow() {
    if (!m_dirty) return;
    if (!isVisible()) return;  // showEvent picks it up
    m_dirty = false;
    updatePlotData();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    ++m_replots;
}

void LiveChart::replotImmediately() {
    m_dirty = false;
    updatePlotData();
    m_plot->replot(QCustomPlot::rpImmediateRefresh);
    ++m_replots;
}

void LiveChart::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_dirty && !m_timer.isActive()) m_timer.start();
}

void LiveChart::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        stylePlot(m_plot, palette());
        scheduleReplot();
    }
}

void LiveChart::styleAxis(QCPAxis* axis, const QPalette& pal) {
    const QColor text = pal.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlpha(40);
    axis->setBasePen(QPen(text));
    axis->setTickPen(QPen(text));
    axis->setSubTickPen(QPen(text));
    axis->setTickLabelColor(text);
    axis->setLabelColor(text);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    axis->grid()->setZeroLinePen(Qt::NoPen);
}

void LiveChart::placeLegendBelow(QCustomPlot* plot, int columns) {
    plot->legend->setVisible(true);
    QFont small = plot->font();
    small.setPointSizeF(small.pointSizeF() * 0.8);
    plot->legend->setFont(small);
    plot->legend->setRowSpacing(0);
    plot->legend->setColumnSpacing(8);
    plot->legend->setIconSize(14, 8);
    plot->legend->setMargins(QMargins(2, 1, 2, 1));
    plot->legend->setBorderPen(Qt::NoPen);
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->plotLayout()->addElement(plot->plotLayout()->rowCount(), 0, plot->legend);
    plot->legend->setWrap(columns);
    plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst, true);
    plot->plotLayout()->setRowStretchFactor(plot->plotLayout()->rowCount() - 1, 0.001);
    plot->plotLayout()->setRowSpacing(0);
}

void LiveChart::stylePlot(QCustomPlot* plot, const QPalette& pal) {
    plot->setBackground(pal.brush(QPalette::Base));
    for (QCPAxisRect* rect : plot->axisRects()) {
        rect->setBackground(pal.brush(QPalette::Base));
        for (QCPAxis* axis : rect->axes()) styleAxis(axis, pal);
    }
    plot->legend->setBrush(pal.brush(QPalette::Base));
    plot->legend->setTextColor(pal.color(QPalette::WindowText));
    plot->legend->setBorderPen(Qt::NoPen);
}

}  // namespace batchscope::ui
