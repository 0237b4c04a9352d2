// `batchscope quantize IN.gguf OUT.gguf TYPE`: writes a quantised copy of a model
// (engine::quantizeModelFile; presets and rules in docs/quantize.md).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <stop_token>
#include <thread>

#include "app/cli/cli_common.h"
#include "engine/model/model_quantizer.h"

namespace batchscope::app {

namespace {

// Ctrl+C asks the quantiser to stop; the engine then removes its partial file. A flag polled
// by a watcher thread: nothing but an atomic store happens in the signal handler.
std::atomic<bool> g_interrupted{false};
extern "C" void onInterrupt(int) { g_interrupted.store(true); }

std::string megabytes(std::uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / 1e6);
    return buf;
}

}  // namespace

int runQuantize(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("input", "F32, F16 or BF16 GGUF model.");
    parser.addPositionalArgument("output", "GGUF file to write (replaced only when quantisation succeeds).");
    parser.addPositionalArgument("type", QString::fromStdString("One of " + engine::quantPresetList() + "."));
    parser.addOptions({{"threads", "Threads (default: all cores).", "n", "0"}});
    if (int rc = parseOrExit(parser, args, "Write a quantised copy of a GGUF model: batchscope quantize IN.gguf OUT.gguf TYPE.", 3);
        rc >= 0)
        return rc;
    const QStringList pos = parser.positionalArguments();
    const auto preset = engine::quantPresetFromName(pos[2].toStdString());
    if (!preset) {
        std::cerr << "error: unknown quantisation type '" << pos[2].toStdString() << "' (one of "
                  << engine::quantPresetList() << ")\n";
        return 2;
    }
    auto threads = positiveInt(parser, "threads", 0, 1024);
    if (!threads) return 2;
    std::stop_source stop;
    std::signal(SIGINT, onInterrupt);
    std::jthread watcher([&stop](std::stop_token done) {
        while (!done.stop_requested() && !g_interrupted.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (g_interrupted.load()) stop.request_stop();
    });
    engine::QuantizeOptions options;
    options.stop = stop.get_token();
    options.threads = static_cast<int>(*threads);
    options.progress = [](const engine::QuantizeProgress& p) {
        const double pct = p.bytesTotal ? 100.0 * static_cast<double>(p.bytesRead) / static_cast<double>(p.bytesTotal) : 100.0;
        std::fprintf(stderr, "\rquantising: %3.0f%% (%zu/%zu tensors) %-40.40s", pct, p.tensorsDone, p.tensorCount,
                     p.tensor.c_str());
        std::fflush(stderr);
    };
    const auto result = engine::quantizeModelFile(pos[0].toStdString(), pos[1].toStdString(), *preset, options);
    watcher.request_stop();
    std::signal(SIGINT, SIG_DFL);
    std::fputc('\n', stderr);
    if (!result) {
        std::cerr << "error: " << result.error().message << "\n";
        return result.error().code == engine::ErrorCode::Cancelled ? 130 : 1;
    }
    engine::ModelInfo mix;
    mix.tensorTypeCounts = result->typeCounts;
    mix.fileType = std::string(engine::quantPresetName(*preset));
    std::cout << pos[1].toStdString() << ": " << engine::tensorTypeMixText(mix) << " (" << megabytes(result->inputBytes)
              << " -> " << megabytes(result->outputBytes) << ")\n";
    return 0;
}

}  // namespace batchscope::app
