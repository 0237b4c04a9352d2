// `batchscope generate`: one prompt, streamed to stdout, a summary line on stderr.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <cmath>
#include <cstdio>
#include <future>
#include <iostream>

#include "app/cli/cli_common.h"
#include "engine/model/model_quantizer.h"
#include "engine/scheduling/scheduler_client.h"

namespace batchscope::app {

int runGenerate(const QStringList& args) {
    QCommandLineParser parser;
    addEngineOptions(parser);
    parser.addOptions({
        {"prompt", "The prompt text (required).", "text"},
        {"max-tokens", "Tokens to generate at most (default 64).", "n", "64"},
        {"temperature", "Sampling temperature; 0 = greedy (default 0).", "t", "0"},
        {"top-p", "Nucleus sampling mass (default 0.95).", "p", "0.95"},
        {"seed", "Random seed (default 0).", "n", "0"},
        {"stop", "A stop string (repeatable).", "text"},
    });
    if (int rc = parseOrExit(parser, args, "Run one prompt and print the completion."); rc >= 0) return rc;
    if (!parser.isSet("prompt") || parser.value("prompt").isEmpty()) {
        std::cerr << "error: --prompt is required and must not be empty\n";
        return 2;
    }
    auto maxTokens = positiveInt(parser, "max-tokens", 1, 1 << 20);
    auto seed = positiveInt(parser, "seed", 0, (1LL << 62));
    bool okT = false, okP = false;
    const double temperature = parser.value("temperature").toDouble(&okT);
    const double topP = parser.value("top-p").toDouble(&okP);
    if (!maxTokens || !seed) return 2;
    if (!okT || !std::isfinite(temperature) || temperature < 0 || temperature > 100) {
        std::cerr << "error: --temperature must be a number in [0, 100]\n";
        return 2;
    }
    if (!okP || !(topP > 0 && topP <= 1)) {
        std::cerr << "error: --top-p must be in (0, 1]\n";
        return 2;
    }
    auto engine = buildEngine(parser);
    if (!engine) return 1;
    engine::GenerationOptions options;
    options.maxTokens = std::int32_t(*maxTokens);
    options.sampling.temperature = float(temperature);
    options.sampling.topP = float(topP);
    options.sampling.seed = std::uint64_t(*seed);
    for (const QString& s : parser.values("stop")) options.stopStrings.push_back(s.toStdString());
    std::promise<engine::GenerationResult> done;
    engine::RequestCallbacks callbacks;
    callbacks.onToken = [](const engine::TokenEvent& ev) {
        std::fwrite(ev.textDelta.data(), 1, ev.textDelta.size(), stdout);
        std::fflush(stdout);
    };
    callbacks.onFinished = [&done](const engine::GenerationResult& r) { done.set_value(r); };
    auto id = engine->submit(parser.value("prompt").toStdString(), options, std::move(callbacks));
    if (!id) {
        std::cerr << "error: " << id.error().message << "\n";
        return 1;
    }
    engine->start();
    const engine::GenerationResult r = done.get_future().get();
    engine->stop();
    std::fputc('\n', stdout);
    std::fprintf(stderr, "[%d prompt tokens, %d generated, %.1f tokens/s, time to first token %.1f ms, finish: %s]\n",
                 r.usage.promptTokens, r.usage.completionTokens, r.timings.tokensPerSecond,
                 r.timings.timeToFirstTokenMs, std::string(engine::finishReasonName(r.finishReason)).c_str());
    if (const std::string mix = engine::tensorTypeMixText(engine->modelInfo()); !mix.empty())
        std::fprintf(stderr, "[weights: %s]\n", mix.c_str());
    if (r.finishReason == engine::FinishReason::Error) {
        std::cerr << "error: " << r.errorMessage << "\n";
        return 1;
    }
    return 0;
}

}  // namespace batchscope::app
