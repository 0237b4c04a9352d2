// Batch composition per step: stacked prefill/decode tokens, token budget and batch size.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <deque>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"
#include "ui/live_chart.h"

class QCPBars;
class QCPGraph;

namespace batchscope::ui {

/// Keeps the last maxSteps() step records and plots the last visibleSteps() of them (bucketed
/// averages when there are more steps than bars). Hover shows the step's requests.
class BatchChart : public LiveChart {
    Q_OBJECT
public:
    explicit BatchChart(QWidget* parent = nullptr);
    /// Steps must come in increasing index order; an older index resets the chart.
    void addSteps(const std::vector<engine::StepRecord>& steps);
    void clear();
    int storedSteps() const { return int(m_steps.size()); }
    int maxSteps() const { return m_maxSteps; }
    void setVisibleSteps(int n);
    int visibleSteps() const { return m_visible; }
    /// Bars currently in the plot (after bucketing).
    int plottedBars() const;
    /// Text of the hover tooltip for the step drawn at key x (step index), "" if none.
    QString stepToolTip(double key) const;

protected:
    void updatePlotData() override;

private:
    void onMouseMove(QMouseEvent* event);
    std::deque<engine::StepRecord> m_steps;
    int m_maxSteps = 4000;
    int m_visible = 240;
    int m_maxBars = 240;
    QCPBars* m_prefill;
    QCPBars* m_decode;
    QCPGraph* m_budget;
    QCPGraph* m_batchSize;
    QCPGraph* m_maxBatch;
};

}  // namespace batchscope::ui
