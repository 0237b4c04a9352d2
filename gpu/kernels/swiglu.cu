// SwiGLU: silu(gate) * up, from the fused gate|up GEMM output to the down GEMM's input type.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

template <typename T>
__global__ void swigluKernel(const float* gateUp, int ffn, T* out) {
    const std::size_t t = blockIdx.y;
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= ffn) return;
    const float g = gateUp[t * 2 * ffn + i], u = gateUp[t * 2 * ffn + ffn + i];
    out[t * ffn + i] = fromFloat<T>(g / (1.0f + expf(-g)) * u);
}

}  // namespace

void launchSwiglu(ActType type, const float* gateUp, int tokenCount, int ffn, void* out, cudaStream_t stream) {
    if (tokenCount <= 0) return;
    const dim3 grid((ffn + 255) / 256, tokenCount);
    dispatchAct(type, [&](auto tag) {
        using T = decltype(tag);
        swigluKernel<T><<<grid, 256, 0, stream>>>(gateUp, ffn, static_cast<T*>(out));
    });
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
