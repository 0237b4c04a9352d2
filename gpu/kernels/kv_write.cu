// KV write: scatters each token's new K and V rows into its sequence's block of the pool.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

__global__ void kvWriteKernel(const float* qkv, int stride, int kOffset, int vOffset, PagedKv kv) {
    const std::size_t t = blockIdx.x;
    const int pos = kv.positions[t];
    const std::size_t block = static_cast<std::size_t>(kv.blockTables[kv.tableOffset[t] + pos / kv.blockSize]);
    const std::size_t slot = (block * kv.blockSize + pos % kv.blockSize) * kv.kvDim;
    const float* row = qkv + t * stride;
    for (int i = threadIdx.x; i < kv.kvDim; i += blockDim.x) {
        kv.k[slot + i] = __float2half_rn(row[kOffset + i]);
        kv.v[slot + i] = __float2half_rn(row[vOffset + i]);
    }
}

}  // namespace

void launchKvWrite(const float* qkv, int tokenCount, int stride, int kOffset, int vOffset, const PagedKv& kv,
                   cudaStream_t stream) {
    if (tokenCount <= 0) return;
    kvWriteKernel<<<tokenCount, threadsFor(kv.kvDim), 0, stream>>>(qkv, stride, kOffset, vOffset, kv);
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
