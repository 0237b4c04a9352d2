// SwiGLU: silu(gate) * up, from the fused gate|up GEMM output to the down GEMM's input type.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>

#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

// Tokens on grid.x (up to 2^31 - 1; grid.y and grid.z stop at 65,535), FFN columns on grid.y
// with a stride loop, so any step size and any FFN width fit one launch.
template <typename T>
__global__ void swigluKernel(const float* gateUp, int ffn, T* out) {
    const std::size_t t = blockIdx.x;
    for (int i = blockIdx.y * blockDim.x + threadIdx.x; i < ffn; i += gridDim.y * blockDim.x) {
        const float g = gateUp[t * 2 * ffn + i], u = gateUp[t * 2 * ffn + ffn + i];
        out[t * ffn + i] = fromFloat<T>(g / (1.0f + expf(-g)) * u);
    }
}

}  // namespace

void launchSwiglu(ActType type, const float* gateUp, int tokenCount, int ffn, void* out, cudaStream_t stream) {
    if (tokenCount <= 0 || ffn <= 0) return;
    const dim3 grid(static_cast<unsigned>(tokenCount), static_cast<unsigned>(std::min((ffn + 255) / 256, 65535)));
    dispatchAct(type, [&](auto tag) {
        using T = decltype(tag);
        swigluKernel<T><<<grid, 256, 0, stream>>>(gateUp, ffn, static_cast<T*>(out));
    });
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
