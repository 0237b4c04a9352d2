// Logits rows gather: the last token of each sampling sequence, before the final norm.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

__global__ void gatherRowsKernel(const float* src, int cols, const std::int32_t* rows, float* dst) {
    const std::size_t r = blockIdx.x;
    const float* s = src + static_cast<std::size_t>(rows[r]) * cols;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) dst[r * cols + i] = s[i];
}

}  // namespace

void launchGatherRows(const float* src, int cols, const std::int32_t* rows, int count, float* dst,
                      cudaStream_t stream) {
    if (count <= 0) return;
    gatherRowsKernel<<<count, threadsFor(cols), 0, stream>>>(src, cols, rows, dst);
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
