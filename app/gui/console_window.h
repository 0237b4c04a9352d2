// The top-level window: one tab per server watched — the local engine's window and one per
// remote connection (`gui --connect`, File → Connect to server…) — and a Compare tab with every
// server side by side.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QList>
#include <QWidget>
#include <memory>

#include "app/gui/playback_controller.h"
#include "app/gui/what_if_controller.h"
#include "app/remote/connection_spec.h"

class QTabWidget;

namespace batchscope::ui {
class CompareView;
class MainWindow;
}  // namespace batchscope::ui
namespace batchscope::engine { class TracePlayback; }

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
    /// Opens a trace in a new tab for playback, with a what-if dock. The file is read and
    /// indexed on a pool thread; traceOpened or traceOpenFailed (with the reader's message,
    /// also shown in a message box unless setInteractive(false)) follows on the GUI thread.
    void openTrace(const QString& path);
    /// File → Open trace… (a file dialog, then openTrace).
    void chooseTraceFile();
    void setInteractive(bool interactive) { m_interactive = interactive; }
    /// The playback tabs' controllers, in tab order.
    QList<PlaybackController*> playbacks() const;

    QTabWidget* tabs() const { return m_tabs; }
    ui::CompareView* compareView() const { return m_compare; }
    /// Shows the Compare tab (File → Compare servers).
    void showCompare();
    QList<SourceController*> remotes() const;
    ui::MainWindow* windowAt(int index) const;

signals:
    void traceOpened(batchscope::app::PlaybackController* playback, batchscope::app::WhatIfController* whatIf);
    void traceOpenFailed(const QString& path, const QString& error);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void addConnectAction(ui::MainWindow* window);
    void addPlaybackTab(const QString& path, std::shared_ptr<const engine::TracePlayback> playback);
    void closeTab(int index);
    /// A row and graphs in Compare fed by the source (its metrics, state and model name).
    void compareSource(remote::ServerSource* source, QWidget* tab);
    void ensureCompareTab();

    QTabWidget* m_tabs;
    ui::MainWindow* m_local = nullptr;
    ui::CompareView* m_compare;
    QHash<QWidget*, int> m_compareKeys;  ///< server tab -> its key in Compare
    bool m_interactive = true;
    QString m_lastTraceDir;
};

}  // namespace batchscope::app
