// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/console_window.h"

#include <QAction>
#include <QCloseEvent>
#include <QMenu>
#include <QSettings>
#include <QTabBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include "app/gui/connect_dialog.h"
#include "app/gui/source_controller.h"
#include "app/remote/server_source.h"
#include "ui/main_window.h"

namespace batchscope::app {

ConsoleWindow::ConsoleWindow(QWidget* parent) : QWidget(parent), m_tabs(new QTabWidget(this)) {
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
    });
}

void ConsoleWindow::addConnectAction(ui::MainWindow* window) {
    QMenu* file = window->fileMenu();
    auto* action = new QAction(tr("&Connect to server…"), window);
    action->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    connect(action, &QAction::triggered, this, &ConsoleWindow::showConnectDialog);
    file->insertAction(file->actions().value(0), action);
    connect(window, &QWidget::windowTitleChanged, this, [this, window](const QString& title) {
        if (m_tabs->currentWidget() == window) setWindowTitle(title);
    });
}

void ConsoleWindow::addLocal(ui::MainWindow* window) {
    m_local = window;
    window->setWindowFlags(Qt::Widget);
    const int i = m_tabs->insertTab(0, window, tr("Local engine"));
    m_tabs->tabBar()->setTabButton(i, QTabBar::RightSide, nullptr);  // the local tab stays
    m_tabs->tabBar()->setTabButton(i, QTabBar::LeftSide, nullptr);
    addConnectAction(window);
    setWindowTitle(window->windowTitle());
}

SourceController* ConsoleWindow::addRemote(const remote::ConnectionSpec& spec) {
    auto* window = new ui::MainWindow;
    window->setWindowFlags(Qt::Widget);
    auto* source = remote::makeSource(spec).release();
    source->setParent(window);
    auto* controller = new SourceController(*source, *window, window);
    addConnectAction(window);
    const int i = m_tabs->addTab(window, source->displayName());
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

void ConsoleWindow::closeTab(int index) {
    QWidget* w = m_tabs->widget(index);
    if (!w || w == m_local) return;
    m_tabs->removeTab(index);
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
