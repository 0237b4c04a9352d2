// Rotary position embedding (llama.cpp NORM mode: adjacent pairs), in place on Q and K.
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

// One block per row; threads loop over (head, pair). The angle is computed in double, as the
// CPU runtime does: at position 4000 a float angle would be off by ~2e-4 rad.
__global__ void ropeKernel(float* qkv, int stride, int heads, int headDim, int ropeDim, float base,
                           const std::int32_t* positions) {
    const std::size_t t = blockIdx.x;
    const int half = ropeDim / 2;
    const double pos = positions[t];
    float* row = qkv + t * stride;
    for (int item = threadIdx.x; item < heads * half; item += blockDim.x) {
        const int h = item / half, i = item % half;
        const double theta = pos * pow(static_cast<double>(base), -2.0 * i / ropeDim);
        double s, c;
        sincos(theta, &s, &c);
        float* p = row + h * headDim + 2 * i;
        const float a = p[0], b = p[1];
        p[0] = a * static_cast<float>(c) - b * static_cast<float>(s);
        p[1] = a * static_cast<float>(s) + b * static_cast<float>(c);
    }
}

}  // namespace

void launchRope(float* qkv, int rows, int stride, int heads, int headDim, int ropeDim, float base,
                const std::int32_t* positions, cudaStream_t stream) {
    if (rows <= 0) return;
    ropeKernel<<<rows, threadsFor(heads * ropeDim / 2), 0, stream>>>(qkv, stride, heads, headDim, ropeDim, base,
                                                                     positions);
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
