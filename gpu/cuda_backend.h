// Entry points of the CUDA backend: probe the machine, load a model onto the GPU.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/model_executor.h"
#include "engine/runtime/executor_factory.h"

// This header includes no CUDA header: the app and the engine can include it. It exists only
// when the target batchscope_gpu is built (compile definition BATCHSCOPE_HAVE_CUDA=1).
namespace batchscope::gpu {

/// Settings of the CUDA executor. Plain value.
struct CudaOptions {
    int deviceIndex = 0;  ///< CUDA device ordinal
    /// Fraction of the device memory still free after the weights and step scratch are
    /// allocated that suggestedKvBlocks() offers to the KV block pool, in (0, 1].
    double kvCacheFraction = 0.90;
    /// Device memory kept free for the per-step activations, cuBLAS workspace and the
    /// driver (bytes); loads fail rather than leave less than this.
    std::size_t reserveBytes = std::size_t{512} << 20;
};

/// One visible device.
struct CudaDeviceInfo {
    int index = 0;
    std::string name;
    int computeMajor = 0, computeMinor = 0;
    std::size_t totalBytes = 0;  ///< device memory (bytes)
    std::size_t freeBytes = 0;   ///< free now; measured only for the probed device (else 0)
    int multiprocessors = 0;
};

/// What probeCuda() found. usable == false comes with a reason meant for users
/// ("no CUDA driver: ...", "no CUDA device: ...", "compute capability 7.5 < 8.0", ...).
struct CudaAvailability {
    bool usable = false;
    std::string reason;   ///< why not usable; "" when usable
    int driverVersion = 0;   ///< e.g. 13000; 0 = no driver
    int runtimeVersion = 0;  ///< CUDA runtime linked in
    std::vector<CudaDeviceInfo> devices;
    /// One line for logs: "NVIDIA H100 80GB HBM3, cc 9.0, 79.1 GiB free of 79.6 GiB" or the reason.
    std::string summary() const;
};

/// Checks driver, devices and memory without allocating anything large. Never throws; safe on
/// machines with no driver (the CUDA runtime is linked statically and loads the driver
/// lazily). `deviceIndex` selects the device whose compute capability (>= 8.0) and free memory
/// (>= minFreeBytes) decide `usable`. Thread-safe.
CudaAvailability probeCuda(int deviceIndex = 0, std::size_t minFreeBytes = std::size_t{1} << 30);

/// Loads a Llama GGUF model onto the GPU (see CudaLlamaExecutor). Fails with Unsupported and
/// probeCuda()'s reason when no usable device exists, so a caller can fall back to the CPU.
/// progress: stages "mapping", "weights" (upload), fractions in [0, 1]; stop is checked
/// between tensors (ErrorCode::Cancelled). Errors name the file and what was wrong.
engine::Result<std::unique_ptr<engine::ModelExecutor>> loadCudaLlamaExecutor(
    const std::string& path, const CudaOptions& options = {}, const engine::LoadProgress& progress = {},
    std::stop_token stop = {});

/// CudaOptions with overrides from the environment: BATCHSCOPE_CUDA_DEVICE (device index),
/// BATCHSCOPE_CUDA_KV_FRACTION (kvCacheFraction, (0, 1]). Malformed values are ignored.
CudaOptions cudaOptionsFromEnvironment();

/// The engine-facing loader: resolves ExecutorOptions::modelPath like createExecutor() ("" =
/// the demo model) and calls loadCudaLlamaExecutor() with cudaOptionsFromEnvironment(). Meant to
/// be registered with the engine's executor factory by the app (see docs/cuda.md).
engine::Result<std::unique_ptr<engine::ModelExecutor>> loadCudaExecutorForEngine(
    const engine::ExecutorOptions& options, const engine::LoadProgress& progress, std::stop_token stop);

}  // namespace batchscope::gpu
