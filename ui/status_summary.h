// Status-bar content: API endpoint with a copy-token button, throughput, KV use, queue.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>
#include <QWidget>

#include "engine/metrics/scheduler_snapshot.h"

class QLabel;
class QToolButton;

namespace batchscope::ui {

/// GUI thread only. The token is never displayed, only copied to the clipboard.
class StatusSummary : public QWidget {
    Q_OBJECT
public:
    explicit StatusSummary(QWidget* parent = nullptr);
    void setApiEndpoint(const QString& url, const QString& token);
    void update(const engine::SchedulerSnapshot& snapshot);
    QString apiUrl() const { return m_url; }
    QString text() const;  ///< all labels joined (tests)
    QToolButton* copyTokenButton() const { return m_copy; }

private:
    QLabel* m_api;
    QToolButton* m_copy;
    QLabel* m_throughput;
    QLabel* m_kv;
    QLabel* m_queue;
    QString m_url, m_token;
};

}  // namespace batchscope::ui
