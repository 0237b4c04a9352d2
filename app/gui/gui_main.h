// Entry point of the desktop GUI, called by the command line (`batchscope gui`).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QObject>
#include <QString>
#include <functional>
#include <memory>

#include <QList>
#include <QStringList>

#include "app/remote/connection_spec.h"
#include "engine/runtime/executor_factory.h"

namespace batchscope::ui { class MainWindow; }

namespace batchscope::app {

class EngineBridge;

struct GuiOptions {
    QString modelPath;    ///< GGUF path; "" = the last model used, else the demo model
    int port = -1;        ///< API port; -1: default
    bool simulated = false;  ///< use the simulated executor instead of a model file
    /// Chat history database; "" = ConversationStore::defaultPath() (AppDataLocation).
    QString chatDatabase;
    /// `--chat-template FILE`: the first model's chat template for this run (not remembered).
    QString chatTemplate;
    /// Device, threads and KV type for every model the window loads (modelPath is ignored).
    engine::ExecutorOptions executor;
    /// Remote servers to watch, one tab each (`--connect`), besides the local engine.
    QList<remote::ConnectionSpec> connections;
    /// Each connection's `--connect-ca` / `--connect-fingerprint` (same index; empty = none).
    /// runGui loads them into the specs' TLS trust once the QApplication exists: Qt's TLS
    /// backend must not be loaded before it (it would attach itself to no application).
    struct TrustFiles {
        QString caFile, fingerprint;
    };
    QList<TrustFiles> connectionTrust;
    /// Recorded traces to open for playback (`--trace`), one tab each.
    QStringList traces;
};

/// HOOK for the WebSocket API server. Registered by the command line before runGui; runGui
/// calls it once the bridge and the window exist. It starts the server on `port` (-1: its
/// default), returns the object that owns it (kept alive until the window closes, destroyed
/// before the bridge) and reports the endpoint, which the status bar shows with a copy-token
/// button. Returning nullptr means "no server" (url is then ignored).
struct ApiEndpoint {
    QString url;    ///< e.g. "ws://127.0.0.1:8765"
    QString token;  ///< access token clients must present
};
using ApiServerStarter =
    std::function<std::unique_ptr<QObject>(EngineBridge& bridge, int port, ApiEndpoint& endpoint)>;
void setApiServerStarter(ApiServerStarter starter);

/// Creates the QApplication, the engine bridge and the main window, loads the model on a
/// worker thread (progress dialog), starts the API server through the hook, shows the window
/// and runs the event loop. Returns the process exit code.
int runGui(int argc, char** argv, const GuiOptions& options);

}  // namespace batchscope::app
