// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/gui_controller.h"

#include <QMessageBox>
#include <utility>
#include <QProgressDialog>
#include <QSettings>

#include "app/bridge/engine_bridge.h"
#include "app/gui/chat_template_choice.h"
#include "app/gui/model_loader.h"
#include "engine/chat/chat_template_file.h"
#include "engine/runtime/engine.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/request_table_model.h"
#include "ui/request_table_view.h"

namespace batchscope::app {

GuiController::GuiController(EngineBridge& bridge, ui::MainWindow& window, QObject* parent)
    : QObject(parent), m_bridge(bridge), m_window(window), m_loader(new ModelLoader(this)) {
    using ui::MainWindow;
    // Bridge -> window (both on the GUI thread; the bridge already batches and rate-limits).
    connect(&bridge, &EngineBridge::snapshotUpdated, &window, &MainWindow::applySnapshot);
    connect(&bridge, &EngineBridge::snapshotUpdated, this, &GuiController::onSnapshot);
    connect(&bridge, &EngineBridge::tokensGenerated, &window, &MainWindow::appendTokens);
    connect(&bridge, &EngineBridge::requestFinished, &window, &MainWindow::requestFinished);
    connect(&bridge, &EngineBridge::modelChanged, &window, &MainWindow::setModelInfo);
    // After the window's handler (which clears the panel's note).
    connect(&bridge, &EngineBridge::modelChanged, this, &GuiController::showTemplateNote);
    connect(&bridge, &EngineBridge::chatTemplateChanged, this, [this](const engine::ModelInfo& info) {
        m_window.modelPanel()->setChatTemplateSource(info.chatTemplateSource);
        showTemplateNote();
    });
    connect(window.modelPanel(), &ui::ModelPanel::chatTemplateFileChosen, this, &GuiController::setChatTemplateFile);
    connect(window.modelPanel(), &ui::ModelPanel::chatTemplateResetRequested, this, &GuiController::resetChatTemplate);
    connect(&bridge, &EngineBridge::switchingChanged, this, &GuiController::onSwitchingChanged);
    // Window intents -> bridge.
    connect(&window, &MainWindow::submitRequested, this,
            [this](const ui::PromptSubmission& s) { submit(s); });
    connect(&window, &MainWindow::cancelRequested, this,
            [this](const QList<engine::RequestId>& ids) {
                for (engine::RequestId id : ids) m_bridge.cancel(id);
            });
    connect(&window, &MainWindow::priorityChangeRequested, this,
            [this](engine::RequestId id, engine::Priority p) {
                if (!m_bridge.setPriority(id, p))
                    m_window.showStatusMessage(tr("Request #%1 is no longer waiting or running").arg(id));
            });
    connect(&window, &MainWindow::settingsChanged, &bridge, &EngineBridge::applySettings);
    connect(&window, &MainWindow::resetStatisticsRequested, &bridge, &EngineBridge::resetStatistics);
    connect(&window, &MainWindow::openModelRequested, this, &GuiController::loadModel);
    connect(m_loader, &ModelLoader::finished, this, &GuiController::onLoadFinished);
    connect(m_loader, &ModelLoader::progress, this, [this](double fraction, const QString& stage) {
        if (!m_progress) return;
        m_progress->setValue(int(fraction * 1000));
        m_progress->setLabelText(tr("Loading %1 — %2").arg(m_loadingPath, stage));
    });
}

GuiController::~GuiController() = default;

bool GuiController::isLoading() const { return m_loader->isLoading() || m_awaitingSwitch; }

bool GuiController::loadModel(const QString& path) {
    engine::EngineConfig config;
    config.settings = m_window.schedulerSettings();
    config.settings.paused = false;
    engine::ExecutorOptions options = m_executorDefaults;
    options.modelPath = path.toStdString();
    if (m_awaitingSwitch || !m_loader->start(options, config)) {
        m_window.showStatusMessage(tr("A model is already loading"));
        return false;
    }
    m_loadingPath = path.isEmpty() ? tr("demo model") : path;
    m_window.showStatusMessage(tr("Loading %1…").arg(m_loadingPath), 0);
    if (m_interactive) {
        m_progress = new QProgressDialog(tr("Loading %1…").arg(m_loadingPath), tr("Cancel"), 0,
                                         1000, &m_window);
        m_progress->setWindowTitle(tr("Open model"));
        m_progress->setWindowModality(Qt::WindowModal);
        m_progress->setMinimumDuration(300);
        m_progress->setAutoClose(false);
        m_progress->setAutoReset(false);
        connect(m_progress, &QProgressDialog::canceled, m_loader, &ModelLoader::cancel);
    }
    return true;
}

void GuiController::onLoadFinished(bool ok, const QString& error, bool cancelled) {
    if (m_progress) m_progress->deleteLater();
    if (!ok) {
        m_lastError = error;
        const bool serving = m_bridge.hasEngine();
        const QString message = cancelled ? tr("Loading cancelled; %1").arg(
                                                serving ? tr("the previous model keeps serving")
                                                        : tr("no model is loaded"))
                                          : error;
        m_window.showStatusMessage(message, 10000);
        if (m_interactive && !cancelled) {
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Could not open model"),
                                        error, QMessageBox::Ok, &m_window);
            box->setInformativeText(serving ? tr("The previous model keeps serving.")
                                            : tr("No model is loaded."));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        emit modelLoadFailed(error);
        return;
    }
    m_awaitingSwitch = true;
    std::unique_ptr<engine::Engine> engine = m_loader->takeEngine();
    if (engine) applyChosenTemplate(*engine);
    m_bridge.setEngine(std::move(engine));  // returns at once; a switch finishes later
    if (!m_bridge.isSwitching()) finishLoad();   // there was no engine to stop
}

void GuiController::onSwitchingChanged(bool switching) {
    m_window.setModelSwitching(switching, m_loadingPath);
    if (!switching && m_awaitingSwitch) finishLoad();
}

void GuiController::finishLoad() {
    m_awaitingSwitch = false;
    m_currentPath = m_loadingPath;
    m_lastError.clear();
    if (m_bridge.hasEngine()) m_bridge.applySettings(m_window.schedulerSettings());
    QSettings().setValue(QStringLiteral("model/lastPath"), m_currentPath);
    m_window.showStatusMessage(tr("Model loaded: %1").arg(m_currentPath));
    emit modelLoaded(m_currentPath);
}

bool GuiController::submit(const ui::PromptSubmission& submission) {
    if (!m_bridge.hasEngine()) {
        m_window.showStatusMessage(m_bridge.isSwitching()
                                       ? tr("The model is being switched; submit again when it is loaded")
                                       : tr("No model is loaded"));
        return false;
    }
    QPointer<GuiController> self(this);
    const bool select = submission.selectWhenVisible;
    return m_bridge.submitAsync(
        submission.prompt, submission.options, std::max(1, submission.count),
        [self, select](const QList<engine::RequestId>& ids, const QString& error) {
            if (!self) return;
            if (!error.isEmpty())
                self->m_window.showStatusMessage(tr("Request refused: %1").arg(error));
            if (!ids.isEmpty() && select) self->m_selectWhenVisible = ids.front();
            emit self->submitted(ids, error);
        });
}

void GuiController::onSnapshot() {
    if (m_selectWhenVisible == engine::kInvalidRequestId) return;
    if (m_window.requestModel()->rowOf(m_selectWhenVisible) < 0) return;
    m_window.requestView()->selectRequest(m_selectWhenVisible);
    m_selectWhenVisible = engine::kInvalidRequestId;
}


void GuiController::applyChosenTemplate(engine::Engine& engine) {
    m_templateNote.clear();
    const QString key = ChatTemplateChoice::modelKey(engine.modelInfo());
    const bool once = !m_templateOverride.isEmpty();
    const QString path = once ? std::exchange(m_templateOverride, QString()) : ChatTemplateChoice::fileFor(key);
    if (path.isEmpty()) return;
    // The engine has not started: setting its template here races with nothing.
    if (auto applied = ChatTemplateChoice::applyFile(engine, path); !applied) {
        m_templateNote = tr("The chat template chosen for this model cannot be used (%1); the model's "
                            "own is used instead.")
                             .arg(QString::fromStdString(applied.error().message));
        m_window.showStatusMessage(m_templateNote, 15000);
    }
}

void GuiController::showTemplateNote() { m_window.modelPanel()->setChatTemplateNote(m_templateNote); }

bool GuiController::setChatTemplateFile(const QString& path) {
    engine::Engine* engine = m_bridge.engine();
    engine::Status applied = engine::makeError(engine::ErrorCode::InvalidArgument,
                                               m_bridge.isSwitching() ? "the model is being switched"
                                                                      : "no model is loaded");
    if (engine) {
        auto file = engine::loadChatTemplateFile(path.toStdString());
        applied = file ? m_bridge.setChatTemplate(file->text, file->source) : engine::Status(file.error());
    }
    if (!applied) {
        m_lastError = QString::fromStdString(applied.error().message);
        m_window.showStatusMessage(tr("Chat template not changed: %1").arg(m_lastError), 15000);
        m_window.modelPanel()->setChatTemplateNote(tr("Not changed: %1").arg(m_lastError));
        if (m_interactive) {
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Chat template"), m_lastError,
                                        QMessageBox::Ok, &m_window);
            box->setInformativeText(tr("The template in use stays."));
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();
        }
        return false;
    }
    ChatTemplateChoice::remember(ChatTemplateChoice::modelKey(engine->modelInfo()), path);
    m_templateNote.clear();
    showTemplateNote();
    m_window.showStatusMessage(tr("Chat template for this model: %1").arg(path));
    return true;
}

void GuiController::resetChatTemplate() {
    engine::Engine* engine = m_bridge.engine();
    if (!engine) return;
    ChatTemplateChoice::remember(ChatTemplateChoice::modelKey(engine->modelInfo()), {});
    m_templateNote.clear();
    m_bridge.resetChatTemplate();
    m_window.showStatusMessage(tr("Chat template: the model's own"));
}

}  // namespace batchscope::app
