// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QLabel>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTabBar>
#include <QTimer>

#include "ui/batch_chart.h"
#include "ui/block_map_widget.h"
#include "ui/chat_view.h"
#include "ui/latency_histogram.h"
#include "ui/model_panel.h"
#include "ui/output_pane.h"
#include "ui/request_table_model.h"
#include "ui/request_table_view.h"
#include "ui/scheduler_controls.h"
#include "ui/server_metrics_panel.h"
#include "ui/status_summary.h"
#include "ui/time_series_chart.h"

#ifndef BATCHSCOPE_VERSION
#define BATCHSCOPE_VERSION "unknown"
#endif

namespace batchscope::ui {

static bool sameSettings(const engine::SchedulerSettings& a, const engine::SchedulerSettings& b) {
    return a.maxBatchSize == b.maxBatchSize && a.tokenBudget == b.tokenBudget &&
           a.queuePolicy == b.queuePolicy && a.agingIntervalMs == b.agingIntervalMs &&
           a.memoryPolicy == b.memoryPolicy && a.prefixCaching == b.prefixCaching &&
           a.paused == b.paused;
}

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_model(new RequestTableModel(this)),
      m_requests(new RequestTableView(m_model, this)), m_composer(new PromptComposer(this)),
      m_output(new OutputPane(this)), m_controls(new SchedulerControls(this)),
      m_modelPanel(new ModelPanel(this)), m_batchChart(new BatchChart(this)),
      m_kvChart(new TimeSeriesChart(
          {{tr("used"), tr("blocks"), QColor(0x1f, 0x8f, 0xd6), false, true},
           {tr("cached"), tr("blocks"), QColor(0x9a, 0xa7, 0xb8), false, true},
           {tr("free"), tr("blocks"), QColor(0x2e, 0xa0, 0x43), false, false}},
          tr("KV blocks"), QString(), this)),
      m_throughputChart(new TimeSeriesChart(
          {{tr("prompt"), tr("tok/s"), QColor(0xe0, 0x8e, 0x0b), false, false},
           {tr("generated"), tr("tok/s"), QColor(0x1f, 0x8f, 0xd6), false, true},
           {tr("queue depth"), tr("requests"), QColor(0xd7, 0x3a, 0x49), true, false}},
          tr("throughput (tokens/s)"), tr("queue depth (requests)"), this)),
      m_blockMap(new BlockMapWidget(this)),
      m_latency{new LatencyHistogram(tr("Time to first token"), this),
                new LatencyHistogram(tr("Time per output token"), this),
                new LatencyHistogram(tr("End-to-end latency"), this)},
      m_status(new StatusSummary(this)), m_chat(new ChatView(this)),
      m_serverMetrics(new ServerMetricsPanel(this)) {
    setWindowTitle(tr("Batchscope"));
    setObjectName(QStringLiteral("MainWindow"));
    setDockNestingEnabled(true);
    m_kvChart->setToolTip(tr("KV-cache blocks over time: used by running requests, cached "
                             "prefixes (reusable), free"));
    m_throughputChart->setToolTip(tr("Prompt and generated tokens per second, and requests "
                                     "waiting in the queue"));

    auto* central = new QSplitter(Qt::Vertical, this);
    central->setObjectName(QStringLiteral("centralSplitter"));
    central->addWidget(m_requests);
    central->addWidget(m_output);
    central->setStretchFactor(0, 3);
    central->setStretchFactor(1, 2);
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("centralTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(central, tr("Requests"));
    m_tabs->addTab(m_chat, tr("Chat"));
    setCentralWidget(m_tabs);
    statusBar()->addPermanentWidget(m_status, 1);

    buildDocks();
    buildMenus();
    m_defaultState = saveState();

    connect(m_composer, &PromptComposer::submitRequested, this, &MainWindow::submitRequested);
    connect(m_requests, &RequestTableView::cancelRequested, this, &MainWindow::cancelRequested);
    connect(m_requests, &RequestTableView::priorityChangeRequested, this,
            &MainWindow::priorityChangeRequested);
    connect(m_requests, &RequestTableView::currentRequestChanged, this,
            [this](engine::RequestId id) {
                m_output->setCurrentRequest(id);
                m_output->updateRequest(m_model->request(id), 0);
            });
    connect(m_blockMap, &BlockMapWidget::blockClicked, this, &MainWindow::showRequest);
    connect(m_chat, &ChatView::showRequestRequested, this, &MainWindow::showRequest);
    m_blockMap->setLabelSource([this](engine::RequestId id) { return m_model->requestLabel(id); });
    connect(m_requests->table(), &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        if (index.data(RequestTableModel::LabelRole).toString().isEmpty()) return;
        if (index.column() == RequestTableModel::Priority) return;  // that double-click edits
        emit labelledRequestActivated(index.data(RequestTableModel::RequestIdRole).toULongLong());
    });
    connect(m_controls, &SchedulerControls::settingsChanged, this, &MainWindow::settingsChanged);
    connect(m_controls, &SchedulerControls::resetStatisticsRequested, this,
            &MainWindow::resetStatisticsRequested);
    connect(m_modelPanel, &ModelPanel::openModelRequested, this, &MainWindow::chooseModelFile);
}

MainWindow::~MainWindow() = default;

QDockWidget* MainWindow::addDock(const QString& title, const QString& name, QWidget* widget,
                                 Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name);  // saveState/restoreState key
    // Page 0: the panel; page 1: why a remote server cannot feed it (setPanelUnavailable).
    auto* stack = new QStackedWidget(dock);
    stack->setObjectName(name + QStringLiteral("Stack"));
    stack->addWidget(widget);
    auto* reason = new QLabel(stack);
    reason->setObjectName(name + QStringLiteral("Reason"));
    reason->setWordWrap(true);
    reason->setAlignment(Qt::AlignCenter);
    reason->setMargin(12);
    stack->addWidget(reason);
    dock->setWidget(stack);
    dock->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                      QDockWidget::DockWidgetClosable);
    addDockWidget(area, dock);
    return dock;
}

