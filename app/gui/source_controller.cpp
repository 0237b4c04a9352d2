// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/source_controller.h"

#include <QLabel>
#include <QStatusBar>

#include "ui/chat_view.h"
#include "ui/main_window.h"
#include "ui/request_table_model.h"
#include "ui/request_table_view.h"

namespace batchscope::app {

SourceController::SourceController(remote::ServerSource& source, ui::MainWindow& window, QObject* parent)
    : QObject(parent), m_source(source), m_window(window), m_stateLabel(new QLabel(&window)) {
    using ui::MainWindow;
    using remote::ServerSource;
    m_stateLabel->setObjectName(QStringLiteral("connectionState"));
    window.statusBar()->insertPermanentWidget(0, m_stateLabel);
    window.setModelOpenEnabled(false);
    // The chat tab is the local engine's (app/gui/chat_controller): its history, the trimming of
    // turns that no longer fit the context and the rendered-prompt view use the tokenizer and
    // chat template loaded in this process. Said in the view, not just greyed out.
    window.chatView()->setHistoryAvailable(
        false, tr("Chat talks to the local engine only: its history, the dropping of turns that no longer fit "
                  "the context and the rendered prompt need the model's tokenizer and chat template in this "
                  "process, which a remote server does not share. Send prompts to %1 from the Compose panel, "
                  "or chat in the Local engine tab.")
                   .arg(source.displayName()));
    for (const auto& [panel, reason] : source.unavailablePanels())
        window.setPanelUnavailable(static_cast<MainWindow::Panel>(int(panel)), reason);

    connect(&source, &ServerSource::snapshotUpdated, &window, &MainWindow::applySnapshot);
    connect(&source, &ServerSource::snapshotUpdated, this, &SourceController::onSnapshot);
    connect(&source, &ServerSource::tokensGenerated, &window, &MainWindow::appendTokens);
    connect(&source, &ServerSource::requestFinished, &window, &MainWindow::requestFinished);
    connect(&source, &ServerSource::modelChanged, &window, [this](const engine::ModelInfo& info) {
        m_window.setModelInfo(info);
        m_window.setWindowTitle(tr("%1 — %2").arg(m_source.displayName(), QString::fromStdString(info.name)));
    });
    connect(&source, &ServerSource::serverMetrics, &window, &MainWindow::applyServerMetrics);
    connect(&source, &ServerSource::stateChanged, this, &SourceController::onStateChanged);
    connect(&source, &ServerSource::panelUnavailable, &window,
            [this](remote::SourcePanel panel, const QString& reason) {
                m_window.setPanelUnavailable(static_cast<ui::MainWindow::Panel>(int(panel)), reason);
            });
    connect(&source, &ServerSource::notice, &window, [this](const QString& m) { m_window.showStatusMessage(m); });
    connect(&source, &ServerSource::submitted, this,
            [this](const QList<engine::RequestId>& ids, const QString& error) {
                if (!error.isEmpty()) m_window.showStatusMessage(tr("Request refused: %1").arg(error));
                if (!ids.isEmpty()) m_selectWhenVisible = ids.front();
            });

    connect(&window, &MainWindow::submitRequested, this, [this](const ui::PromptSubmission& s) {
        m_source.submit(s.prompt, s.options, std::max(1, s.count));
    });
    connect(&window, &MainWindow::cancelRequested, this, [this](const QList<engine::RequestId>& ids) {
        for (engine::RequestId id : ids) m_source.cancel(id);
    });
    connect(&window, &MainWindow::priorityChangeRequested, this,
            [this](engine::RequestId id, engine::Priority p) { m_source.setPriority(id, p); });
    connect(&window, &MainWindow::settingsChanged, this, [this](const engine::SchedulerSettings& s) {
        if (m_source.canChangeSettings()) m_source.applySettings(s);
    });
    connect(&window, &MainWindow::resetStatisticsRequested, this, [this] { m_source.resetStatistics(); });
    m_window.setWindowTitle(source.displayName());
    onStateChanged(source.state(), source.stateMessage());
}

void SourceController::onStateChanged(remote::ConnectionState state, const QString& message) {
    using remote::ConnectionState;
    QString colour = QStringLiteral("#2ea043");
    if (state == ConnectionState::Reconnecting || state == ConnectionState::Connecting) colour = QStringLiteral("#e08e0b");
    if (state == ConnectionState::Unauthorized || state == ConnectionState::Stopped ||
        state == ConnectionState::CertificateError)
        colour = QStringLiteral("#d73a49");
    m_stateLabel->setText(QStringLiteral("<span style='color:%1'>●</span> %2")
                              .arg(colour, remote::connectionStateName(state).toHtmlEscaped()));
    m_stateLabel->setToolTip(message);
    m_window.showStatusMessage(message, 0);
    m_window.composer()->setEnabled(state == ConnectionState::Connected || state == ConnectionState::Reconnecting);
}

void SourceController::onSnapshot() {
    if (m_selectWhenVisible == engine::kInvalidRequestId) return;
    if (m_window.requestModel()->rowOf(m_selectWhenVisible) < 0) return;
    m_window.requestView()->selectRequest(m_selectWhenVisible);
    m_selectWhenVisible = engine::kInvalidRequestId;
}

}  // namespace batchscope::app
