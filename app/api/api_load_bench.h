// API load mode for the bench: N concurrent WebSocket clients against a running ApiServer;
// throughput and the latency the API path adds on top of the engine's.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>
#include <QUrl>

#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::app::api {

struct ApiLoadBenchConfig {
    int clients = 50;             ///< concurrent connections
    int requestsPerClient = 4;    ///< each client sends its requests one after another
    int maxTokens = 32;
    bool ignoreEos = true;        ///< fixed-length generations
    QString prompt = QStringLiteral("The quick brown fox jumps over the lazy dog.");
    int timeoutMs = 300000;       ///< whole run
};

/// Latencies in milliseconds. Measured on the client side with a monotonic clock.
struct ApiLoadBenchResult {
    int clients = 0;
    int requests = 0;             ///< sent
    int completed = 0;            ///< `done` received (any finish reason except error)
    int failed = 0;               ///< error replies, failed generations, lost connections
    /// From the first request sent (after every client connected) to the last answered.
    double wallSeconds = 0;
    double requestsPerSecond = 0; ///< completed / wall time
    double tokensPerSecond = 0;   ///< completion tokens / wall time
    engine::LatencySummary socketTtftMs;  ///< `generate` sent -> first `token` frame received
    engine::LatencySummary engineTtftMs;  ///< the engine's own TTFT (done.timings.ttft_ms)
    /// Per request: socket TTFT - engine TTFT, i.e. what the API path adds (parse, submit,
    /// bridge hand-off, encoding, WebSocket I/O, client side).
    engine::LatencySummary addedTtftMs;
    engine::LatencySummary socketEndToEndMs;  ///< sent -> `done` received
    QString error;                ///< non-empty when the run could not complete
};

/// Runs the load with one client thread per connection (QWebSocket, its own event loop), as
/// the HTTP bench does: every client connects first and the requests start when all are
/// connected (LoadStartLine). The calling thread spins its event loop meanwhile (the server
/// may live on it) until every client is done or the timeout passes.
ApiLoadBenchResult runApiLoadBench(const QUrl& url, const QString& token, const ApiLoadBenchConfig& config);

}  // namespace batchscope::app::api
