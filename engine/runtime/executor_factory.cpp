// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/runtime/executor_factory.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include <spdlog/spdlog.h>

#include "engine/model/cpu/cpu_llama_executor.h"
#include "engine/model/simulated_executor.h"

namespace batchscope::engine {

namespace {
std::mutex g_loaderMutex;
ExecutorLoader g_cudaLoader;
std::string g_fallbackReason;
}  // namespace

void registerCudaExecutorFactory(ExecutorLoader loader) {
    std::lock_guard lock(g_loaderMutex);
    g_cudaLoader = std::move(loader);
}

std::string lastDeviceFallbackReason() {
    std::lock_guard lock(g_loaderMutex);
    return g_fallbackReason;
}

std::string demoModelPath() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("BATCHSCOPE_DEMO_MODEL"); env && *env) return env;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        for (const fs::path& candidate : {exe.parent_path() / "../share/batchscope/models/demo.gguf",
                                          exe.parent_path() / "../../resources/models/demo.gguf"}) {
            if (fs::exists(candidate, ec)) return fs::weakly_canonical(candidate, ec).string();
        }
    }
    return std::string(BATCHSCOPE_SOURCE_DIR) + "/resources/models/demo.gguf";
}

Result<std::unique_ptr<ModelExecutor>> createExecutor(const ExecutorOptions& options, const LoadProgress& progress,
                                                      std::stop_token stopToken) {
    if (options.modelPath == "simulated") {
        if (progress) progress(1.0, "simulated");
        SimulatedExecutorConfig config;
        config.stepOverheadUs = 2000;
        config.perTokenUs = 20;
        config.perSequenceUs = 50;
        config.eosProbability = 0.01;
        return std::unique_ptr<ModelExecutor>(std::make_unique<SimulatedExecutor>(config));
    }
    if (stopToken.stop_requested()) return makeError(ErrorCode::Cancelled, "model load cancelled");
    const std::string path = options.modelPath.empty() ? demoModelPath() : options.modelPath;
    ExecutorLoader cuda;
    {
        std::lock_guard lock(g_loaderMutex);
        cuda = g_cudaLoader;
        g_fallbackReason.clear();
    }
    if (options.device != DeviceKind::Cpu) {
        if (!cuda) {
            if (options.device == DeviceKind::Cuda)
                return makeError(ErrorCode::Unsupported, "--device cuda: this build has no CUDA backend "
                                                         "(configure with -DBATCHSCOPE_CUDA_APP=ON where nvcc exists)");
        } else {
            ExecutorOptions resolved = options;
            resolved.modelPath = path;
            auto loaded = cuda(resolved, progress, stopToken);
            if (loaded || options.device == DeviceKind::Cuda || loaded.error().code != ErrorCode::Unsupported)
                return loaded;
            spdlog::warn("CUDA unavailable, running on the CPU: {}", loaded.error().message);
            std::lock_guard lock(g_loaderMutex);
            g_fallbackReason = loaded.error().message;
        }
    }
    return loadCpuLlamaExecutor(path, options.threads, progress, std::move(stopToken), options.kvCache);
}

}  // namespace batchscope::engine