void MainWindow::buildDocks() {
    // Side columns own the corners so the latency row sits under the central area only.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    QDockWidget* compose = addDock(tr("Compose"), QStringLiteral("dockCompose"), m_composer,
                                   Qt::LeftDockWidgetArea);
    QDockWidget* controls = addDock(tr("Scheduler"), QStringLiteral("dockScheduler"), m_controls,
                                    Qt::LeftDockWidgetArea);
    QDockWidget* model = addDock(tr("Model"), QStringLiteral("dockModel"), m_modelPanel,
                                 Qt::LeftDockWidgetArea);
    splitDockWidget(compose, controls, Qt::Vertical);
    tabifyDockWidget(controls, model);
    controls->raise();
    QDockWidget* batch = addDock(tr("Batch composition"), QStringLiteral("dockBatch"),
                                 m_batchChart, Qt::RightDockWidgetArea);
    QDockWidget* kv = addDock(tr("KV-cache memory"), QStringLiteral("dockKv"), m_kvChart,
                              Qt::RightDockWidgetArea);
    QDockWidget* blocks = addDock(tr("KV block map"), QStringLiteral("dockBlockMap"), m_blockMap,
                                  Qt::RightDockWidgetArea);
    QDockWidget* tput = addDock(tr("Throughput and queue"), QStringLiteral("dockThroughput"),
                                m_throughputChart, Qt::RightDockWidgetArea);
    splitDockWidget(batch, kv, Qt::Vertical);
    splitDockWidget(kv, blocks, Qt::Vertical);
    splitDockWidget(blocks, tput, Qt::Vertical);
    auto* latency = new QWidget(this);
    auto* row = new QHBoxLayout(latency);
    row->setContentsMargins(0, 0, 0, 0);
    for (LatencyHistogram* h : m_latency) row->addWidget(h);
    addDock(tr("Latency"), QStringLiteral("dockLatency"), latency, Qt::BottomDockWidgetArea);
    QDockWidget* server = addDock(tr("Server metrics"), QStringLiteral("dockServerMetrics"),
                                  m_serverMetrics, Qt::RightDockWidgetArea);
    tabifyDockWidget(batch, server);
    batch->raise();
    server->hide();  // shown by applyServerMetrics (remote servers)
}

