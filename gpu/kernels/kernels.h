// Host-side launchers of the CUDA kernels of the Llama forward pass (one kernel per file).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

// Internal to gpu/ and tests/gpu/: C++17 (included by the .cu files), CUDA types allowed.
// Every launcher only queues work on `stream` (no synchronisation) and throws CudaError on a
// launch error. Matrices are row-major; "act" buffers hold the GEMM input type (F16 or BF16,
// the type of the weights), everything else is F32 unless stated. Token-indexed arrays have
// one entry per token of the step (T), in batch order.
namespace batchscope::gpu {

/// Element type of the GEMM inputs (weights and the activations multiplied with them).
enum class ActType { F16, BF16 };

/// x[t][0..dim) = table[tokens[t]][0..dim) converted to F32. table: [vocab][dim] of `type`.
void launchEmbedding(ActType type, const void* table, const std::int32_t* tokens, int tokenCount, int dim,
                     float* x, cudaStream_t stream);

/// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w (out in `type`), for `rows` rows of `dim`.
void launchRmsNorm(ActType type, const float* x, int rows, int dim, const float* w, float eps, void* out,
                   cudaStream_t stream);

/// Rotary embedding in place, llama.cpp NORM mode (adjacent pairs (2i, 2i+1) rotate by
/// pos * base^(-2i / ropeDim), angles in double like the CPU runtime) for the first `heads`
/// heads of each row of qkv (Q heads, then K heads: pass heads + kvHeads). Rows: `rows`,
/// stride `stride` floats; positions[t] per row.
void launchRope(float* qkv, int rows, int stride, int heads, int headDim, int ropeDim, float base,
                const std::int32_t* positions, cudaStream_t stream);

/// out[t][i] = silu(gateUp[t][i]) * gateUp[t][ffn + i] (out in `type`, [T][ffn]); any T < 2^31.
void launchSwiglu(ActType type, const float* gateUp, int tokenCount, int ffn, void* out, cudaStream_t stream);

/// Where each token of the step reads and writes K/V: the paged layout shared by kv_write and
/// paged_attention. Pools are [numBlocks][blockSize][kvDim] F16 for one layer; position p of
/// token t's sequence lives in block blockTables[tableOffset[t] + p / blockSize], slot p % blockSize.
struct PagedKv {
    __half* k = nullptr;
    __half* v = nullptr;
    const std::int32_t* positions = nullptr;    ///< [T] position of each token
    const std::int32_t* tableOffset = nullptr;  ///< [T] start of its sequence's block table
    const std::int32_t* blockTables = nullptr;  ///< all block tables, concatenated
    int blockSize = 0;
    int kvDim = 0;
};

/// Scatters the K and V rows of each token (qkv[t][kOffset..+kvDim), qkv[t][vOffset..+kvDim))
/// into the pools at the token's position, converting to F16.
void launchKvWrite(const float* qkv, int tokenCount, int stride, int kOffset, int vOffset, const PagedKv& kv,
                   cudaStream_t stream);

/// Causal paged attention for a mixed batch: one thread block per (token, head); token t
/// attends to positions [0, positions[t]] of its own sequence (its K/V already written by
/// launchKvWrite), grouped-query: head h reads KV head h / (heads / kvHeads).
/// q = qkv[t][h * headDim ..], out[t][h * headDim ..] (out in `type`, [T][heads * headDim]).
/// Needs headDim even and <= 256.
struct AttentionArgs {
    const float* qkv = nullptr;
    int stride = 0;
    int tokenCount = 0, heads = 0, kvHeads = 0, headDim = 0;
    float scale = 1.0f;
    PagedKv kv;
    void* out = nullptr;
};
void launchPagedAttention(ActType type, const AttentionArgs& args, cudaStream_t stream);
inline constexpr int kMaxHeadDim = 256;

/// dst[i] = src[rows[i]] for i < count (rows of `cols` floats).
void launchGatherRows(const float* src, int cols, const std::int32_t* rows, int count, float* dst,
                      cudaStream_t stream);

/// out[r] = argmax over logits[r][0..cols): ties pick the lowest index, NaN counts as -inf
/// (the engine's Sampler at temperature 0), all-NaN rows give 0.
void launchArgmax(const float* logits, int rows, int cols, std::int32_t* out, cudaStream_t stream);

}  // namespace batchscope::gpu
