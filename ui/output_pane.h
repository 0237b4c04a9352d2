// The selected request's streamed text, header line and timeline bar.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QString>
#include <QTimer>
#include <QVector>
#include <QWidget>
#include <deque>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"

class QLabel;
class QPlainTextEdit;

namespace batchscope::ui {

class TimelineBar;

/// Accumulates generated text of every request (bounded to maxTexts() requests) and shows the
/// current one. Token appends are batched: the editor is refreshed by a timer (≤ 20 Hz), never
/// per token. GUI thread only.
class OutputPane : public QWidget {
    Q_OBJECT
public:
    explicit OutputPane(QWidget* parent = nullptr);

    void setCurrentRequest(engine::RequestId id);
    engine::RequestId currentRequest() const { return m_current; }
    /// Header and timeline of the current request (nullptr: unknown / gone).
    void updateRequest(const engine::RequestSnapshot* request, double nowMs);

    void appendTokens(const QVector<engine::TokenEvent>& events);
    /// The final text replaces the streamed one (authoritative: stop strings removed).
    void finishRequest(const engine::GenerationResult& result);
    QString textOf(engine::RequestId id) const { return m_texts.value(id); }
    /// Text as shown in the editor (after the pending refresh, call flush() in tests).
    QString shownText() const;
    void flush();
    /// Forgets every text (a new engine reuses request ids).
    void clear();
    void setMaxTexts(int n) { m_maxTexts = n; }
    int maxTexts() const { return m_maxTexts; }
    TimelineBar* timeline() const { return m_timeline; }

private:
    QString& textFor(engine::RequestId id);

    QLabel* m_header;
    TimelineBar* m_timeline;
    QPlainTextEdit* m_text;
    QTimer m_refresh;
    QHash<engine::RequestId, QString> m_texts;
    std::deque<engine::RequestId> m_order;  ///< insertion order, for bounding m_texts
    engine::RequestId m_current = engine::kInvalidRequestId;
    qsizetype m_shownLength = 0;  ///< characters of m_texts[m_current] in the editor
    bool m_resetShown = false;
    int m_maxTexts = 2000;
};

}  // namespace batchscope::ui
