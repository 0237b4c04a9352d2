// Wires the main window's intents to the engine bridge and manages model loading.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QObject>
#include <QPointer>
#include <QString>

#include "engine/core/ids.h"
#include "engine/runtime/executor_factory.h"
#include "ui/prompt_composer.h"

class QProgressDialog;

namespace batchscope::engine { class Engine; }
namespace batchscope::ui { class MainWindow; }

namespace batchscope::app {

class EngineBridge;
class ModelLoader;

/// GUI thread only. Owns nothing it is given; owns the model loader and its dialog.
/// A failed or cancelled load shows the loader's error and keeps the previous engine serving.
/// Nothing here blocks the event loop: the model loads on the loader's thread, the old engine
/// stops on the bridge's worker (the window says "switching…" meanwhile) and submissions are
/// tokenized there too.
class GuiController : public QObject {
    Q_OBJECT
public:
    GuiController(EngineBridge& bridge, ui::MainWindow& window, QObject* parent = nullptr);
    ~GuiController() override;

    /// Starts loading `path` ("simulated" for the simulated executor, "" for the demo model).
    /// Returns false if a load (or the switch that follows it) is already running.
    /// modelLoaded is emitted once the new engine runs.
    bool loadModel(const QString& path);
    /// Device, threads and KV-cache type used by every later loadModel() (from the command
    /// line: --device, --threads, --kv-type); the path field is ignored.
    void setExecutorDefaults(const engine::ExecutorOptions& options) { m_executorDefaults = options; }
    bool isLoading() const;
    /// Dialogs (progress, error boxes) are on by default; tests turn them off.
    void setInteractive(bool interactive) { m_interactive = interactive; }
    QString lastError() const { return m_lastError; }
    QString currentModelPath() const { return m_currentPath; }
    /// The chat template of the running model: `path` read and parsed, applied, and
    /// remembered for this model (re-applied whenever it is loaded again, including at
    /// startup). False (the template in use stays; status bar, panel note, a message box when
    /// interactive) when no model runs or the file cannot be used; lastError() says why.
    bool setChatTemplateFile(const QString& path);
    /// Back to the running model's own template, and forget the choice for it.
    void resetChatTemplate();
    /// A template file for the next model loaded only (`gui --chat-template FILE`); not
    /// remembered.
    void setChatTemplateOverride(const QString& path) { m_templateOverride = path; }
    /// Submits a composer submission (count copies) off the GUI thread; submitted() reports
    /// the ids accepted. False (with a status message, no submitted()) when no model runs.
    bool submit(const ui::PromptSubmission& submission);

signals:
    void modelLoaded(const QString& path);
    void modelLoadFailed(const QString& error);
    /// The outcome of one submit(): the ids accepted, and the engine's refusal if any.
    void submitted(const QList<batchscope::engine::RequestId>& ids, const QString& error);

private:
    void onLoadFinished(bool ok, const QString& error, bool cancelled);
    void onSwitchingChanged(bool switching);
    void finishLoad();
    void onSnapshot();
    /// Before the new engine starts: the override or the file remembered for its model.
    void applyChosenTemplate(engine::Engine& engine);
    void showTemplateNote();

    EngineBridge& m_bridge;
    ui::MainWindow& m_window;
    ModelLoader* m_loader;
    QPointer<QProgressDialog> m_progress;
    QString m_loadingPath, m_currentPath, m_lastError;
    bool m_awaitingSwitch = false;  ///< a loaded engine waits for the bridge's switch
    engine::RequestId m_selectWhenVisible = engine::kInvalidRequestId;
    bool m_interactive = true;
    engine::ExecutorOptions m_executorDefaults;
    QString m_templateOverride;
    QString m_templateNote;  ///< why a chosen template is not in use ("" when none)
};

}  // namespace batchscope::app
