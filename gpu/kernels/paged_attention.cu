// Paged causal attention for mixed batches (prefill chunks and decodes in one launch).
// SPDX-License-Identifier: GPL-3.0-or-later
#include "gpu/kernels/kernel_util.cuh"

namespace batchscope::gpu {

namespace {

constexpr int kWarps = 4;
constexpr int kPairsPerLane = kMaxHeadDim / 64;  // half2 pairs of the head each lane owns

// One block per (token, head). Each warp walks a strided subset of the token's positions with
// an online softmax (running max m, sum l, weighted V sum acc); lanes split the head dimension
// in half2 pairs, so a K/V row is read coalesced. The warps' partial results are merged at the
// end. Q is pre-scaled by 1/sqrt(headDim).
template <typename T>
__global__ void __launch_bounds__(kWarps * 32) pagedAttentionKernel(AttentionArgs a) {
    const int t = blockIdx.x, h = blockIdx.y;
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const int pairs = a.headDim / 2;
    const int pos = a.kv.positions[t];
    const std::int32_t* table = a.kv.blockTables + a.kv.tableOffset[t];
    const std::size_t kvOff = static_cast<std::size_t>(h / (a.heads / a.kvHeads)) * a.headDim;
    const float2* q2 = reinterpret_cast<const float2*>(a.qkv + static_cast<std::size_t>(t) * a.stride +
                                                       static_cast<std::size_t>(h) * a.headDim);
    float2 q[kPairsPerLane], acc[kPairsPerLane];
#pragma unroll
    for (int j = 0; j < kPairsPerLane; ++j) {
        const int d = lane + 32 * j;
        q[j] = d < pairs ? make_float2(q2[d].x * a.scale, q2[d].y * a.scale) : make_float2(0.f, 0.f);
        acc[j] = make_float2(0.f, 0.f);
    }
    float m = -INFINITY, l = 0.0f;
    for (int p = warp; p <= pos; p += kWarps) {
        const std::size_t block = static_cast<std::size_t>(table[p / a.kv.blockSize]);
        const std::size_t row = (block * a.kv.blockSize + p % a.kv.blockSize) * a.kv.kvDim + kvOff;
        const __half2* k2 = reinterpret_cast<const __half2*>(a.kv.k + row);
        const __half2* v2 = reinterpret_cast<const __half2*>(a.kv.v + row);
        // Issue the K and V loads together: V's latency hides behind the dot product.
        __half2 kr[kPairsPerLane], vr[kPairsPerLane];
#pragma unroll
        for (int j = 0; j < kPairsPerLane; ++j) {
            const int d = lane + 32 * j;
            kr[j] = d < pairs ? k2[d] : __floats2half2_rn(0.f, 0.f);
            vr[j] = d < pairs ? v2[d] : __floats2half2_rn(0.f, 0.f);
        }
        float s = 0.0f;
#pragma unroll
        for (int j = 0; j < kPairsPerLane; ++j) {
            const float2 kf = __half22float2(kr[j]);
            s += q[j].x * kf.x + q[j].y * kf.y;  // q is 0 beyond the head
        }
        s = warpSum(s);
        const float mNew = fmaxf(m, s);
        const float corr = __expf(m - mNew), w = __expf(s - mNew);
        l = l * corr + w;
#pragma unroll
        for (int j = 0; j < kPairsPerLane; ++j) {
            const float2 vf = __half22float2(vr[j]);  // 0 beyond the head
            acc[j] = make_float2(acc[j].x * corr + w * vf.x, acc[j].y * corr + w * vf.y);
        }
        m = mNew;
    }
    // Merge the warps: rescale each to the common max, sum.
    __shared__ float sm[kWarps], sl[kWarps];
    __shared__ float2 sacc[kWarps][kMaxHeadDim / 2];
    if (lane == 0) sm[warp] = m, sl[warp] = l;
#pragma unroll
    for (int j = 0; j < kPairsPerLane; ++j) {
        const int d = lane + 32 * j;
        if (d < pairs) sacc[warp][d] = acc[j];
    }
    __syncthreads();
    float mAll = -INFINITY;
    for (int w = 0; w < kWarps; ++w) mAll = fmaxf(mAll, sm[w]);
    float lAll = 0.0f, f[kWarps];
    for (int w = 0; w < kWarps; ++w) {
        f[w] = sl[w] > 0.0f ? __expf(sm[w] - mAll) : 0.0f;  // a warp with no position has l == 0
        lAll += sl[w] * f[w];
    }
    T* out = static_cast<T*>(a.out) + static_cast<std::size_t>(t) * a.heads * a.headDim +
             static_cast<std::size_t>(h) * a.headDim;
    for (int d = threadIdx.x; d < pairs; d += blockDim.x) {
        float2 o = make_float2(0.f, 0.f);
        for (int w = 0; w < kWarps; ++w) o = make_float2(o.x + sacc[w][d].x * f[w], o.y + sacc[w][d].y * f[w]);
        out[2 * d] = fromFloat<T>(o.x / lAll);
        out[2 * d + 1] = fromFloat<T>(o.y / lAll);
    }
}

}  // namespace

void launchPagedAttention(ActType type, const AttentionArgs& args, cudaStream_t stream) {
    if (args.tokenCount <= 0) return;
    if (args.headDim % 2 != 0 || args.headDim > kMaxHeadDim || args.kvHeads <= 0 || args.heads % args.kvHeads != 0)
        throw CudaError("paged attention: unsupported head layout (headDim " + std::to_string(args.headDim) +
                        ", heads " + std::to_string(args.heads) + ", kvHeads " + std::to_string(args.kvHeads) + ")");
    const dim3 grid(args.tokenCount, args.heads);
    dispatchAct(type, [&](auto tag) {
        using T = decltype(tag);
        pagedAttentionKernel<T><<<grid, kWarps * 32, 0, stream>>>(args);
    });
    CUDA_CHECK_LAUNCH();
}

}  // namespace batchscope::gpu
