// Llama weights uploaded to the device once at load, in the GEMM input type.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <stop_token>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/cpu/llama_weights.h"
#include "gpu/cuda_buffer.h"
#include "gpu/kernels/kernels.h"

// Internal to gpu/.
namespace batchscope::gpu {

/// One block's device pointers (into CudaWeights::arena). Matrices are row-major [out x in] in
/// CudaWeights::type. Q, K and V are stacked into one [dim + 2 kvDim x dim] matrix, gate and up
/// into one [2 ffn x dim] matrix, so each is one GEMM.
struct CudaLayerWeights {
    const float* attnNorm = nullptr;
    const float* ffnNorm = nullptr;
    const void* qkv = nullptr;
    const void* wo = nullptr;
    const void* gateUp = nullptr;
    const void* down = nullptr;
};

/// All weights on the device. Type choice: BF16 when every matrix of the file is BF16, else
/// F16 (F16 kept as is; F32, BF16 of mixed files, Q8_0 and Q4_0 converted on the host during
/// the upload). Norm vectors are F32. Owns the device memory (one allocation). Immutable after
/// upload; any thread may read it while the owning executor lives.
struct CudaWeights {
    engine::cpu::LlamaConfig config;
    ActType type = ActType::F16;
    DeviceBuffer arena;
    const void* embedding = nullptr;  ///< [vocab x dim]
    const void* output = nullptr;     ///< [vocab x dim]; == embedding when tied
    const float* outputNorm = nullptr;
    std::vector<CudaLayerWeights> layers;
    std::uint64_t deviceBytes = 0;  ///< size of the arena
};

/// Bytes the weights of `w` take on the device (2 bytes per matrix element, norms in F32).
std::uint64_t cudaWeightBytes(const engine::cpu::LlamaWeights& w);

/// Uploads `w` to the current device; on success the data is complete on the device (the last
/// copy has finished), so any stream may read it. Fails with Unsupported when the
/// device has less than cudaWeightBytes() + reserveBytes free, naming both; Cancelled when
/// `stop` is requested (checked between matrices). progress(fraction in [0, 1]) per matrix.
/// Throws CudaError only for unexpected CUDA failures.
engine::Result<CudaWeights> uploadLlamaWeights(const engine::cpu::LlamaWeights& w, std::size_t reserveBytes,
                                               const std::function<void(double)>& progress, std::stop_token stop);

}  // namespace batchscope::gpu
