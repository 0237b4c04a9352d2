// The top-level window: one tab per server watched — the local engine's window and one per
// remote connection (`gui --connect`, File → Connect to server…) — and a Compare tab with every
// server side by side.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QList>
#include <QWidget>

#include "app/remote/connection_spec.h"

class QTabWidget;

namespace batchscope::ui {
class CompareView;
class MainWindow;
}  // namespace batchscope::ui

namespace batchscope::app {

class SourceController;

/// GUI thread only. The tab bar hides while only one tab is open, so the local window alone
/// looks as before. A remote tab owns its window, source and controller; closing the tab
/// stops the source and deletes them (and its row in Compare). Tab titles carry a warning sign
/// while a connection is not up, with the state message as tooltip. The Compare tab (last,
/// not closable) appears with the first remote server and lists the local engine (when
/// addLocal was given its source) and every remote one.
class ConsoleWindow : public QWidget {
    Q_OBJECT
public:
    explicit ConsoleWindow(QWidget* parent = nullptr);

    /// The local engine's window (not owned: runGui owns it; it must outlive... or be removed
    /// before this is destroyed).
    void addLocal(ui::MainWindow* window, remote::ServerSource* source = nullptr);
    /// Opens a tab watching `spec` and starts the connection. Returns its controller.
    SourceController* addRemote(const remote::ConnectionSpec& spec);
    /// Opens the Connect dialog (non-modal to the event loop: open(), not exec()).
    void showConnectDialog();

    QTabWidget* tabs() const { return m_tabs; }
    ui::CompareView* compareView() const { return m_compare; }
    /// Shows the Compare tab (File → Compare servers).
    void showCompare();
    QList<SourceController*> remotes() const;
    ui::MainWindow* windowAt(int index) const;

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void addConnectAction(ui::MainWindow* window);
    void closeTab(int index);
    /// A row and graphs in Compare fed by the source (its metrics, state and model name).
    void compareSource(remote::ServerSource* source, QWidget* tab);
    void ensureCompareTab();

    QTabWidget* m_tabs;
    ui::MainWindow* m_local = nullptr;
    ui::CompareView* m_compare;
    QHash<QWidget*, int> m_compareKeys;  ///< server tab -> its key in Compare
};

}  // namespace batchscope::app
