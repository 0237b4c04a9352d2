// `batchscope [gui]`: the desktop application, with the WebSocket API started alongside.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <iostream>

#include "app/api/api_options.h"
#include "app/api/api_server.h"
#include "app/api/http_api_server.h"
#include "app/bridge/engine_bridge.h"
#include "app/cli/cli_common.h"
#include "app/gui/gui_main.h"

namespace batchscope::app {

int runGuiCommand(int argc, char** argv, const QStringList& args) {
    QCommandLineParser parser;
    parser.addOption({"model", "GGUF model file (default: the last one used, else the bundled demo model; "
                               "'simulated' runs without a model).", "file"});
    parser.addOption({"no-api", "Do not start the WebSocket API."});
    parser.addOption({"chat-db", "Chat history database (default: chat-history.sqlite in the user's "
                                 "data directory).", "file"});
    parser.addOption({"connect", "Also watch a remote server, in its own tab (repeatable): ws://HOST:PORT for a "
                                 "`batchscope serve`, http://HOST:PORT for an OpenAI-compatible server with /metrics "
                                 "(vLLM, SGLang, TGI, llama.cpp).", "url"});
    parser.addOption({"connect-token", "Access token (Bearer) for the --connect servers: one for all, or one per "
                                       "--connect in order.", "token"});
    parser.addOption({"connect-ca", "TLS (https://, wss://): also trust the CA certificates in this PEM or DER "
                                    "file for the --connect servers: one for all, or one per --connect.", "file"});
    parser.addOption({"connect-fingerprint", "TLS: trust the server certificate with this SHA-256 fingerprint "
                                             "(e.g. a self-signed one; the status bar shows it when a certificate "
                                             "is refused): one for all, or one per --connect.", "sha256"});
    parser.addOption({"trace", "Open a recorded trace (--record FILE of serve/bench) for playback and what-if, in its "
                               "own tab (repeatable).", "file"});
    addExecutorOptions(parser);
    parser.addOption(chatTemplateOption());
    api::addApiOptions(parser);
    if (int rc = parseOrExit(parser, args, "Open the desktop application."); rc >= 0) return rc;
    // The token file and settings live in ~/.config/batchscope (no organisation level).
    QCoreApplication::setApplicationName("batchscope");
    QString tokenSource;
    auto apiOptions = api::apiOptionsFromParser(parser, &tokenSource);
    if (!apiOptions) {
        std::cerr << "error: " << apiOptions.error().message << "\n";
        return 2;
    }
    auto executor = executorOptions(parser);
    if (!executor) return 2;
    bool templateFailed = false;
    const auto chatTemplate = chatTemplateFile(parser, &templateFailed);  // checked before the window opens
    if (templateFailed) return 2;
    GuiOptions options;
    if (chatTemplate) options.chatTemplate = QString::fromStdString(chatTemplate->path);
    const QStringList urls = parser.values("connect"), tokens = parser.values("connect-token");
    if (tokens.size() > 1 && tokens.size() != urls.size()) {
        std::cerr << "error: give one --connect-token for all --connect servers, or one per --connect\n";
        return 2;
    }
    const QStringList cas = parser.values("connect-ca"), pins = parser.values("connect-fingerprint");
    for (const auto& [list, name] : {std::pair{&cas, "--connect-ca"}, std::pair{&pins, "--connect-fingerprint"}})
        if (list->size() > 1 && list->size() != urls.size()) {
            std::cerr << "error: give one " << name << " for all --connect servers, or one per --connect\n";
            return 2;
        }
    auto pick = [](const QStringList& values, int i) {
        return values.isEmpty() ? QString() : values.value(values.size() == 1 ? 0 : i);
    };
    for (int i = 0; i < urls.size(); ++i) {
        auto spec = remote::parseConnection(urls[i], pick(tokens, i));
        if (!spec) {
            std::cerr << "error: " << spec.error().message << "\n";
            return 2;
        }
        options.connections.append(spec.value());
        options.connectionTrust.append({pick(cas, i), pick(pins, i)});  // loaded by runGui
    }
    options.executor = *executor;
    options.traces = parser.values("trace");
    options.modelPath = parser.value("model");
    options.simulated = options.modelPath == "simulated";
    options.chatDatabase = parser.value("chat-db");
    options.port = int(apiOptions.value().port);
    if (!parser.isSet("no-api")) {
        api::ApiServerOptions serverOptions = apiOptions.value();
        auto httpOptions = api::httpOptionsFromParser(parser);
        if (!httpOptions) {
            std::cerr << "error: " << httpOptions.error().message << "\n";
            return 2;
        }
        const std::optional<api::HttpApiOptions> http = httpOptions.value();
        setApiServerStarter([serverOptions, http](EngineBridge& bridge, int port, ApiEndpoint& endpoint) -> std::unique_ptr<QObject> {
            api::ApiServerOptions o = serverOptions;
            if (port >= 0) o.port = quint16(port);
            auto server = std::make_unique<api::ApiServer>(bridge, o);
            QString error;
            if (!server->listen(&error)) {
                std::cerr << "warning: the WebSocket API did not start: " << error.toStdString() << "\n";
                return nullptr;
            }
            if (http) {  // a child of the WebSocket server: it closes with it
                auto* httpServer = new api::HttpApiServer(bridge, o, *http, server.get());
                if (httpServer->listen(&error)) {
                    std::cerr << "HTTP API on " << httpServer->url().toString().toStdString() << "\n";
                } else {
                    std::cerr << "warning: the HTTP API did not start: " << error.toStdString() << "\n";
                }
            }
            endpoint.url = server->url().toString();
            endpoint.token = o.token;
            return server;
        });
    }
    return runGui(argc, argv, options);
}

}  // namespace batchscope::app
