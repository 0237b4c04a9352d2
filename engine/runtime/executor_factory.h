// Creates the model executor for a model file (CPU runtime, CUDA runtime) or a simulated one.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "engine/core/result.h"
#include "engine/model/model_executor.h"

namespace batchscope::engine {

enum class DeviceKind { Auto, Cpu, Cuda };

/// Element type of the CPU runtime's KV cache. Auto follows the weights (as vLLM's
/// kv_cache_dtype "auto"): F32 for F32 models, whose results then match the reference exactly;
/// F16 for F16/BF16/quantised models, whose precision is already at or below F16's. F16 halves
/// KV memory and the KV reads that dominate decode at large batches.
enum class KvCacheType { Auto, F32, F16 };

struct ExecutorOptions {
    /// GGUF path; "" selects the bundled demo model; "simulated" selects the simulated executor.
    std::string modelPath;
    DeviceKind device = DeviceKind::Auto;
    int threads = 0;  ///< CPU threads; 0 = hardware concurrency
    KvCacheType kvCache = KvCacheType::Auto;  ///< CPU runtime only
};

/// Progress of a long load: fraction in [0, 1] and a short stage name ("mapping", "weights").
using LoadProgress = std::function<void(double fraction, const std::string& stage)>;

/// Loads a model. Runs on the caller's thread (the GUI calls it from a worker); honours
/// stopToken between stages and tensors (returns ErrorCode::Cancelled). Errors name the file
/// and what was wrong with it.
Result<std::unique_ptr<ModelExecutor>> createExecutor(const ExecutorOptions& options,
                                                      const LoadProgress& progress = {},
                                                      std::stop_token stopToken = {});

/// A loader for another device (the CUDA backend in gpu/ registers one from the app, so the
/// engine itself never links CUDA).
using ExecutorLoader = std::function<Result<std::unique_ptr<ModelExecutor>>(
    const ExecutorOptions&, const LoadProgress&, std::stop_token)>;
/// Registers the CUDA loader (call once at start-up, before createExecutor). With --device auto
/// createExecutor tries it first and falls back to the CPU when it reports Unsupported (no
/// driver, no device, too little memory), saying why through lastDeviceFallbackReason().
void registerCudaExecutorFactory(ExecutorLoader loader);
/// Why the last Auto load fell back to the CPU ("" if it did not).
std::string lastDeviceFallbackReason();

/// Path of the bundled demo model: $BATCHSCOPE_DEMO_MODEL, else next to the executable
/// (../share/batchscope/models/demo.gguf), else the source tree's resources/models/demo.gguf.
std::string demoModelPath();

}  // namespace batchscope::engine
