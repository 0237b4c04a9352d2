// `batchscope bench --record-overhead | --replay-speed | --replay-fidelity | --playback-scrub`:
// what recording costs, how fast a replay runs, how faithfully it reproduces a recorded run,
// how fast the app's playback scrubs a large trace.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <chrono>
#include <random>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include "app/cli/cli_common.h"
#include "engine/model/cpu/random_llama_gguf.h"
#include "engine/model/gguf_types.h"
#include "engine/runtime/scheduler_bench.h"
#include "engine/trace/replay_bench.h"
#include "engine/trace/trace_playback.h"

namespace batchscope::app {

namespace {

std::string tempTrace(const char* name) {
    return (std::filesystem::temp_directory_path() / ("batchscope_" + std::to_string(::getpid()) + "_" + name)).string();
}

void removeTrace(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

int recordOverhead(int reps, bool quick) {
    const std::string path = tempTrace("overhead.sqlite");
    std::fprintf(stderr, "recording overhead: %d interleaved repetitions of each workload...\n", reps);
    const auto r = engine::runRecordingOverheadBench(reps, quick, path);
    removeTrace(path);
    std::printf("recording overhead (median of %d; ratio = recorded / plain generated tokens/s)\n", r.repetitions);
    std::printf("  mixed workload (1 ms steps):   plain %.0f tok/s, recorded %.0f tok/s, ratio %.4f (%+.2f %%)\n",
                r.mixedPlain.generatedTokensPerSecond, r.mixedRecorded.generatedTokensPerSecond, r.mixedRatio,
                100.0 * (r.mixedRatio - 1));
    std::printf("  zero-cost decode (256 seqs):   plain %.0f tok/s, recorded %.0f tok/s, ratio %.4f (%+.2f %%)\n",
                r.decodePlain.generatedTokensPerSecond, r.decodeRecorded.generatedTokensPerSecond, r.decodeRatio,
                100.0 * (r.decodeRatio - 1));
    return 0;
}

/// The synthetic load of --replay-speed and --playback-scrub: `requests` Poisson arrivals at
/// 15/s (below the modelled capacity of ~20/s, so the queue stays bounded), outputs up to 256
/// tokens, on a 32-sequence, 512-token-budget, 4,096-block setup with a fixed step-cost model.
struct SyntheticReplay {
    engine::ReplayWorkload workload;
    engine::RecordedSetup setup;
    engine::StepCostModel cost{{5.0, 0.05, 0.4, 0.02, 1e-5}};
};

SyntheticReplay syntheticReplay(long long requests) {
    engine::SyntheticWorkloadOptions o;
    o.requests = std::int32_t(requests);
    o.ratePerSecond = 15;
    o.maxOutput = 256;
    SyntheticReplay r;
    r.workload.requests = engine::syntheticWorkload(o);
    r.setup.settings.maxBatchSize = 32;
    r.setup.settings.tokenBudget = 512;
    r.setup.numKvBlocks = 4096;
    r.setup.maxSequenceLength = 4096;
    return r;
}

int replaySpeed(long long requests) {
    const SyntheticReplay in = syntheticReplay(requests);
    const auto& [w, setup, cost] = in;
    std::fprintf(stderr, "replaying %lld synthetic requests on virtual time...\n", requests);
    auto r = engine::replayWorkload(w, cost, setup);
    if (!r) {
        std::cerr << "error: " << r.error().message << "\n";
        return 1;
    }
    std::printf("replay speed: %lld requests (%lld generated tokens, %lld steps, %.0f s of virtual time) replayed "
                "in %.2f s wall (%.0f requests/s)\n",
                requests, static_cast<long long>(r->summary.generatedTokens), static_cast<long long>(r->summary.steps),
                r->summary.durationSeconds, r->wallSeconds, double(requests) / r->wallSeconds);
    return 0;
}

/// Records a replay of `requests` synthetic requests as a trace (kept at `keep` if given), opens
/// it for playback and times what the app's scrubbing does: open + index, and rebuilds at
/// random times (a snapshot with the table's history and the charts' minute of samples).
int playbackScrub(long long requests, const std::string& keep) {
    const SyntheticReplay in = syntheticReplay(requests);
    const auto& [w, setup, cost] = in;
    const std::string path = keep.empty() ? tempTrace("scrub.sqlite") : keep;
    if (!keep.empty() && std::filesystem::exists(keep)) {
        std::fprintf(stderr, "using the trace already in %s\n", path.c_str());
    } else {
        std::fprintf(stderr, "recording a replay of %lld synthetic requests into %s...\n", requests, path.c_str());
        auto r = engine::replayWorkload(w, cost, setup, path);
        if (!r) {
            std::cerr << "error: " << r.error().message << "\n";
            return 1;
        }
    }
    using Clock = std::chrono::steady_clock;
    const auto ms = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    const auto t0 = Clock::now();
    auto opened = engine::TracePlayback::open(path);
    const auto t1 = Clock::now();
    if (!opened) {
        std::cerr << "error: " << opened.error().message << "\n";
        return 1;
    }
    const engine::TracePlayback& p = opened.value();
    const auto dropped = p.trace().meta.count("dropped_rows") ? p.trace().meta.at("dropped_rows") : std::string("0");
    std::printf("trace: %zu requests, %zu steps, %zu sequence rows, %.0f s recorded (dropped rows: %s)\n",
                p.trace().requests.size(), p.trace().steps.size(), p.sequenceRows(),
                (p.endMs() - p.startMs()) / 1000.0, dropped.c_str());
    std::printf("open + index: %.0f ms\n", ms(t0, t1));
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> when(p.startMs(), p.endMs());
    std::vector<double> rebuild, frame;
    double previous = p.startMs();
    for (int i = 0; i < 100; ++i) {
        const double t = when(rng);   // random: half the seeks go backwards
        engine::PlaybackQuery q{t};
        q.history = 2000;
        const auto a = Clock::now();
        const engine::SchedulerSnapshot s = p.snapshotAt(q);
        for (int k = 0; k < 600; ++k) (void)p.sampleAt(t - 60000.0 + k * 100.0);
        const auto b = Clock::now();
        engine::PlaybackQuery next{t + 33.3};   // the next frame at 1x
        next.afterStep = s.steps.empty() ? -1 : s.steps.back().index;
        next.finishedAfterMs = t;
        (void)p.snapshotAt(next);
        const auto c = Clock::now();
        rebuild.push_back(ms(a, b));
        frame.push_back(ms(b, c));
        previous = t;
    }
    (void)previous;
    std::sort(rebuild.begin(), rebuild.end());
    std::sort(frame.begin(), frame.end());
    std::printf("scrub to a random time (snapshot with 2000 table rows + 600 chart samples), 100 seeks: "
                "median %.2f ms, p90 %.2f ms, max %.2f ms\n", rebuild[50], rebuild[90], rebuild.back());
    std::printf("ordinary frame after a seek: median %.2f ms, p90 %.2f ms, max %.2f ms\n", frame[50], frame[90],
                frame.back());
    if (keep.empty()) removeTrace(path);
    return 0;
}

/// Records a live run of the model with Poisson arrivals, replays it unchanged, prints errors.
int replayFidelity(const QCommandLineParser& parser, long long requests, double rate) {
    engine::ExecutorOptions eo;
    eo.device = engine::DeviceKind::Cpu;
    auto threads = positiveInt(parser, "threads", 1, 1024);
    if (!threads) return 2;
    eo.threads = int(*threads);
    std::string randomFile;
    const QString shape = parser.value("shape");
    if (!shape.isEmpty()) {
        auto s = engine::cpu::llamaShapeByName(shape.toStdString());
        if (!s) {
            std::cerr << "error: --shape must be tiny, small or medium\n";
            return 2;
        }
        auto bytes = engine::cpu::makeRandomLlamaGguf(*s, engine::GgmlType::F32, 1);
        if (!bytes) {
            std::cerr << "error: " << bytes.error().message << "\n";
            return 1;
        }
        randomFile = tempTrace("random_model.gguf");
        std::ofstream(randomFile, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), std::streamsize(bytes->size()));
        eo.modelPath = randomFile;
    } else {
        eo.modelPath = parser.value("model").toStdString();   // "" = the demo model
    }
    auto exec = engine::createExecutor(eo);
    if (!randomFile.empty()) std::filesystem::remove(randomFile);
    if (!exec) {
        std::cerr << "error: " << exec.error().message << "\n";
        return 1;
    }
    const std::int32_t vocab = exec.value()->modelInfo().vocabSize;
    engine::EngineConfig config;
    config.settings.maxBatchSize = 16;
    config.settings.tokenBudget = 256;
    auto created = engine::Engine::create(config, std::move(exec.value()));
    if (!created) {
        std::cerr << "error: " << created.error().message << "\n";
        return 1;
    }
    engine::Engine& eng = *created.value();
    const std::string path = parser.isSet("record") ? parser.value("record").toStdString() : tempTrace("fidelity.sqlite");
    if (auto st = eng.startRecording(path); !st) {
        std::cerr << "error: " << st.error().message << "\n";
        return 1;
    }
    engine::SyntheticWorkloadOptions wo;
    wo.requests = std::int32_t(requests);
    wo.ratePerSecond = rate;
    wo.maxPrompt = std::min(256, eng.maxSequenceLength() / 2);
    wo.maxOutput = std::min(128, eng.maxSequenceLength() / 4);
    std::fprintf(stderr, "recording %lld requests at %.1f/s on %s (%s)...\n", requests, rate,
                 eng.modelInfo().name.c_str(), path.c_str());
    eng.start();
    const auto t0 = std::chrono::steady_clock::now();
    // Token ids clear of the byte/special range at the start of the vocabulary.
    const engine::TokenId first = std::min<engine::TokenId>(300, vocab / 2);
    auto st = engine::driveLive(eng, engine::syntheticWorkload(wo), first, vocab - first,
                                [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); });
    eng.stop();
    eng.stopRecording();
    if (!st) {
        std::cerr << "error: " << st.error().message << "\n";
        return 1;
    }
    std::fprintf(stderr, "recorded in %.1f s; replaying...\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    auto report = engine::replayTrace(path, {});
    if (!parser.isSet("record")) removeTrace(path);
    if (!report) {
        std::cerr << "error: " << report.error().message << "\n";
        return 1;
    }
    std::cout << engine::formatReplayTable(report.value());
    const auto e = engine::fidelityErrors(report->columns[0].summary, report->columns[1].summary);
    std::printf("fidelity (replay vs recorded): TTFT p50 %.1f %%, p90 %.1f %%; TPOT p50 %.1f %%, p90 %.1f %%; "
                "throughput %.1f %%; worst %.1f %%\n",
                e.ttftP50, e.ttftP90, e.tpotP50, e.tpotP90, e.throughput, e.worst());
    return 0;
}

}  // namespace

int runReplayBench(const QCommandLineParser& parser, int repetitions) {
    if (parser.isSet("record-overhead")) return recordOverhead(std::max(repetitions, 5), parser.isSet("quick"));
    auto requests = positiveInt(parser, "requests", 1, 10000000);
    if (!requests) return 2;
    if (parser.isSet("replay-speed")) return replaySpeed(*requests);
    if (parser.isSet("playback-scrub")) return playbackScrub(*requests, parser.value("record").toStdString());
    bool ok = false;
    const double rate = parser.value("rate").toDouble(&ok);
    if (!ok || rate <= 0 || rate > 1e6) {
        std::cerr << "error: --rate must be a positive number of requests per second\n";
        return 2;
    }
    return replayFidelity(parser, *requests, rate);
}

}  // namespace batchscope::app
