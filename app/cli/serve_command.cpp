// `batchscope serve`: the engine, the WebSocket API and (--http-port) the HTTP API without a window.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "app/api/api_options.h"
#include "app/api/api_server.h"
#include "app/api/http_api_server.h"
#include <memory>
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
    api::addApiOptions(parser);
    parser.addOption({"record", "Record the run into a SQLite trace (replace FILE); see 'batchscope replay'.", "file"});
    if (int rc = parseOrExit(parser, args, "Run the engine, the WebSocket API and (--http-port) the HTTP API without a window."); rc >= 0) return rc;
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("batchscope");
    QString tokenSource;
    auto apiOptions = api::apiOptionsFromParser(parser, &tokenSource);
    if (!apiOptions) {
        std::cerr << "error: " << apiOptions.error().message << "\n";
        return 2;
    }
    auto httpOptions = api::httpOptionsFromParser(parser);
    if (!httpOptions) {
        std::cerr << "error: " << httpOptions.error().message << "\n";
        return 2;
    }
    auto engine = buildEngine(parser);
    if (!engine) return 1;
    if (parser.isSet("record")) {
        if (auto st = engine->startRecording(parser.value("record").toStdString()); !st) {
            std::cerr << "error: " << st.error().message << "\n";
            return 1;
        }
        std::cerr << "recording to " << parser.value("record").toStdString() << "\n";
    }
    EngineBridge bridge;
    bridge.setEngine(std::move(engine));
    api::ApiServer server(bridge, apiOptions.value());
    QString error;
    if (!server.listen(&error)) {
        std::cerr << "error: cannot start the WebSocket API: " << error.toStdString() << "\n";
        return 1;
    }
    std::unique_ptr<api::HttpApiServer> http;
    if (httpOptions.value()) {
        http = std::make_unique<api::HttpApiServer>(bridge, apiOptions.value(), *httpOptions.value());
        if (!http->listen(&error)) {
            std::cerr << "error: cannot start the HTTP API: " << error.toStdString() << "\n";
            return 1;
        }
    }
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &app, [&] { if (g_stop) app.quit(); });
    poll.start(100);
    // The URL on stdout (scripts read it, e.g. with --port 0); the rest is a log on stderr.
    std::printf("listening on %s\n", server.url().toString().toUtf8().constData());
    if (http) std::printf("http listening on %s\n", http->url().toString().toUtf8().constData());
    std::fflush(stdout);
    const engine::ModelInfo served = bridge.engine()->modelInfo();
    std::cerr << "serving " << served.name << " (" << served.backend << "; chat template: "
              << served.chatTemplateSource << "); access token from " << tokenSource.toStdString()
              << "; Ctrl+C stops\n";
    const int rc = app.exec();
    server.close();
    if (http) http->close();
    bridge.setEngine(nullptr);  // unfinished requests finish as cancelled
    return rc;
}

}  // namespace batchscope::app
