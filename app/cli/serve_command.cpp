// `batchscope serve`: the engine and the WebSocket API without a window.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <QSocketNotifier>
#include <csignal>
#include <iostream>

#include "app/bridge/engine_bridge.h"
#include "app/cli/cli_common.h"

namespace batchscope::app {

namespace {
volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }
}  // namespace

int runServe(int argc, char** argv, const QStringList& args) {
    QCommandLineParser parser;
    addEngineOptions(parser);
    if (int rc = parseOrExit(parser, args, "Run the engine and the WebSocket API without a window."); rc >= 0) return rc;
    QCoreApplication app(argc, argv);
    auto engine = buildEngine(parser);
    if (!engine) return 1;
    EngineBridge bridge;
    bridge.setEngine(std::move(engine));
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &app, [&] { if (g_stop) app.quit(); });
    poll.start(100);
    std::cerr << "serving " << bridge.engine()->modelInfo().name << "; press Ctrl+C to stop\n";
    const int rc = app.exec();
    bridge.setEngine(nullptr);
    return rc;
}

}  // namespace batchscope::app
