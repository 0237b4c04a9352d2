// Embedding gather: one block per token copies its table row to the F32 residual stream.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

template <typename T>
__global__ void embeddingKernel(const T* table, const std::int32_t* tokens, int dim, float* x) {
    const std::size_t t = blockIdx.x;
    const T* row = table + static_cast<std::size_t>(tokens[t]) * dim;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) x[t * dim + i] = toFloat(row[i]);
}

}  // namespace

void launchEmbedding(ActType type, const void* table, const std::int32_t* tokens, int tokenCount, int dim,
                     float* x, cudaStream_t stream) {
    if (tokenCount <= 0) return;
    dispatchAct(type, [&](auto tag) {
        using T = decltype(tag);
        embeddingKernel<T><<<tokenCount, threadsFor(dim), 0, stream>>>(static_cast<const T*>(table), tokens, dim, x);
    });
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
