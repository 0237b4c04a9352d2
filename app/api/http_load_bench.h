// HTTP load mode for the bench: N concurrent streaming clients of the OpenAI-compatible HTTP
// API (POST /v1/completions, "stream": true), measured like the WebSocket load bench.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QUrl>

#include "app/api/api_load_bench.h"
#include "app/bridge/engine_bridge.h"

namespace batchscope::app::api {

/// Runs the load with one client thread per connection (cpp-httplib's client, keep-alive, the
/// connection opened with an untimed GET /health; the requests, one after another, start when
/// every client is connected: LoadStartLine), while the calling thread spins its event loop:
/// the HTTP server and the bridge may live on it. The engine's own TTFT of each request comes from the bridge's
/// requestFinished signal (the server must serve this bridge's engine); each request's id is
/// read from its first chunk ("cmpl-N").
ApiLoadBenchResult runHttpLoadBench(const QUrl& url, const QString& token, const ApiLoadBenchConfig& config,
                                    EngineBridge& bridge);

}  // namespace batchscope::app::api
