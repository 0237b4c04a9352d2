// `batchscope bench --http`: N concurrent streaming clients of the OpenAI-compatible HTTP API
// against the simulated engine, and the WebSocket API's load bench (the baseline) against the
// same engine in the same process; rounds alternate the order, medians are reported.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

#include "app/api/api_load_bench.h"
#include "app/api/api_server.h"
#include "app/api/http_api_server.h"
#include "app/api/http_load_bench.h"
#include "app/bridge/engine_bridge.h"
#include "app/cli/cli_common.h"
#include "engine/runtime/executor_factory.h"

namespace batchscope::app {

namespace {

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void printRun(const char* path, const api::ApiLoadBenchResult& r) {
    std::printf("  %-9s %5d/%-5d ok  %8.0f tokens/s  TTFT client p50 %7.2f p99 %7.2f ms, engine p99 %7.2f ms, "
                "added p50 %6.2f p99 %6.2f ms\n",
                path, r.completed, r.requests, r.tokensPerSecond, r.socketTtftMs.p50, r.socketTtftMs.p99,
                r.engineTtftMs.p99, r.addedTtftMs.p50, r.addedTtftMs.p99);
}

}  // namespace

int runHttpBench(int argc, char** argv, int clients, int rounds) {
    QCoreApplication app(argc, argv);
    auto eng = simulatedLoadEngine();
    if (!eng) return 1;
    EngineBridge bridge;
    bridge.setEngine(std::move(eng));
    api::ApiServerOptions so;
    so.token = "bench-token-0123456789abcdef";
    so.maxRequestsTotal = 4096;
    so.ratePerSecond = 1e6;
    so.burst = 1e6;
    api::ApiServer ws(bridge, so);
    api::HttpApiOptions ho;
    ho.maxConcurrentStreams = clients;
    ho.ratePerSecond = 1e6;
    ho.burst = 1e6;
    api::HttpApiServer http(bridge, so, ho);
    QString error;
    if (!ws.listen(&error) || !http.listen(&error)) {
        std::cerr << "error: " << error.toStdString() << "\n";
        return 1;
    }
    api::ApiLoadBenchConfig bc;
    bc.clients = clients;
    std::printf("HTTP API vs WebSocket API: %d concurrent streaming clients, %d requests each of %d tokens "
                "(ignore_eos), simulated executor (2 ms + 20 us/token + 50 us/sequence per step), %d rounds\n",
                bc.clients, bc.requestsPerClient, bc.maxTokens, rounds);
    std::vector<double> throughputRatio, httpAddedP99, wsAddedP99, httpAddedP50, engineP99, httpTps, wsTps;
    int failures = 0;
    for (int round = 0; round < rounds; ++round) {
        api::ApiLoadBenchResult h, w;
        const bool httpFirst = round % 2 == 0;  // alternate: neither path always meets a warm engine
        auto runHttp = [&] {
            // The previous run's server threads release their slots just after their clients
            // saw the end of the stream; a new run starts from none in flight.
            while (http.activeGenerations() > 0) QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
            return api::runHttpLoadBench(http.url(), so.token, bc, bridge);
        };
        if (httpFirst) h = runHttp();
        w = api::runApiLoadBench(ws.url(), so.token, bc);
        if (!httpFirst) h = runHttp();
        std::printf("round %d (%s first)\n", round + 1, httpFirst ? "HTTP" : "WebSocket");
        printRun("HTTP", h);
        printRun("WebSocket", w);
        if (!h.error.isEmpty() || !w.error.isEmpty())
            std::printf("  error: %s %s\n", qPrintable(h.error), qPrintable(w.error));
        failures += h.failed + w.failed;
        throughputRatio.push_back(w.tokensPerSecond > 0 ? h.tokensPerSecond / w.tokensPerSecond : 0);
        httpAddedP99.push_back(h.addedTtftMs.p99);
        httpAddedP50.push_back(h.addedTtftMs.p50);
        wsAddedP99.push_back(w.addedTtftMs.p99);
        engineP99.push_back(h.engineTtftMs.p99);
        httpTps.push_back(h.tokensPerSecond);
        wsTps.push_back(w.tokensPerSecond);
    }
    std::printf("median of %d rounds:\n", rounds);
    std::printf("  throughput HTTP %.0f tokens/s, WebSocket %.0f tokens/s: HTTP/WebSocket = %.3f\n", median(httpTps),
                median(wsTps), median(throughputRatio));
    std::printf("  TTFT added over the engine's own (engine p99 %.2f ms): HTTP p50 %.2f ms, p99 %.2f ms; "
                "WebSocket p99 %.2f ms\n",
                median(engineP99), median(httpAddedP50), median(httpAddedP99), median(wsAddedP99));
    if (failures) std::printf("  %d requests failed\n", failures);
    http.close();
    return failures == 0 ? 0 : 1;
}

}  // namespace batchscope::app
