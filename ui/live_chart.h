// Base of the live charts: one QCustomPlot, palette-following style, throttled replots.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QTimer>
#include <QWidget>

class QCustomPlot;
class QCPAxis;

namespace batchscope::ui {

/// Replots at most every replotIntervalMs() (≈30 Hz) with rpQueuedReplot, and not at all
/// while hidden (the pending replot runs when shown). GUI thread only.
class LiveChart : public QWidget {
    Q_OBJECT
public:
    explicit LiveChart(QWidget* parent = nullptr);
    QCustomPlot* plot() const { return m_plot; }
    /// Marks the chart dirty; the replot happens later, coalesced.
    void scheduleReplot();
    int replotCount() const { return m_replots; }
    /// Pushes the buffered data into the plot and replots synchronously (tests, grabs).
    void replotImmediately();
    static constexpr int replotIntervalMs() { return 33; }
    /// Applies the widget palette to a plot (backgrounds, axes, grid, legend).
    static void stylePlot(QCustomPlot* plot, const QPalette& palette);
    static void styleAxis(QCPAxis* axis, const QPalette& palette);
    /// Moves the legend out of the plot into a compact row under it.
    static void placeLegendBelow(QCustomPlot* plot, int columns);

protected:
    void showEvent(QShowEvent* event) override;
    void changeEvent(QEvent* event) override;
    /// Subclasses set new data on the plot's plottables here, just before a replot.
    virtual void updatePlotData() {}

private:
    void replotNow();
    QCustomPlot* m_plot;
    QTimer m_timer;
    bool m_dirty = false;
    int m_replots = 0;
};

}  // namespace batchscope::ui
