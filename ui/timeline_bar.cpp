// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/timeline_bar.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>

namespace batchscope::ui {

using Kind = engine::RequestEvent::Kind;

TimelineBar::TimelineBar(QWidget* parent) : QWidget(parent) {
    setMinimumHeight(30);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    setToolTip(tr("Timeline of the selected request"));
}

QColor TimelineBar::phaseColor(Phase phase) {
    switch (phase) {
    case Phase::Waiting: return QColor(0x8a, 0x8f, 0x98);
    case Phase::Prefill: return QColor(0xe0, 0x8e, 0x0b);
    case Phase::Decode: return QColor(0x1f, 0x8f, 0xd6);
    case Phase::Preempted: return QColor(0xc2, 0x4c, 0xd0);
    }
    return Qt::gray;
}

std::vector<TimelineBar::Segment> TimelineBar::buildSegments(
    const std::vector<engine::RequestEvent>& events, double nowMs) {
    std::vector<Segment> out;
    if (events.empty()) return out;
    std::vector<engine::RequestEvent> sorted = events;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.timeMs < b.timeMs; });
    Phase phase = Phase::Waiting;
    double start = sorted.front().timeMs;
    bool finished = false;
    auto close = [&](double t, Phase next) {
        if (t > start) out.push_back({phase, start, t});
        phase = next;
        start = t;
    };
    for (const auto& e : sorted) {
        switch (e.kind) {
        case Kind::Queued: break;
        case Kind::Scheduled:
        case Kind::Resumed:
            if (phase != Phase::Prefill) close(e.timeMs, Phase::Prefill);
            break;
        case Kind::PrefillChunk:
            if (phase != Phase::Prefill && phase != Phase::Decode) close(e.timeMs, Phase::Prefill);
            break;
        case Kind::FirstToken: close(e.timeMs, Phase::Decode); break;
        case Kind::Preempted: close(e.timeMs, Phase::Preempted); break;
        case Kind::Finished:
            close(e.timeMs, phase);
            finished = true;
            break;
        }
        if (finished) break;
    }
    if (!finished && nowMs > start) out.push_back({phase, start, nowMs});
    // Drop zero-length segments produced by simultaneous events.
    out.erase(std::remove_if(out.begin(), out.end(),
                             [](const Segment& s) { return s.endMs <= s.startMs; }),
              out.end());
    return out;
}

void TimelineBar::setEvents(const std::vector<engine::RequestEvent>& events, double nowMs) {
    m_segments = buildSegments(events, nowMs);
    m_chunkMarks.clear();
    for (const auto& e : events)
        if (e.kind == Kind::PrefillChunk) m_chunkMarks.push_back(e.timeMs);
    m_startMs = events.empty() ? 0 : events.front().timeMs;
    for (const auto& e : events) m_startMs = std::min(m_startMs, e.timeMs);
    m_endMs = m_segments.empty() ? m_startMs : m_segments.back().endMs;
    update();
}

void TimelineBar::clear() {
    m_segments.clear();
    m_chunkMarks.clear();
    update();
}

void TimelineBar::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing, false);
    const QRect bar = rect().adjusted(2, 2, -2, -14);
    p.fillRect(bar, palette().color(QPalette::AlternateBase));
    const double span = std::max(1.0, m_endMs - m_startMs);
    auto x = [&](double t) { return bar.left() + int((t - m_startMs) / span * bar.width()); };
    for (const Segment& s : m_segments) {
        const int x0 = x(s.startMs), x1 = std::max(x0 + 1, x(s.endMs));
        p.fillRect(QRect(x0, bar.top(), x1 - x0, bar.height()), phaseColor(s.phase));
    }
    p.setPen(palette().color(QPalette::Base));
    for (double t : m_chunkMarks) p.drawLine(x(t), bar.top(), x(t), bar.bottom());
    p.setPen(palette().color(QPalette::WindowText));
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 0.85);
    p.setFont(f);
    const QRect labels(bar.left(), bar.bottom() + 1, bar.width(), 13);
    if (m_segments.empty()) {
        p.drawText(bar, Qt::AlignCenter, tr("no timeline yet"));
        return;
    }
    p.drawText(labels, Qt::AlignLeft | Qt::AlignVCenter, QStringLiteral("0 ms"));
    p.drawText(labels, Qt::AlignRight | Qt::AlignVCenter,
               QStringLiteral("%1 ms").arg(m_endMs - m_startMs, 0, 'f', 0));
    // Colour key, centred: a swatch before each phase name.
    static const char* const names[] = {"waiting", "prefill", "decode", "preempted"};
    const QFontMetrics fm(f);
    int total = 0;
    for (const char* n : names) total += 12 + fm.horizontalAdvance(tr(n)) + 10;
    int x0 = labels.center().x() - total / 2;
    for (int i = 0; i < 4; ++i) {
        p.fillRect(QRect(x0, labels.center().y() - 4, 9, 9), phaseColor(Phase(i)));
        x0 += 12;
        const int w = fm.horizontalAdvance(tr(names[i]));
        p.drawText(QRect(x0, labels.top(), w + 2, labels.height()), Qt::AlignVCenter, tr(names[i]));
        x0 += w + 10;
    }
}

bool TimelineBar::event(QEvent* e) {
    if (e->type() == QEvent::ToolTip && !m_segments.empty()) {
        auto* help = static_cast<QHelpEvent*>(e);
        static const char* const names[] = {"waiting", "prefill", "decode", "preempted"};
        QString text;
        for (const Segment& s : m_segments)
            text += tr("%1: %2 → %3 ms\n")
                        .arg(tr(names[int(s.phase)]))
                        .arg(s.startMs - m_startMs, 0, 'f', 1)
                        .arg(s.endMs - m_startMs, 0, 'f', 1);
        text += tr("%n prefill chunk(s)", nullptr, int(m_chunkMarks.size()));
        QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(e);
}

}  // namespace batchscope::ui
