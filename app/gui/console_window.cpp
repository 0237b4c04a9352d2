// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/console_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPointer>
#include <QThreadPool>
#include <QMenu>
#include <QSettings>
#include <QTabBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "app/gui/connect_dialog.h"
#include "app/gui/playback_controller.h"
#include "app/gui/what_if_controller.h"
#include "app/gui/source_controller.h"
#include "app/remote/server_source.h"
#include "ui/compare_view.h"
#include "engine/trace/trace_playback.h"
#include "ui/main_window.h"
#include "ui/prompt_composer.h"
#include "ui/scheduler_controls.h"
#include "ui/what_if_panel.h"

namespace batchscope::app {

ConsoleWindow::ConsoleWindow(QWidget* parent)
    : QWidget(parent), m_tabs(new QTabWidget(this)), m_compare(new ui::CompareView(this)) {
    m_compare->hide();  // a tab once there is something to compare
    setObjectName(QStringLiteral("ConsoleWindow"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
    m_tabs->setDocumentMode(true);
    m_tabs->setTabBarAutoHide(true);
    m_tabs->setTabsClosable(true);
    connect(m_tabs, &QTabWidget::tabCloseRequested, this, &ConsoleWindow::closeTab);
    connect(m_tabs, &QTabWidget::currentChanged, this, [this](int i) {
        if (ui::MainWindow* w = windowAt(i)) setWindowTitle(w->windowTitle());
        else if (m_tabs->widget(i) == m_compare) setWindowTitle(tr("Batchscope — compare servers"));
    });
}

void ConsoleWindow::addConnectAction(ui::MainWindow* window) {
    QMenu* file = window->fileMenu();
    auto* action = new QAction(tr("&Connect to server…"), window);
    action->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    connect(action, &QAction::triggered, this, &ConsoleWindow::showConnectDialog);
    file->insertAction(file->actions().value(0), action);
    auto* compare = new QAction(tr("Co&mpare servers"), window);
    compare->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_M));
    connect(compare, &QAction::triggered, this, &ConsoleWindow::showCompare);
    file->insertAction(file->actions().value(1), compare);
    auto* trace = new QAction(tr("Open &trace…"), window);
    trace->setObjectName(QStringLiteral("openTraceAction"));
    connect(trace, &QAction::triggered, this, &ConsoleWindow::chooseTraceFile);
    file->insertAction(action, trace);
    connect(window, &QWidget::windowTitleChanged, this, [this, window](const QString& title) {
        if (m_tabs->currentWidget() == window) setWindowTitle(title);
    });
}

void ConsoleWindow::ensureCompareTab() {
    if (m_tabs->indexOf(m_compare) >= 0) return;
    const int i = m_tabs->addTab(m_compare, tr("Compare"));
    m_tabs->tabBar()->setTabButton(i, QTabBar::RightSide, nullptr);  // not closable
    m_tabs->tabBar()->setTabButton(i, QTabBar::LeftSide, nullptr);
    m_tabs->setTabToolTip(i, tr("Every server of this window side by side"));
}

void ConsoleWindow::showCompare() {
    ensureCompareTab();
    m_tabs->setCurrentWidget(m_compare);
}

void ConsoleWindow::compareSource(remote::ServerSource* source, QWidget* tab) {
    const int key = m_compare->addServer(source->displayName());
    m_compareKeys.insert(tab, key);
    connect(source, &remote::ServerSource::serverMetrics, m_compare,
            [this, key](const ui::ServerMetricsSample& s) { m_compare->addSample(key, s); });
    auto showState = [this, key](remote::ConnectionState state, const QString& message) {
        m_compare->setServerState(key, remote::connectionStateName(state), message);
    };
    connect(source, &remote::ServerSource::stateChanged, m_compare, showState);
    showState(source->state(), source->stateMessage());
    connect(source, &remote::ServerSource::modelChanged, m_compare, [this, key, source](const engine::ModelInfo& m) {
        m_compare->setServerName(key, m.name.empty() ? source->displayName()
                                                     : tr("%1 — %2").arg(source->displayName(),
                                                                          QString::fromStdString(m.name)));
    });
}

void ConsoleWindow::addLocal(ui::MainWindow* window, remote::ServerSource* source) {
    m_local = window;
    window->setWindowFlags(Qt::Widget);
    const int i = m_tabs->insertTab(0, window, tr("Local engine"));
    m_tabs->tabBar()->setTabButton(i, QTabBar::RightSide, nullptr);  // the local tab stays
    m_tabs->tabBar()->setTabButton(i, QTabBar::LeftSide, nullptr);
    addConnectAction(window);
    setWindowTitle(window->windowTitle());
    if (source) compareSource(source, window);
}

SourceController* ConsoleWindow::addRemote(const remote::ConnectionSpec& spec) {
    auto* window = new ui::MainWindow;
    window->setWindowFlags(Qt::Widget);
    auto* source = remote::makeSource(spec).release();
    source->setParent(window);
    auto* controller = new SourceController(*source, *window, window);
    addConnectAction(window);
    ensureCompareTab();
    const int i = m_tabs->insertTab(m_tabs->indexOf(m_compare), window, source->displayName());
    compareSource(source, window);
    connect(source, &remote::ServerSource::stateChanged, this,
            [this, window, source](remote::ConnectionState state, const QString& message) {
                const int at = m_tabs->indexOf(window);
                if (at < 0) return;
                const bool up = state == remote::ConnectionState::Connected;
                m_tabs->setTabText(at, (up ? QString() : QStringLiteral("⚠ ")) + source->displayName());
                m_tabs->setTabToolTip(at, message);
            });
    m_tabs->setCurrentIndex(i);
    source->start();
    return controller;
}

QList<SourceController*> ConsoleWindow::remotes() const {
    QList<SourceController*> out;
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto* c = m_tabs->widget(i)->findChild<SourceController*>(QString(), Qt::FindDirectChildrenOnly)) out << c;
    return out;
}

