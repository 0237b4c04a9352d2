// `batchscope demo`: serves a handful of mixed requests through the scheduler and prints each
// result and the metrics summary — a quick end-to-end look without a window.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <cstdio>
#include <future>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/report_printer.h"
#include "engine/scheduling/scheduler_client.h"

namespace batchscope::app {

int runDemo(const QStringList& args) {
    QCommandLineParser parser;
    addEngineOptions(parser);
    parser.addOption({"requests", "Requests to serve (default 12).", "n", "12"});
    if (int rc = parseOrExit(parser, args, "Serve a few generated requests and print the results."); rc >= 0) return rc;
    auto count = positiveInt(parser, "requests", 1, 100000);
    if (!count) return 2;
    auto engine = buildEngine(parser);
    if (!engine) return 1;
    const char* prompts[] = {"The capital of France is", "Once upon a time", "The sky is", "Water is made of",
                             "The capital of Japan is", "My favourite colour is"};
    std::vector<std::future<engine::GenerationResult>> futures;
    for (long long i = 0; i < *count; ++i) {
        engine::GenerationOptions o;
        o.maxTokens = 8 + std::int32_t(i % 4) * 8;
        o.priority = static_cast<engine::Priority>(i % 4);
        o.sampling.temperature = 0;
        futures.push_back(engine->client().generate(prompts[i % 6], o));
    }
    std::printf("model: %s (%s)\n", engine->modelInfo().name.c_str(), engine->modelInfo().backend.c_str());
    engine->start();
    std::printf("%-4s %-9s %-28s %6s %6s %9s %9s  %s\n", "id", "priority", "prompt", "tokens", "reason", "ttft ms",
                "total ms", "text");
    for (long long i = 0; i < *count; ++i) {
        engine::GenerationResult r;
        try {
            r = futures[std::size_t(i)].get();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "request %lld refused: %s\n", i, e.what());
            continue;
        }
        std::string text = r.text.substr(0, 60);
        for (char& c : text) if (c == '\n') c = ' ';
        std::printf("%-4llu %-9s %-28s %6d %6s %9.1f %9.1f  %s\n", (unsigned long long)r.id,
                    std::string(engine::priorityName(static_cast<engine::Priority>(i % 4))).c_str(),
                    prompts[i % 6], r.usage.completionTokens,
                    std::string(engine::finishReasonName(r.finishReason)).substr(0, 6).c_str(),
                    r.timings.timeToFirstTokenMs, r.timings.totalMs, text.c_str());
    }
    engine->stop();
    printMetricsSummary(engine->snapshot());
    return 0;
}

}  // namespace batchscope::app
