// Builds the spec's component graph (queue, KV cache, capacity, completion, batch manager,
// metrics, scheduler, client) around a chosen executor. Shared by the integration suites.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <memory>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "engine/model/simulated_executor.h"
#include "engine/runtime/executor_factory.h"
#include "engine/scheduling/scheduler_client.h"

namespace batchscope::tests {

using namespace batchscope::engine;

/// True when the suite runs against the bundled demo model on the CPU runtime instead of the
/// simulated executor (CTest runs the suite both ways: BATCHSCOPE_TEST_EXECUTOR=demo).
/// BATCHSCOPE_TEST_DEVICE=cuda runs the demo model on the CUDA executor instead (GPU machines;
/// tools/gpu-check.sh).
inline bool cudaDevice() {
    const char* v = std::getenv("BATCHSCOPE_TEST_DEVICE");
    return v && std::string(v) == "cuda";
}

inline bool realModel() {
    const char* v = std::getenv("BATCHSCOPE_TEST_EXECUTOR");
    return (v && std::string(v) == "demo") || cudaDevice();
}

inline std::unique_ptr<ModelExecutor> makeDemoExecutor() {
    ExecutorOptions options;
    options.device = cudaDevice() ? DeviceKind::Cuda : DeviceKind::Cpu;
    auto exec = createExecutor(options);
    if (!exec) throw std::runtime_error("cannot load the demo model: " + exec.error().message);
    return std::move(exec.value());
}

/// Knobs a test may change before build(); defaults follow the spec's fixture.
struct FixtureOptions {
    std::int32_t queueCapacity = 100;
    BatchConstraints batch{8, 1LL << 30, 2, 1024};
    CapacityConstraints capacity = CapacityConstraints::Default();
    SimulatedExecutorConfig executor = [] {
        SimulatedExecutorConfig c;
        c.stepOverheadUs = 2000;   // the spec's mock sleeps per step
        c.eosProbability = 0.1;    // and emits EOS one time in ten
        c.kvBytesPerToken = 4096;
        return c;
    }();
    std::int32_t numKvBlocks = 4096;
    bool prefixCaching = true;
    SchedulerConfiguration scheduler = SchedulerConfiguration::Default();
    std::int32_t clientDefaultMaxTokens = 32;
};

/// Owns everything; destruction stops the scheduler (unfinished requests are cancelled).
struct SchedulerFixture {
    explicit SchedulerFixture(const FixtureOptions& o, std::unique_ptr<ModelExecutor> inner = nullptr)
        : options(o),
          simulated(inner || realModel() ? nullptr : std::make_unique<SimulatedExecutor>(o.executor)),
          owned(inner ? std::move(inner) : realModel() ? makeDemoExecutor() : nullptr),
          queue(RequestQueueConfig{o.queueCapacity}),
          kv(KVCacheConfig{o.numKvBlocks, 16, o.prefixCaching}),
          capacity(o.capacity),
          metrics(MetricsConfiguration::Default()) {}

    /// Call once. `wrapper` (e.g. a failing executor around base()) is owned by the fixture
    /// and destroyed after the scheduler, so it outlives the engine thread however a test
    /// ends (a failed QVERIFY returns early).
    void build(std::unique_ptr<ModelExecutor> wrapper = nullptr) {
        ownedWrapper = std::move(wrapper);
        executor = ownedWrapper ? ownedWrapper.get() : &base();
        completion = std::make_unique<CompletionDetector>(CompletionConfiguration{}, executor->tokenizer());
        batch = std::make_unique<BatchManager>(queue, kv, options.batch);
        scheduler = std::make_unique<ContinuousBatchScheduler>(queue, *batch, *completion, capacity, *executor,
                                                               metrics, options.scheduler);
        client = std::make_unique<SchedulerClient>(*scheduler, executor->tokenizer(),
                                                   SchedulerClientConfiguration{options.clientDefaultMaxTokens});
    }
    ~SchedulerFixture() {
        if (scheduler) scheduler->stop();
    }

    ModelExecutor& base() { return simulated ? static_cast<ModelExecutor&>(*simulated) : *owned; }

    FixtureOptions options;
    std::unique_ptr<SimulatedExecutor> simulated;
    std::unique_ptr<ModelExecutor> owned;
    std::unique_ptr<ModelExecutor> ownedWrapper;  // wraps base(); declared after it, before the scheduler
    ModelExecutor* executor = nullptr;
    RequestQueue queue;
    KVCacheManager kv;
    CapacityManager capacity;
    SchedulerMetricsCollector metrics;
    std::unique_ptr<CompletionDetector> completion;
    std::unique_ptr<BatchManager> batch;
    std::unique_ptr<ContinuousBatchScheduler> scheduler;
    std::unique_ptr<SchedulerClient> client;
};

}  // namespace batchscope::tests
