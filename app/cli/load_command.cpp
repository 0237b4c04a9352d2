// `batchscope load`: drive a running `batchscope serve` over the WebSocket API with a trace's
// arrivals and lengths, and print what the client saw.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <cstdio>
#include <iostream>

#include "app/api/access_token.h"
#include "app/api/api_options.h"
#include "app/api/trace_load_driver.h"
#include "app/cli/cli_common.h"
#include "app/cli/workload_cli.h"

namespace batchscope::app {

namespace {

void printLatency(const char* name, const engine::LatencySummary& s) {
    std::printf("%-24s p50 %9.2f  p99 %9.2f  max %9.2f  (%lld requests)\n", name, s.p50, s.p99, s.max,
                static_cast<long long>(s.count));
}

void printResult(const api::TraceLoadResult& r, double speed) {
    std::printf("sent %d of %d, finished %d, cancelled %d, failed %d", r.sent, r.requests, r.finished, r.cancelled, r.failed);
    QStringList parts;
    for (auto it = r.failures.begin(); it != r.failures.end(); ++it) parts << QStringLiteral("%1 %2").arg(it.key()).arg(it.value());
    if (!parts.isEmpty()) std::printf(" (%s)", qPrintable(parts.join(", ")));
    std::printf("\nprompts: %d of %d exactly the trace's length in tokens (words %s); %d capped to the context of %d tokens\n",
                r.promptExact, r.promptChecked, qPrintable(r.wordSet), r.capped, r.contextLength);
    std::printf("schedule %.2f s at %gx; wall %.2f s; achieved %.2f requests/s sent; %.0f output tokens/s\n",
                r.scheduleSeconds, speed, r.wallSeconds, r.achievedRate, r.outputTokensPerSecond);
    std::printf("latency in ms, client side, from each request's send:\n");
    printLatency("time to first token", r.ttftMs);
    printLatency("end to end", r.endToEndMs);
    printLatency("send lag (vs schedule)", r.sendLagMs);
    printLatency("TTFT from the schedule", r.ttftFromArrivalMs);
}

}  // namespace

int runLoad(int argc, char** argv, const QStringList& args) {
    QCommandLineParser parser;
    parser.addOptions({
        {"trace", "Workload: Azure LLM inference CSV, BurstGPT CSV or a workload CSV.", "file"},
        {"format", "auto (from the header), azure, burstgpt or csv (default auto).", "name", "auto"},
        {"speed", "Time scale of the arrivals: 2x plays them twice as fast (default 1x).", "factor", "1x"},
        {"url", "The server (default ws://127.0.0.1:8765).", "url", QStringLiteral("ws://127.0.0.1:%1").arg(api::kDefaultApiPort)},
        {"token", "API access token (default: $BATCHSCOPE_API_TOKEN, else the token file).", "token"},
        {"limit", "Send only the first N requests of the trace (default all).", "n", "0"},
        {"connections", "WebSocket connections to spread the requests over (default 8).", "n", "8"},
        {"no-cap", "Send lengths beyond the model's context as they are (default: cap them, counted)."},
        {"timeout", "Give up after this many seconds (default: the schedule + 300).", "s", "0"},
    });
    if (int rc = parseOrExit(parser, args, "Drive a running `batchscope serve` with a trace's arrivals and lengths."); rc >= 0)
        return rc;
    if (!parser.isSet("trace")) {
        std::cerr << "error: --trace FILE is required\n";
        return 2;
    }
    const auto speed = parseSpeed(parser.value("speed"));
    if (!speed) {
        std::cerr << "error: --speed must be a factor > 0 like 2x or 0.5 (got '" << parser.value("speed").toStdString() << "')\n";
        return 2;
    }
    auto limit = positiveInt(parser, "limit", 0, 1LL << 40);
    auto connections = positiveInt(parser, "connections", 1, 256);
    auto timeout = positiveInt(parser, "timeout", 0, 1LL << 31);
    if (!limit || !connections || !timeout) return 2;
    const QUrl url(parser.value("url"));
    if (!url.isValid() || (url.scheme() != "ws" && url.scheme() != "wss")) {
        std::cerr << "error: --url must be a ws:// address (got '" << parser.value("url").toStdString() << "')\n";
        return 2;
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName("batchscope");  // the token file's directory
    auto token = api::AccessToken::resolve(parser.value("token"));
    if (!token) {
        std::cerr << "error: " << token.error().message << "\n";
        return 2;
    }
    auto trace = readWorkload(parser.value("trace"), parser.value("format"), *limit);
    if (!trace) return 2;
    std::printf("workload (%s): %s", engine::traceFormatName(trace->format), describeWorkload(trace->requests).c_str());
    std::fflush(stdout);
    api::TraceLoadConfig config;
    config.speed = *speed;
    config.connections = int(*connections);
    config.capToContext = !parser.isSet("no-cap");
    config.timeoutSeconds = double(*timeout);
    const auto result = api::runTraceLoad(url, token.value().token, trace->requests, config);
    if (result.sent == 0 && !result.error.isEmpty()) {
        std::cerr << "error: " << result.error.toStdString() << "\n";
        return 1;
    }
    printResult(result, *speed);
    if (!result.error.isEmpty()) std::cerr << "error: " << result.error.toStdString() << "\n";
    return result.failed == 0 && result.error.isEmpty() ? 0 : 1;
}

}  // namespace batchscope::app