ui::MainWindow* ConsoleWindow::windowAt(int index) const {
    return qobject_cast<ui::MainWindow*>(m_tabs->widget(index));
}

void ConsoleWindow::showConnectDialog() {
    auto* dialog = new ConnectDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { addRemote(dialog->spec()); });
    dialog->open();
}

void ConsoleWindow::chooseTraceFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open trace"), m_lastTraceDir,
                                                      tr("Batchscope traces (*.sqlite *.db *.trace);;All files (*)"));
    if (path.isEmpty()) return;
    m_lastTraceDir = QFileInfo(path).absolutePath();
    openTrace(path);
}

void ConsoleWindow::openTrace(const QString& path) {
    QPointer<ConsoleWindow> self(this);
    // Reading and indexing a large trace takes seconds: not on the GUI thread.
    QThreadPool::globalInstance()->start([self, path] {
        auto opened = engine::TracePlayback::open(path.toStdString());
        std::shared_ptr<const engine::TracePlayback> playback;
        QString error;
        if (opened) playback = std::make_shared<const engine::TracePlayback>(std::move(opened.value()));
        else error = QString::fromStdString(opened.error().message);
        QMetaObject::invokeMethod(QCoreApplication::instance(), [self, path, playback, error] {
            if (!self) return;
            if (playback) {
                self->addPlaybackTab(path, playback);
                return;
            }
            if (self->m_interactive) {
                auto* box = new QMessageBox(QMessageBox::Warning, ConsoleWindow::tr("Could not open trace"), error,
                                            QMessageBox::Ok, self);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();
            }
            emit self->traceOpenFailed(path, error);
        }, Qt::QueuedConnection);
    });
}

void ConsoleWindow::addPlaybackTab(const QString& path, std::shared_ptr<const engine::TracePlayback> playback) {
    auto* window = new ui::MainWindow;
    window->setWindowFlags(Qt::Widget);
    window->composer()->setEnabled(false);            // a recording takes no submissions
    window->schedulerControls()->setEnabled(false);   // it shows the recorded settings
    window->setModelOpenEnabled(false);
    auto* controller = new PlaybackController(std::move(playback), *window, window);
    auto* panel = new ui::WhatIfPanel;
    auto* whatIf = new WhatIfController(path, *panel, window);
    auto* dock = new QDockWidget(tr("What-if"), window);
    dock->setObjectName(QStringLiteral("dockWhatIf"));
    dock->setWidget(panel);
    window->addDockWidget(Qt::BottomDockWidgetArea, dock);
    addConnectAction(window);
    const int i = m_tabs->insertTab(m_tabs->indexOf(m_compare), window, tr("Trace: %1").arg(QFileInfo(path).fileName()));
    m_tabs->setTabToolTip(i, path);
    m_tabs->setCurrentIndex(i);
    emit traceOpened(controller, whatIf);
}

QList<PlaybackController*> ConsoleWindow::playbacks() const {
    QList<PlaybackController*> out;
    for (int i = 0; i < m_tabs->count(); ++i)
        if (auto* c = m_tabs->widget(i)->findChild<PlaybackController*>(QString(), Qt::FindDirectChildrenOnly)) out << c;
    return out;
}

void ConsoleWindow::closeTab(int index) {
    QWidget* w = m_tabs->widget(index);
    if (!w || w == m_local || w == m_compare) return;
    m_tabs->removeTab(index);
    if (m_compareKeys.contains(w)) m_compare->removeServer(m_compareKeys.take(w));   // a trace tab has none
    if (auto* c = w->findChild<SourceController*>(QString(), Qt::FindDirectChildrenOnly)) c->source().stop();
    w->deleteLater();
}

void ConsoleWindow::closeEvent(QCloseEvent* event) {
    if (m_local) {  // the embedded window gets no close event of its own
        QSettings settings;
        m_local->saveSettings(settings);
        // The top-level geometry is this window's, not the embedded one's.
        settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    }
    QWidget::closeEvent(event);
}

}  // namespace batchscope::app
