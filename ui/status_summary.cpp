// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/status_summary.h"

#include <QApplication>
#include <QClipboard>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace batchscope::ui {

StatusSummary::StatusSummary(QWidget* parent)
    : QWidget(parent), m_api(new QLabel(tr("API: off"), this)), m_copy(new QToolButton(this)),
      m_throughput(new QLabel(this)), m_kv(new QLabel(this)), m_queue(new QLabel(this)) {
    m_copy->setText(tr("Copy token"));
    m_copy->setToolTip(tr("Copy the API access token to the clipboard"));
    m_copy->setAutoRaise(true);
    m_copy->setVisible(false);
    m_api->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_api->setToolTip(tr("WebSocket API endpoint for clients"));
    m_throughput->setToolTip(tr("Generated tokens per second over the last second"));
    m_kv->setToolTip(tr("KV-cache blocks in use by running requests / total"));
    m_queue->setToolTip(tr("Requests running / waiting in the queue"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(14);
    layout->addWidget(m_api);
    layout->addWidget(m_copy);
    layout->addStretch(1);
    layout->addWidget(m_throughput);
    layout->addWidget(m_kv);
    layout->addWidget(m_queue);
    connect(m_copy, &QToolButton::clicked, this, [this] {
        QApplication::clipboard()->setText(m_token);
    });
    update(engine::SchedulerSnapshot{});
}

void StatusSummary::setApiEndpoint(const QString& url, const QString& token) {
    m_url = url;
    m_token = token;
    m_api->setText(url.isEmpty() ? tr("API: off") : tr("API: %1").arg(url));
    m_copy->setVisible(!url.isEmpty() && !token.isEmpty());
}

void StatusSummary::update(const engine::SchedulerSnapshot& s) {
    m_throughput->setText(tr("%1 tok/s").arg(s.generatedTokensPerSecond, 0, 'f', 1));
    const double kvPct =
        s.kv.totalBlocks ? 100.0 * double(s.kv.usedBlocks) / double(s.kv.totalBlocks) : 0.0;
    m_kv->setText(tr("KV %1% (%2/%3 blocks)").arg(kvPct, 0, 'f', 0).arg(s.kv.usedBlocks)
                      .arg(s.kv.totalBlocks));
    m_queue->setText(tr("%1 running · %2 queued%3").arg(s.runningCount).arg(s.queueDepth)
                         .arg(s.settings.paused ? tr(" · PAUSED") : QString()));
}

QString StatusSummary::text() const {
    return QStringList{m_api->text(), m_throughput->text(), m_kv->text(), m_queue->text()}.join(
        QStringLiteral(" | "));
}

}  // namespace batchscope::ui