QDockWidget* MainWindow::panelDock(Panel panel) const {
    static const char* const names[] = {"dockBatch", "dockKv", "dockBlockMap", "dockThroughput",
                                        "dockLatency", "dockScheduler", "dockModel",
                                        "dockServerMetrics"};
    return findChild<QDockWidget*>(QLatin1String(names[int(panel)]));
}

void MainWindow::setPanelUnavailable(Panel panel, const QString& reason) {
    QDockWidget* dock = panelDock(panel);
    auto* stack = qobject_cast<QStackedWidget*>(dock->widget());
    auto* label = qobject_cast<QLabel*>(stack->widget(1));
    label->setText(reason);
    stack->setCurrentIndex(reason.isEmpty() ? 0 : 1);
}

QString MainWindow::panelUnavailableReason(Panel panel) const {
    auto* stack = qobject_cast<QStackedWidget*>(panelDock(panel)->widget());
    return stack->currentIndex() == 1 ? qobject_cast<QLabel*>(stack->widget(1))->text() : QString();
}

void MainWindow::applyServerMetrics(const ServerMetricsSample& sample) {
    if (!m_serverMetricsShown) {
        m_serverMetricsShown = true;
        panelDock(Panel::ServerMetrics)->show();
        m_serverMetricsRaisePending = true;
        // Its tab comes to the front once the dock layout has taken the shown dock back.
        QTimer::singleShot(0, this, &MainWindow::raiseServerMetricsDock);
    }
    m_serverMetrics->addSample(sample);
}

void MainWindow::raiseServerMetricsDock() {
    if (!m_serverMetricsRaisePending || !isVisible()) return;  // showEvent calls again
    QDockWidget* dock = panelDock(Panel::ServerMetrics);
    // QDockWidget::raise() selects the dock's tab only when it changes the stacking order among
    // the window's children (not when the dock is already last, or not yet created), so the
    // tab is selected directly in the dock layout's tab bar (dock titles are unique here).
    dock->raise();
    if (tabifiedDockWidgets(dock).isEmpty() || dock->isFloating() || ++m_serverMetricsRaiseTries > 40) {
        m_serverMetricsRaisePending = false;  // not in a tab group (the user moved it): nothing hides it
        return;
    }
    for (QTabBar* bar : findChildren<QTabBar*>(QString(), Qt::FindDirectChildrenOnly))
        for (int i = 0; i < bar->count(); ++i)
            if (bar->tabData(i).value<quintptr>() == quintptr(dock) || bar->tabText(i) == dock->windowTitle()) {
                bar->setCurrentIndex(i);
                m_serverMetricsRaisePending = false;
                return;
            }
    // The layout has not made the tab yet (a window just shown): try again shortly.
    QTimer::singleShot(50, this, &MainWindow::raiseServerMetricsDock);
}

void MainWindow::setModelOpenEnabled(bool enabled) {
    if (m_openModelAction) m_openModelAction->setEnabled(enabled);
    m_modelOpenEnabled = enabled;
    m_modelPanel->setChatTemplateChoiceEnabled(enabled);  // a remote server chooses its own
}

