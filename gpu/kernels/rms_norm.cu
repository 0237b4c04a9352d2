// RMSNorm: one block per row; F32 in, GEMM input type out.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

template <typename T>
__global__ void rmsNormKernel(const float* x, int dim, const float* w, float eps, T* out) {
    const std::size_t r = blockIdx.x;
    const float* xr = x + r * dim;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) ss += xr[i] * xr[i];
    ss = blockSum(ss);
    const float scale = rsqrtf(ss / static_cast<float>(dim) + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) out[r * dim + i] = fromFloat<T>(xr[i] * scale * w[i]);
}

}  // namespace

void launchRmsNorm(ActType type, const float* x, int rows, int dim, const float* w, float eps, void* out,
                   cudaStream_t stream) {
    if (rows <= 0) return;
    dispatchAct(type, [&](auto tag) {
        using T = decltype(tag);
        rmsNormKernel<T><<<rows, threadsFor(dim), 0, stream>>>(x, dim, w, eps, static_cast<T*>(out));
    });
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
