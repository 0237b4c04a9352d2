// SPDX-License-Identifier: GPL-3.0-or-later
// Glue between the engine's executor factory and the CUDA backend.
#include <cstdlib>
#include <string>

#include "gpu/cuda_backend.h"

namespace batchscope::gpu {

CudaOptions cudaOptionsFromEnvironment() {
    CudaOptions o;
    if (const char* v = std::getenv("BATCHSCOPE_CUDA_DEVICE"); v && *v) {
        char* end = nullptr;
        const long d = std::strtol(v, &end, 10);
        if (end && *end == '\0' && d >= 0 && d < 1024) o.deviceIndex = static_cast<int>(d);
    }
    if (const char* v = std::getenv("BATCHSCOPE_CUDA_KV_FRACTION"); v && *v) {
        char* end = nullptr;
        const double f = std::strtod(v, &end);
        if (end && *end == '\0' && f > 0.0 && f <= 1.0) o.kvCacheFraction = f;
    }
    return o;
}

engine::Result<std::unique_ptr<engine::ModelExecutor>> loadCudaExecutorForEngine(
    const engine::ExecutorOptions& options, const engine::LoadProgress& progress, std::stop_token stop) {
    const std::string path = options.modelPath.empty() ? engine::demoModelPath() : options.modelPath;
    return loadCudaLlamaExecutor(path, cudaOptionsFromEnvironment(), progress, stop);
}

}  // namespace batchscope::gpu
