// Wires a ServerSource (a remote server) to a main window: its snapshots, tokens, results,
// model and metrics into the window; the window's intents (submit, cancel, reprioritise) to it;
// its connection state into the status bar; panels it cannot feed replaced by the reason.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QObject>
#include <QPointer>

#include "app/remote/server_source.h"

class QLabel;

namespace batchscope::ui { class MainWindow; }

namespace batchscope::app {

/// GUI thread only. Owns nothing it is given. Every connection is direct: the source lives on
/// the GUI thread and does its I/O asynchronously, so nothing here can block the window.
class SourceController : public QObject {
    Q_OBJECT
public:
    SourceController(remote::ServerSource& source, ui::MainWindow& window, QObject* parent = nullptr);

    remote::ServerSource& source() const { return m_source; }
    /// The status-bar label with the connection state (tests read it).
    QLabel* stateLabel() const { return m_stateLabel; }

private:
    void onStateChanged(remote::ConnectionState state, const QString& message);
    void onSnapshot();

    remote::ServerSource& m_source;
    ui::MainWindow& m_window;
    QLabel* m_stateLabel;
    engine::RequestId m_selectWhenVisible = engine::kInvalidRequestId;
};

}  // namespace batchscope::app
