// `batchscope bench --gui`: the engine's throughput with the desktop window attached (live
// snapshots at 30 Hz, streaming text, charts) against the same engine headless, in one process.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <future>
#include <iostream>

#include "app/bridge/engine_bridge.h"
#include "app/cli/cli_common.h"
#include "app/gui/gui_controller.h"
#include "engine/metrics/percentile.h"
#include "engine/model/simulated_executor.h"
#include "engine/scheduling/scheduler_client.h"
#include "ui/main_window.h"

namespace batchscope::app {

namespace {
constexpr int kRequests = 256;
constexpr int kTokens = 96;

std::unique_ptr<engine::Engine> makeEngine() {
    engine::SimulatedExecutorConfig cost;  // a memory-bound decode step, spent busy-waiting
    cost.stepOverheadUs = 1000;
    cost.perTokenUs = 2;
    cost.perSequenceUs = 10;
    cost.eosProbability = 0;
    cost.busyWait = true;
    engine::EngineConfig config;
    config.settings.maxBatchSize = 256;
    config.settings.tokenBudget = 4096;
    config.numKvBlocks = 8192;
    return std::move(engine::Engine::create(config, std::make_unique<engine::SimulatedExecutor>(cost)).value());
}

engine::GenerationOptions options() {
    engine::GenerationOptions o;
    o.maxTokens = kTokens;
    o.ignoreEos = true;
    return o;
}

/// What the engine thread saw: step costs and the span from the first step's start to the
/// last step's end (the engine's own throughput, independent of when the GUI repaints).
struct StepCost {
    std::vector<double> scheduleUs, executeMs;
    double firstStartMs = -1, lastEndMs = 0, gapMs = 0, maxGapMs = 0;
    void attach(engine::Engine& e) {
        e.scheduler().setStepObserver([this](const engine::StepRecord& r) {
            if (firstStartMs >= 0) {
                gapMs += r.startMs - lastEndMs;
                maxGapMs = std::max(maxGapMs, r.startMs - lastEndMs);
            }
            scheduleUs.push_back(r.scheduleUs);
            executeMs.push_back(r.durationMs);
            if (firstStartMs < 0) firstStartMs = r.startMs;
            lastEndMs = r.startMs + r.durationMs;
        });
    }
    double tokensPerSecond() const { return double(kRequests) * kTokens / ((lastEndMs - firstStartMs) / 1000.0); }
    static double median(std::vector<double> v) { return engine::percentileOf(std::move(v), 50); }
    std::string describe() const {
        char buf[160];
        std::snprintf(buf, sizeof buf, "%zu steps, scheduler median %.0f us/step, execute median %.2f ms/step, "
                      "gaps between steps %.1f ms in all (max %.1f)", scheduleUs.size(), median(scheduleUs),
                      median(executeMs), gapMs, maxGapMs);
        return buf;
    }
};

double headlessTokensPerSecond(StepCost& cost) {
    auto engine = makeEngine();
    cost.attach(*engine);
    std::vector<std::future<engine::GenerationResult>> futures;
    for (int i = 0; i < kRequests; ++i) futures.push_back(engine->client().generate("request " + std::to_string(i), options()));
    QElapsedTimer t;
    t.start();
    engine->start();
    for (auto& f : futures) f.get();
    engine->stop();
    return cost.tokensPerSecond();
}

double guiTokensPerSecond(ui::MainWindow& window, EngineBridge& bridge, StepCost& cost) {
    auto engine = makeEngine();
    cost.attach(*engine);
    bridge.setEngine(std::move(engine));
    // From the second run on this is a switch: the previous engine stops on the bridge's worker.
    while (bridge.isSwitching()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    bridge.applySettings([] { auto s = engine::SchedulerSettings{}; s.maxBatchSize = 256; s.tokenBudget = 4096; s.paused = true; return s; }());
    int finished = 0;
    QEventLoop loop;
    auto conn = QObject::connect(&bridge, &EngineBridge::requestFinished, &loop, [&](const engine::GenerationResult&) {
        if (++finished == kRequests) loop.quit();
    });
    for (int i = 0; i < kRequests; ++i) bridge.submit(QStringLiteral("request %1").arg(i), options());
    window.show();
    QElapsedTimer t;
    t.start();
    timespec cpu0{}, cpu1{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    bridge.applySettings([] { auto s = engine::SchedulerSettings{}; s.maxBatchSize = 256; s.tokenBudget = 4096; return s; }());
    loop.exec();
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
    const double guiCpu = double(cpu1.tv_sec - cpu0.tv_sec) + 1e-9 * double(cpu1.tv_nsec - cpu0.tv_nsec);
    std::printf("  GUI thread used %.0f%% of a core while the engine ran\n", 100.0 * guiCpu / (double(t.nsecsElapsed()) / 1e9));
    QObject::disconnect(conn);
    bridge.engine()->stop();
    return cost.tokensPerSecond();
}
}  // namespace

int runGuiBench(int argc, char** argv, int repetitions) {
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM"))
        setenv("QT_QPA_PLATFORM", "offscreen", 1);
    QApplication app(argc, argv);
    EngineBridge bridge;
    ui::MainWindow window;
    GuiController controller(bridge, window);
    controller.setInteractive(false);
    std::vector<double> ratios;
    for (int r = 0; r < repetitions; ++r) {
        StepCost headlessCost, guiCost;
        const double headless = headlessTokensPerSecond(headlessCost);
        const double gui = guiTokensPerSecond(window, bridge, guiCost);
        std::printf("  headless: %s\n  with GUI: %s\n", headlessCost.describe().c_str(), guiCost.describe().c_str());
        ratios.push_back(gui / headless);
        std::printf("run %d: headless %.0f tokens/s, with the GUI attached %.0f tokens/s: %.1f%%\n", r + 1, headless,
                    gui, 100.0 * gui / headless);
    }
    std::printf("GUI-attached throughput, median of %d: %.1f%% of headless (%d requests x %d tokens, max batch 256)\n",
                repetitions, 100.0 * engine::percentileOf(ratios, 50), kRequests, kTokens);
    bridge.setEngine(nullptr);
    return 0;
}

}  // namespace batchscope::app
