// A one-row Gantt bar of a request's life: waiting, prefill chunks, decode, preemption.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QWidget>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::ui {

/// Paints RequestSnapshot::events as coloured phases on a time axis (ms since the request's
/// arrival). GUI thread only.
class TimelineBar : public QWidget {
    Q_OBJECT
public:
    enum class Phase { Waiting, Prefill, Decode, Preempted };
    struct Segment {
        Phase phase;
        double startMs;  ///< since the scheduler's epoch
        double endMs;
    };

    explicit TimelineBar(QWidget* parent = nullptr);
    /// nowMs closes the open phase of a request that has not finished.
    void setEvents(const std::vector<engine::RequestEvent>& events, double nowMs);
    void clear();
    const std::vector<Segment>& segments() const { return m_segments; }
    static std::vector<Segment> buildSegments(const std::vector<engine::RequestEvent>& events,
                                              double nowMs);
    static QColor phaseColor(Phase phase);
    QSize sizeHint() const override { return {400, 34}; }

protected:
    void paintEvent(QPaintEvent* event) override;
    bool event(QEvent* event) override;

private:
    std::vector<Segment> m_segments;
    std::vector<double> m_chunkMarks;  ///< prefill chunk boundaries
    double m_startMs = 0, m_endMs = 0;
};

}  // namespace batchscope::ui
