// The main window: composes the panels and charts, forwards user intents as signals.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QMainWindow>
#include <QVector>
#include <memory>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"
#include "ui/prompt_composer.h"
#include "ui/server_metrics.h"

class QSettings;
class QDockWidget;
class QTabWidget;

namespace batchscope::ui {

class BatchChart;
class ChatView;
class BlockMapWidget;
class LatencyHistogram;
class ModelPanel;
class OutputPane;
class RequestTableModel;
class RequestTableView;
class SchedulerControls;
class ServerMetricsPanel;
class StatusSummary;
class TimeSeriesChart;

/// Knows engine value types only. app/gui connects its intent signals to the engine bridge
/// and feeds it snapshots (≈30 Hz), batched tokens and finished results. GUI thread only.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // ---- Feeding (app/gui connects the EngineBridge signals to these) ----
    void applySnapshot(const std::shared_ptr<const engine::SchedulerSnapshot>& snapshot);
    void appendTokens(const QVector<engine::TokenEvent>& events);
    void requestFinished(const engine::GenerationResult& result);
    /// A new model (engine): shows its info and clears the request views and charts.
    void setModelInfo(const engine::ModelInfo& info);
    /// While a model switch stops the old engine (off the GUI thread): the status bar and the
    /// title say "switching…" and the composer is disabled. `target` names the new model.
    void setModelSwitching(bool switching, const QString& target = QString());
    bool isModelSwitching() const { return m_switching; }
    /// HOOK for the WebSocket API server: shows the endpoint in the status bar with a
    /// copy-token button. Empty url: "API: off".
    void setApiEndpoint(const QString& url, const QString& token);
    /// Shows a transient message in the status bar (e.g. a refused submission).
    void showStatusMessage(const QString& message, int timeoutMs = 6000);

    // ---- Remote servers (app/gui's SourceController) ----
    /// Panels a data source can or cannot feed. A panel given a reason shows that sentence in
    /// place of its chart (e.g. "vLLM's /metrics has no per-step batch composition"); an empty
    /// reason shows the panel again.
    enum class Panel { BatchComposition, KvMemory, KvBlockMap, Throughput, Latency, Scheduler,
                       Model, ServerMetrics };
    void setPanelUnavailable(Panel panel, const QString& reason);
    QString panelUnavailableReason(Panel panel) const;
    /// One scrape of a server's metrics for the Server metrics panel (hidden until the first).
    void applyServerMetrics(const ServerMetricsSample& sample);
    ServerMetricsPanel* serverMetricsPanel() const { return m_serverMetrics; }
    /// False for a remote server: File → Open model and the model panel's button are disabled.
    void setModelOpenEnabled(bool enabled);
    /// The File menu, where app/gui adds "Connect to server…".
    QMenu* fileMenu() const { return m_fileMenu; }

    // ---- Persistence: window layout and scheduler settings ----
    void saveSettings(QSettings& settings) const;
    /// Restores layout and scheduler controls; does not emit settingsChanged.
    void restoreSettings(const QSettings& settings);
    engine::SchedulerSettings schedulerSettings() const;

    // ---- Parts, for app/gui and tests ----
    RequestTableModel* requestModel() const { return m_model; }
    RequestTableView* requestView() const { return m_requests; }
    PromptComposer* composer() const { return m_composer; }
    OutputPane* outputPane() const { return m_output; }
    SchedulerControls* schedulerControls() const { return m_controls; }
    ModelPanel* modelPanel() const { return m_modelPanel; }
    BatchChart* batchChart() const { return m_batchChart; }
    TimeSeriesChart* kvChart() const { return m_kvChart; }
    TimeSeriesChart* throughputChart() const { return m_throughputChart; }
    BlockMapWidget* blockMap() const { return m_blockMap; }
    LatencyHistogram* latencyChart(int i) const { return m_latency[i]; }  ///< 0 TTFT, 1 TPOT, 2 E2E
    StatusSummary* statusSummary() const { return m_status; }
    ChatView* chatView() const { return m_chat; }
    /// The central tabs: the request view (table + output) and the chat view.
    QTabWidget* centralTabs() const { return m_tabs; }
    void showRequestsTab();
    void showChatTab();
    /// Selects a request in the request table (switching to its tab).
    void showRequest(engine::RequestId id);
    /// Replots every chart now (before a grab).
    void replotAll();

signals:
    void submitRequested(const batchscope::ui::PromptSubmission& submission);
    void cancelRequested(const QList<batchscope::engine::RequestId>& ids);
    void priorityChangeRequested(batchscope::engine::RequestId id,
                                 batchscope::engine::Priority priority);
    void settingsChanged(const batchscope::engine::SchedulerSettings& settings);
    void resetStatisticsRequested();
    /// Double-click on a labelled request (a chat turn) in the request table.
    void labelledRequestActivated(batchscope::engine::RequestId id);
    /// The user chose a model file (File → Open model).
    void openModelRequested(const QString& path);

protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void buildMenus();
    void buildDocks();
    void applyDefaultDockSizes();
    QDockWidget* addDock(const QString& title, const QString& name, QWidget* widget,
                         Qt::DockWidgetArea area);
    QDockWidget* panelDock(Panel panel) const;
    /// Brings the Server metrics dock's tab to the front once the dock layout has it (now, or
    /// when the window is next shown: a remote tab's window may be hidden behind another tab).
    void raiseServerMetricsDock();
    void chooseModelFile();
    void showAbout();

    RequestTableModel* m_model;
    RequestTableView* m_requests;
    PromptComposer* m_composer;
    OutputPane* m_output;
    SchedulerControls* m_controls;
    ModelPanel* m_modelPanel;
    BatchChart* m_batchChart;
    TimeSeriesChart* m_kvChart;
    TimeSeriesChart* m_throughputChart;
    BlockMapWidget* m_blockMap;
    LatencyHistogram* m_latency[3];
    StatusSummary* m_status;
    ChatView* m_chat;
    QTabWidget* m_tabs = nullptr;
    ServerMetricsPanel* m_serverMetrics;
    bool m_serverMetricsShown = false;
    bool m_serverMetricsRaisePending = false;
    int m_serverMetricsRaiseTries = 0;
    QAction* m_openModelAction = nullptr;
    bool m_modelOpenEnabled = true;
    QMenu* m_viewMenu = nullptr;
    QMenu* m_fileMenu = nullptr;
    QByteArray m_defaultState;
    QString m_lastModelDir;
    engine::SchedulerSettings m_lastEngineSettings;
    bool m_haveEngineSettings = false;
    bool m_layoutRestored = false;  ///< restoreState() succeeded: keep the user's sizes
    bool m_shownOnce = false;
    bool m_switching = false;
    QString m_titleBeforeSwitch;
};

}  // namespace batchscope::ui
