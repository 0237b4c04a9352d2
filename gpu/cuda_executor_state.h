// Device state of a CudaLlamaExecutor (internal to gpu/: includes CUDA headers).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "engine/sampling/sampler.h"
#include "gpu/cuda_buffer.h"
#include "gpu/cuda_llama_executor.h"
#include "gpu/cuda_weights.h"

namespace batchscope::gpu {

/// Everything on the device plus the pinned staging of the step. Owned by one executor; used
/// by one thread at a time (the executor's contract).
struct CudaExecutorState {
    CudaOptions options;
    CudaWeights weights;
    cudaStream_t stream = nullptr;
    cublasHandle_t cublas = nullptr;

    DeviceBuffer kvPool;  ///< [layers][K, V][numBlocks][blockSize][kvDim] F16
    std::int32_t numBlocks = 0, blockSize = 0;

    DeviceBuffer tokenScratch;  ///< per-token activations of the step
    DeviceBuffer rowScratch;    ///< per-sampled-row buffers (final norm, logits, argmax)
    DeviceBuffer meta;          ///< the step's int32 metadata (device copy of hostMeta)
    PinnedBuffer hostMeta;
    PinnedBuffer hostOut;       ///< argmax ids, then logits rows copied back
    engine::Sampler sampler;

    CudaExecutorState() = default;
    CudaExecutorState(const CudaExecutorState&) = delete;
    CudaExecutorState& operator=(const CudaExecutorState&) = delete;
    ~CudaExecutorState() {
        if (cublas) (void)cublasDestroy(cublas);
        if (stream) (void)cudaStreamDestroy(stream);
    }

    /// K (kOrV = 0) or V pool of `layer`.
    __half* kvPoolOf(int layer, int kOrV) const {
        const std::size_t elems = static_cast<std::size_t>(numBlocks) * static_cast<std::size_t>(blockSize) *
                                  static_cast<std::size_t>(weights.config.kvDim());
        return kvPool.as<__half>() + static_cast<std::size_t>(2 * layer + kOrV) * elems;
    }
};

}  // namespace batchscope::gpu
