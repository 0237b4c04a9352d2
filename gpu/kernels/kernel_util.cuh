// Small device helpers shared by the kernels: conversions of the activation types, reductions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "gpu/cuda_check.h"
#include "gpu/kernels/kernels.h"

namespace batchscope::gpu {

__device__ __forceinline__ float toFloat(__half v) { return __half2float(v); }
__device__ __forceinline__ float toFloat(__nv_bfloat16 v) { return __bfloat162float(v); }
template <typename T>
__device__ __forceinline__ T fromFloat(float v);
template <>
__device__ __forceinline__ __half fromFloat<__half>(float v) { return __float2half_rn(v); }
template <>
__device__ __forceinline__ __nv_bfloat16 fromFloat<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

__device__ __forceinline__ float warpSum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/// Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
__device__ __forceinline__ float blockSum(float v) {
    __shared__ float partial[32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    v = warpSum(v);
    __syncthreads();  // partial may still be read by a previous call
    if (lane == 0) partial[warp] = v;
    __syncthreads();
    v = lane < static_cast<int>(blockDim.x / 32) ? partial[lane] : 0.0f;
    return warpSum(v);
}

/// Threads per block for grid-stride loops over a row of `n` elements: a multiple of 32 in [32, 1024].
inline int threadsFor(int n) {
    int t = 32;
    while (t < n && t < 1024) t *= 2;
    return t;
}

/// Calls f with the C++ type of `type` (a value of that type, for template deduction).
template <typename F>
void dispatchAct(ActType type, F&& f) {
    if (type == ActType::F16)
        f(__half{});
    else
        f(__nv_bfloat16{});
}

}  // namespace batchscope::gpu
