// The top-level window: one tab per server watched — the local engine's window and one per
// remote connection (`gui --connect`, File → Connect to server…).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QWidget>

#include "app/remote/connection_spec.h"

class QTabWidget;

namespace batchscope::ui { class MainWindow; }

namespace batchscope::app {

class SourceController;

/// GUI thread only. The tab bar hides while only one tab is open, so the local window alone
/// looks as before. A remote tab owns its window, source and controller; closing the tab
/// stops the source and deletes them. Tab titles carry a warning sign while a connection is
/// not up, with the state message as tooltip.
class ConsoleWindow : public QWidget {
    Q_OBJECT
public:
    explicit ConsoleWindow(QWidget* parent = nullptr);

    /// The local engine's window (not owned: runGui owns it; it must outlive... or be removed
    /// before this is destroyed).
    void addLocal(ui::MainWindow* window);
    /// Opens a tab watching `spec` and starts the connection. Returns its controller.
    SourceController* addRemote(const remote::ConnectionSpec& spec);
    /// Opens the Connect dialog (non-modal to the event loop: open(), not exec()).
    void showConnectDialog();

    QTabWidget* tabs() const { return m_tabs; }
    QList<SourceController*> remotes() const;
    ui::MainWindow* windowAt(int index) const;

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void addConnectAction(ui::MainWindow* window);
    void closeTab(int index);

    QTabWidget* m_tabs;
    ui::MainWindow* m_local = nullptr;
};

}  // namespace batchscope::app
