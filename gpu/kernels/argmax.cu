// Greedy sampling on the device: argmax of each logits row (lowest index on ties, NaN = -inf).
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

// Is (v, i) better than (bv, bi)? Larger value, then lower index.
__device__ __forceinline__ bool better(float v, int i, float bv, int bi) { return v > bv || (v == bv && i < bi); }

__global__ void argmaxKernel(const float* logits, int cols, std::int32_t* out) {
    const float* row = logits + static_cast<std::size_t>(blockIdx.x) * cols;
    float best = -INFINITY;
    int bestIdx = cols;  // sentinel: loses every tie
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        const float v = isnan(row[i]) ? -INFINITY : row[i];
        if (better(v, i, best, bestIdx)) best = v, bestIdx = i;
    }
    for (int o = 16; o > 0; o >>= 1) {
        const float v = __shfl_xor_sync(0xffffffffu, best, o);
        const int i = __shfl_xor_sync(0xffffffffu, bestIdx, o);
        if (better(v, i, best, bestIdx)) best = v, bestIdx = i;
    }
    __shared__ float sv[32];
    __shared__ int si[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) sv[warp] = best, si[warp] = bestIdx;
    __syncthreads();
    if (threadIdx.x == 0) {
        for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w)
            if (better(sv[w], si[w], best, bestIdx)) best = sv[w], bestIdx = si[w];
        out[blockIdx.x] = bestIdx < cols ? bestIdx : 0;
    }
}

}  // namespace

void launchArgmax(const float* logits, int rows, int cols, std::int32_t* out, cudaStream_t stream) {
    if (rows <= 0) return;
    argmaxKernel<<<rows, 1024, 0, stream>>>(logits, cols, out);
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