void MainWindow::applyDefaultDockSizes() {
    // Dock sizes only take effect once the window has its real size, hence on first show.
    auto dock = [this](const char* name) { return findChild<QDockWidget*>(QLatin1String(name)); };
    const int w = width(), h = height();
    resizeDocks({dock("dockCompose"), dock("dockBatch")}, {w * 18 / 100, w * 27 / 100},
                Qt::Horizontal);
    resizeDocks({dock("dockCompose"), dock("dockScheduler")}, {h * 50 / 100, h * 40 / 100},
                Qt::Vertical);
    resizeDocks({dock("dockBatch"), dock("dockKv"), dock("dockBlockMap"), dock("dockThroughput")},
                {h * 27 / 100, h * 23 / 100, h * 17 / 100, h * 25 / 100}, Qt::Vertical);
    resizeDocks({dock("dockLatency")}, {h * 21 / 100}, Qt::Vertical);
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    if (m_serverMetricsRaisePending) QTimer::singleShot(0, this, &MainWindow::raiseServerMetricsDock);
    if (m_shownOnce) return;
    m_shownOnce = true;
    if (!m_layoutRestored) applyDefaultDockSizes();
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    m_fileMenu = file;
    QAction* open = file->addAction(tr("&Open model…"), this, &MainWindow::chooseModelFile);
    m_openModelAction = open;
    open->setShortcut(QKeySequence::Open);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* requests = menuBar()->addMenu(tr("&Requests"));
    // No shortcut here: the composer's own Ctrl+Enter would become ambiguous.
    requests->addAction(tr("&Submit prompt (Ctrl+Enter in the composer)"), m_composer,
                        &PromptComposer::submit);
    requests->addAction(tr("Load &burst (100 requests)"), m_composer, &PromptComposer::submitBurst);
    requests->addAction(tr("&Cancel selected"), m_requests, &RequestTableView::cancelSelected);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        m_viewMenu->addAction(dock->toggleViewAction());
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(tr("&Reset layout"), this, [this] {
        restoreState(m_defaultState);
        applyDefaultDockSizes();
    });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Batchscope"), this, &MainWindow::showAbout);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::chooseModelFile() {
    if (!m_modelOpenEnabled) {
        showStatusMessage(tr("This tab shows a remote server: its model is chosen on the server"));
        return;
    }
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open model"), m_lastModelDir, tr("GGUF models (*.gguf);;All files (*)"));
    if (path.isEmpty()) return;
    m_lastModelDir = QFileInfo(path).absolutePath();
    emit openModelRequested(path);
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About Batchscope"),
        tr("<h3>Batchscope %1</h3><p>See and steer how LLM requests are scheduled: a "
           "continuous-batching engine with a live view of its scheduler.</p>"
           "<p>Licensed under the GNU General Public License, version 3 or later.</p>")
            .arg(QStringLiteral(BATCHSCOPE_VERSION)));
}

void MainWindow::showRequestsTab() { m_tabs->setCurrentIndex(0); }
void MainWindow::showChatTab() { m_tabs->setCurrentWidget(m_chat); }

void MainWindow::showRequest(engine::RequestId id) {
    showRequestsTab();
    m_requests->selectRequest(id);
}

void MainWindow::applySnapshot(const std::shared_ptr<const engine::SchedulerSnapshot>& snap) {
    if (!snap) return;
    const engine::SchedulerSnapshot& s = *snap;
    m_model->applySnapshot(s);
    const double t = s.timeMs / 1000.0;
    m_batchChart->addSteps(s.steps);
    m_kvChart->append(t, {double(s.kv.usedBlocks), double(s.kv.cachedBlocks),
                          double(s.kv.freeBlocks)});
    m_throughputChart->append(t, {s.promptTokensPerSecond, s.generatedTokensPerSecond,
                                  double(s.queueDepth)});
    m_latency[0]->setSamples(s.recentTtftMs);
    m_latency[1]->setSamples(s.recentTpotMs);
    m_latency[2]->setSamples(s.recentEndToEndMs);
    m_blockMap->setBlocks(s.blocks);
    m_output->updateRequest(m_model->request(m_output->currentRequest()), s.timeMs);
    m_status->update(s);
    // Follow the engine's settings when they change there (e.g. through the API), without
    // overwriting what the user is editing between snapshots.
    if (!m_haveEngineSettings || !sameSettings(s.settings, m_lastEngineSettings)) {
        m_lastEngineSettings = s.settings;
        m_haveEngineSettings = true;
        if (!sameSettings(s.settings, m_controls->settings())) m_controls->setSettings(s.settings);
    }
}

void MainWindow::appendTokens(const QVector<engine::TokenEvent>& events) {
    m_output->appendTokens(events);
}

void MainWindow::requestFinished(const engine::GenerationResult& result) {
    m_model->applyFinished(result);
    m_output->finishRequest(result);
}

