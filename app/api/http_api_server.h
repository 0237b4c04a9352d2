// The OpenAI-compatible HTTP API (/v1/models, /v1/completions, /v1/chat/completions, /health,
// /metrics), served by cpp-httplib next to the WebSocket API with the same token, Host and
// Origin rules.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QObject>
#include <QUrl>
#include <memory>

#include "app/api/api_server.h"
#include "app/bridge/engine_bridge.h"

namespace batchscope::app::api {

/// Limits of the HTTP API (documented in docs/http-api.md).
struct HttpApiOptions {
    quint16 port = 0;                 ///< 0 picks a free port (see port())
    qint64 maxBodyBytes = 1 << 20;    ///< larger request bodies get 413
    int maxConcurrentStreams = 64;    ///< generations in flight over HTTP; more get 429
    double ratePerSecond = 20;        ///< requests per second per client address (token bucket)
    double burst = 40;                ///< bucket size
    int readTimeoutMs = 10000;        ///< a request (head or body) slower than this is dropped (408)
    int keepAliveMs = 250;            ///< SSE comment / JSON whitespace while a generation is silent
};

class PrometheusMetrics;

/// Lives on the GUI/main thread (model changes, finish signals for the metrics). Each HTTP
/// generation gets its tokens and result from the engine thread through a bridge tap into a
/// per-request queue (mutex + condition variable) that its handler waits on. HTTP handlers run on cpp-httplib's worker threads; they call only the bridge's
/// thread-safe submit/cancel and never wait for the main thread, so closing cannot deadlock.
class HttpApiServer : public QObject {
    Q_OBJECT
public:
    /// `api` supplies the listen host, token, allowed origins and hosts (shared with the
    /// WebSocket API).
    HttpApiServer(EngineBridge& bridge, ApiServerOptions api, HttpApiOptions http, QObject* parent = nullptr);
    ~HttpApiServer() override;  ///< closes; in-flight generations are cancelled

    bool listen(QString* error = nullptr);
    void close();
    bool isListening() const;
    quint16 port() const;
    QUrl url() const;  ///< http://host:port/
    /// Generations in flight over HTTP (tests: 0 after a client disconnects).
    int activeGenerations() const;

    struct Impl;

private:
    void onFinished(const engine::GenerationResult& result);
    void onModelChanged();

    std::unique_ptr<Impl> m_impl;
};

}  // namespace batchscope::app::api
