// `batchscope bench`: the scheduler on the simulated executor (default), the CPU model runtime
// (--shape/--model), or the WebSocket API path (--api).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app/api/api_load_bench.h"
#include "app/api/api_server.h"
#include "app/bridge/engine_bridge.h"
#include "app/cli/cli_common.h"
#include "app/cli/report_printer.h"
#include "engine/chat/chat_template_bench.h"
#include "engine/model/cpu/cpu_bench.h"
#include "engine/model/gguf_types.h"
#include "engine/model/model_quantizer.h"
#include "engine/runtime/scheduler_bench.h"

namespace batchscope::app {

namespace {

std::optional<engine::GgmlType> weightType(const QString& name) {
    for (auto t : {engine::GgmlType::F32, engine::GgmlType::F16, engine::GgmlType::BF16, engine::GgmlType::Q8_0,
                   engine::GgmlType::Q4_0})
        if (name.compare(QString::fromUtf8(engine::ggmlTypeName(t).data()), Qt::CaseInsensitive) == 0) return t;
    return std::nullopt;
}

int runModelBench(const QCommandLineParser& parser, int repetitions) {
    engine::cpu::CpuBenchOptions o;
    o.shape = parser.value("shape").toStdString();
    o.architecture = parser.value("arch").toStdString();
    o.modelPath = parser.value("model").toStdString();
    const QString typeName = parser.value("type");
    auto type = weightType(typeName);
    if (type) {
        o.weightType = *type;  // every matrix in this type
    } else if (engine::quantPresetFromName(typeName.toStdString())) {
        o.preset = typeName.toUpper().toStdString();  // Q4_K_M etc.: F16 random model, then quantised
    } else {
        std::cerr << "error: --type must be F32, F16, BF16 or a quantisation preset (" << engine::quantPresetList() << ")\n";
        return 2;
    }
    auto threads = positiveInt(parser, "threads", 1, 1024);
    if (!threads) return 2;
    o.threads = int(*threads);
    auto kv = kvCacheType(parser);
    if (!kv) return 2;
    o.kvCache = *kv;
    o.repeats = repetitions;
    o.concurrency.clear();
    for (const QString& n : parser.value("concurrency").split(',')) {
        bool ok = false;
        const int v = n.trimmed().toInt(&ok);
        if (!ok || v < 1 || v > 4096) {
            std::cerr << "error: --concurrency takes a comma-separated list of 1..4096\n";
            return 2;
        }
        o.concurrency.push_back(v);
    }
    auto results = engine::cpu::runCpuBench(o, [](const std::string& line) { std::cerr << line << "\n"; });
    if (!results) {
        std::cerr << "error: " << results.error().message << "\n";
        return 1;
    }
    std::cout << engine::cpu::formatCpuBenchTable(results.value());
    return 0;
}

int runApiBench(int argc, char** argv, const QCommandLineParser& parser) {
    auto clients = parser.isSet("clients") ? positiveInt(parser, "clients", 1, 500) : std::optional<long long>(50);
    if (!clients) return 2;
    QCoreApplication app(argc, argv);
    auto eng = simulatedLoadEngine();
    if (!eng) return 1;
    EngineBridge bridge;
    bridge.setEngine(std::move(eng));
    api::ApiServerOptions so;
    so.token = "bench-token";
    so.maxRequestsTotal = 4096;
    so.ratePerSecond = 1e6;
    so.burst = 1e6;
    api::ApiServer server(bridge, so);
    QString error;
    if (!server.listen(&error)) {
        std::cerr << "error: " << error.toStdString() << "\n";
        return 1;
    }
    api::ApiLoadBenchConfig bc;
    bc.clients = int(*clients);
    const auto r = api::runApiLoadBench(server.url(), so.token, bc);
    if (!r.error.isEmpty()) {
        std::cerr << "error: " << r.error.toStdString() << "\n";
        return 1;
    }
    std::printf("API load: %d clients, %d requests (%d completed, %d failed) in %.2f s: %.1f requests/s, %.0f tokens/s\n",
                r.clients, r.requests, r.completed, r.failed, r.wallSeconds, r.requestsPerSecond, r.tokensPerSecond);
    std::printf("time to first token over the socket p50 %.2f / p99 %.2f ms; inside the engine p50 %.2f / p99 %.2f ms\n",
                r.socketTtftMs.p50, r.socketTtftMs.p99, r.engineTtftMs.p50, r.engineTtftMs.p99);
    std::printf("added by the API path: p50 %.2f ms, p99 %.2f ms\n", r.addedTtftMs.p50, r.addedTtftMs.p99);
    return r.failed == 0 ? 0 : 1;
}

int runChatTemplateBenchCommand(int runs) {
    std::fprintf(stderr, "rendering a 50-turn conversation, %d runs of 50 renders per template...\n", runs);
    const auto r = engine::runChatTemplateBench(runs);
    std::printf("chat template render, %d turns (median of %d runs; baseline: hand-written ChatML %.2f us)\n",
                r.turns, r.runs, r.baselineUs);
    std::printf("%-48s %10s %10s %9s %8s\n", "template", "render us", "parse us", "vs base", "bytes");
    for (const auto& row : r.rows) {
        if (!row.error.empty()) {
            std::printf("%-48s %s\n", row.name.c_str(), ("error: " + row.error).c_str());
            continue;
        }
        std::printf("%-48s %10.1f %10.1f %8.1fx %8zu\n", row.name.c_str(), row.medianRenderUs, row.parseUs,
                    r.baselineUs > 0 ? row.medianRenderUs / r.baselineUs : 0.0, row.promptBytes);
    }
    return 0;
}

}  // namespace

int runBench(int argc, char** argv, const QStringList& args) {
    QCommandLineParser parser;
    parser.addOptions({
        {"json", "Scheduler benchmark: print the results as JSON."},
        {"quick", "Scheduler benchmark: smaller workloads (a smoke run)."},
        {"metrics-load", "Scheduler benchmark: only the metrics-under-load comparison (idle vs 1,000,000 finished "
                         "and 10,000 queued requests)."},
        {"repetitions", "Runs per scenario; medians are reported (default 3).", "n", "3"},
        {"max-batch-size", "Max batch size of the continuous/static comparison (default 32).", "n", "32"},
        {"shape", "Model benchmark on a random-weight model: tiny, small, medium or tinyllama.", "shape"},
        {"model", "Model benchmark on a GGUF file.", "file"},
        {"type", "Weight type of the random model: F32, F16, BF16, Q8_0, Q4_0 (every matrix), or another quantisation "
                 "preset (Q4_K_M, Q6_K, ...: the F16 model quantised as `batchscope quantize` does); default F32.", "type", "F32"},
        {"arch", "Architecture of the random model: llama, llama3, qwen2, qwen3, phi3, gemma2, gemma3 (default llama).",
         "name", "llama"},
        {"concurrency", "Concurrent sequences of the model benchmark (default 1,4,16,32).", "list", "1,4,16,32"},
        {"threads", "CPU threads of the model benchmark (default 2).", "n", "2"},
        {"api", "WebSocket API benchmark: concurrent clients against an in-process server."},
        {"http", "HTTP API benchmark: concurrent streaming clients of /v1/completions vs the WebSocket API, same "
                 "process (default 100 clients; --repetitions rounds, medians)."},
        {"gui", "Engine throughput with the desktop window attached vs headless."},
        {"clients", "Clients of the API benchmark (default 50; --http: 100).", "n"},
        {"chat-template", "Chat template benchmark: render a 50-turn conversation with each template."},
        {"record", "Scheduler benchmark: record its first continuous-batching run into this trace; with "
                   "--replay-fidelity: keep the recorded trace here.", "file"},
        {"record-overhead", "Recording overhead: the scheduler workloads with and without a trace being recorded."},
        {"replay-speed", "Replay speed: replay --requests synthetic requests (default 500; try 100000) on virtual time."},
        {"replay-fidelity", "Replay fidelity: record --requests requests with Poisson arrivals at --rate/s on the "
                            "model (--model FILE, default the demo model, or a random --shape), replay it unchanged "
                            "and print the errors."},
        {"playback-scrub", "Playback scrubbing: record a replay of --requests synthetic requests (try 100000; "
                           "--record FILE keeps the trace, or reuses it if it exists), open it for playback and time seeks to random times."},
        {"requests", "Requests of --replay-speed / --replay-fidelity / --playback-scrub (default 500).", "n", "500"},
        {"rate", "Poisson arrival rate of --replay-fidelity, requests per second (default 10).", "r", "10"},
    });
    parser.addOption(kvTypeOption());  // model benchmark
    if (int rc = parseOrExit(parser, args, "Benchmarks: scheduler (default), model (--shape/--model), API (--api, --http)."); rc >= 0)
        return rc;
    auto reps = positiveInt(parser, "repetitions", 1, 100);
    auto batch = positiveInt(parser, "max-batch-size", 1, 4096);
    if (!reps || !batch) return 2;
    if (parser.isSet("record-overhead") || parser.isSet("replay-speed") || parser.isSet("replay-fidelity") ||
        parser.isSet("playback-scrub"))
        return runReplayBench(parser, int(*reps));
    if (parser.isSet("shape") || parser.isSet("model")) return runModelBench(parser, int(*reps));
    if (parser.isSet("api")) return runApiBench(argc, argv, parser);
    if (parser.isSet("http")) {
        auto clients = parser.isSet("clients") ? positiveInt(parser, "clients", 1, 500) : std::optional<long long>(100);
        if (!clients) return 2;
        return runHttpBench(argc, argv, int(*clients), int(*reps));
    }
    if (parser.isSet("gui")) return runGuiBench(argc, argv, int(*reps));
    if (parser.isSet("chat-template")) return runChatTemplateBenchCommand(std::max(int(*reps), 9));
    engine::SchedulerBenchOptions options;
    options.repetitions = std::int32_t(*reps);
    options.maxBatchSize = std::int32_t(*batch);
    options.quick = parser.isSet("quick");
    options.recordPath = parser.value("record").toStdString();
    if (parser.isSet("metrics-load")) {
        engine::MetricsLoadOptions m;
        m.repetitions = std::max(5, options.repetitions);
        if (options.quick) {
            m.finished = 100000;
            m.queued = 1000;
            m.steps = 500;
        }
        std::fprintf(stderr, "running the metrics-load benchmark (%d repetitions)...\n", m.repetitions);
        engine::SchedulerBenchReport report;
        report.metricsLoad = engine::runMetricsLoadBench(m);
        if (parser.isSet("json")) std::cout << schedulerBenchJson(report);
        else printMetricsLoad(report.metricsLoad);
        return 0;
    }
    std::fprintf(stderr, "running scheduler benchmarks (%d repetitions each)...\n", options.repetitions);
    const auto report = engine::runSchedulerBench(options);
    if (parser.isSet("json")) std::cout << schedulerBenchJson(report);
    else printSchedulerBench(report);
    return 0;
}

}  // namespace batchscope::app