void MainWindow::setModelInfo(const engine::ModelInfo& info) {
    m_modelPanel->setModelInfo(info);
    setWindowTitle(tr("Batchscope — %1").arg(QString::fromStdString(info.name)));
    // A new engine starts its ids and clock again: start the views afresh.
    m_model->clear();
    m_output->clear();
    m_batchChart->clear();
    m_kvChart->clear();
    m_throughputChart->clear();
    m_haveEngineSettings = false;
}

void MainWindow::setModelSwitching(bool switching, const QString& target) {
    if (switching == m_switching) return;
    m_switching = switching;
    m_composer->setEnabled(!switching);
    if (switching) {
        m_titleBeforeSwitch = windowTitle();
        setWindowTitle(tr("Batchscope — switching…"));
        statusBar()->showMessage(tr("Switching to %1…").arg(target), 0);
    } else {
        if (windowTitle() == tr("Batchscope — switching…")) setWindowTitle(m_titleBeforeSwitch);
        statusBar()->clearMessage();
    }
}

void MainWindow::setApiEndpoint(const QString& url, const QString& token) {
    m_status->setApiEndpoint(url, token);
}

void MainWindow::showStatusMessage(const QString& message, int timeoutMs) {
    statusBar()->showMessage(message, timeoutMs);
}

engine::SchedulerSettings MainWindow::schedulerSettings() const { return m_controls->settings(); }

void MainWindow::saveSettings(QSettings& settings) const {
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    settings.setValue(QStringLiteral("window/lastModelDir"), m_lastModelDir);
    const engine::SchedulerSettings s = m_controls->settings();
    settings.beginGroup(QStringLiteral("scheduler"));
    settings.setValue(QStringLiteral("maxBatchSize"), s.maxBatchSize);
    settings.setValue(QStringLiteral("tokenBudget"), s.tokenBudget);
    settings.setValue(QStringLiteral("queuePolicy"), int(s.queuePolicy));
    settings.setValue(QStringLiteral("agingIntervalMs"), qint64(s.agingIntervalMs));
    settings.setValue(QStringLiteral("memoryPolicy"), int(s.memoryPolicy));
    settings.setValue(QStringLiteral("prefixCaching"), s.prefixCaching);
    settings.endGroup();
}

void MainWindow::restoreSettings(const QSettings& settings) {
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    m_layoutRestored = restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    m_lastModelDir = settings.value(QStringLiteral("window/lastModelDir")).toString();
    engine::SchedulerSettings s;
    auto get = [&](const char* key, auto fallback) {
        return settings.value(QStringLiteral("scheduler/") + QLatin1String(key), fallback);
    };
    s.maxBatchSize = std::max(1, get("maxBatchSize", s.maxBatchSize).toInt());
    s.tokenBudget = std::max(1, get("tokenBudget", s.tokenBudget).toInt());
    s.queuePolicy = get("queuePolicy", int(s.queuePolicy)).toInt() == int(engine::QueuePolicy::Fcfs)
                        ? engine::QueuePolicy::Fcfs : engine::QueuePolicy::Priority;
    s.agingIntervalMs = std::max<qint64>(0, get("agingIntervalMs", qint64(s.agingIntervalMs)).toLongLong());
    s.memoryPolicy = get("memoryPolicy", int(s.memoryPolicy)).toInt() == int(engine::MemoryPolicy::Reserve)
                         ? engine::MemoryPolicy::Reserve : engine::MemoryPolicy::Preempt;
    s.prefixCaching = get("prefixCaching", s.prefixCaching).toBool();
    m_controls->setSettings(s);
}

void MainWindow::replotAll() {
    m_batchChart->replotImmediately();
    m_kvChart->replotImmediately();
    m_throughputChart->replotImmediately();
    for (LatencyHistogram* h : m_latency) h->replotImmediately();
    m_serverMetrics->replotImmediately();
    m_output->flush();
}

void MainWindow::closeEvent(QCloseEvent* event) {
    QSettings settings;
    saveSettings(settings);
    QMainWindow::closeEvent(event);
}

}  // namespace batchscope::ui
