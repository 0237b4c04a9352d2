// SPDX-License-Identifier: GPL-3.0-or-later
// One scheduler step on the GPU: metadata upload, the layers, final norm, logits, sampling.
#include <cmath>
#include <cstring>

#include "gpu/cuda_check.h"
#include "gpu/cuda_executor_state.h"
#include "gpu/cuda_llama_executor.h"

namespace batchscope::gpu {

using engine::ModelBatch;
using engine::SequenceStep;
using engine::StepResult;

namespace {

/// The step flattened for the device: int32 arrays, concatenated in hostMeta in this order.
struct StepLayout {
    std::vector<std::int32_t> tokens, positions, tableOffset, blockTables, sampleRows;
    std::vector<int> logitRow;     ///< per batch sequence: row among sampleRows, or -1
    std::vector<bool> hostSample;  ///< per sampled row: sampled on the host (not greedy)
    std::vector<bool> copyRow;     ///< per sampled row: logits copied to the host
};

void buildLayout(const ModelBatch& batch, const std::vector<std::string>& errors, std::int32_t blockSize,
                 bool allLogits, StepLayout& L) {
    L.logitRow.assign(batch.sequences.size(), -1);
    for (std::size_t i = 0; i < batch.sequences.size(); ++i) {
        if (!errors[i].empty()) continue;
        const SequenceStep& s = batch.sequences[i];
        const auto end = s.startPosition + static_cast<std::int32_t>(s.tokens.size());
        const auto offset = static_cast<std::int32_t>(L.blockTables.size());
        L.blockTables.insert(L.blockTables.end(), s.blockTable.begin(),
                             s.blockTable.begin() + (end + blockSize - 1) / blockSize);
        for (std::size_t j = 0; j < s.tokens.size(); ++j) {
            L.tokens.push_back(s.tokens[j]);
            L.positions.push_back(s.startPosition + static_cast<std::int32_t>(j));
            L.tableOffset.push_back(offset);
        }
        if (!s.needsNextToken) continue;
        L.logitRow[i] = static_cast<int>(L.sampleRows.size());
        L.sampleRows.push_back(static_cast<std::int32_t>(L.tokens.size() - 1));
        const bool greedy = s.sampling.temperature <= 0.0f && s.sampling.repetitionPenalty == 1.0f;
        L.hostSample.push_back(!greedy);
        L.copyRow.push_back(allLogits || !greedy);
    }
}

/// Device pointers of the step's buffers (carved from the scratch buffers).
struct StepBuffers {
    const std::int32_t *tokens, *positions, *tableOffset, *blockTables, *sampleRows;
    float *x, *qkv, *gateUp, *xr, *logits;
    void *xn, *att, *act, *xrn;
    std::int32_t* argmax;
};

StepBuffers layoutBuffers(CudaExecutorState& st, const StepLayout& L) {
    const auto& c = st.weights.config;
    const std::size_t T = L.tokens.size(), R = L.sampleRows.size();
    const std::size_t dim = static_cast<std::size_t>(c.dim), kv = static_cast<std::size_t>(c.kvDim());
    const std::size_t ffn = static_cast<std::size_t>(c.ffnDim), vocab = static_cast<std::size_t>(c.vocabSize);
    StepBuffers b{};
    // Metadata: one pinned staging area, one device copy.
    const std::vector<std::int32_t>* parts[] = {&L.tokens, &L.positions, &L.tableOffset, &L.blockTables, &L.sampleRows};
    std::size_t metaBytes = 0;
    for (const auto* p : parts) metaBytes += alignUp(p->size() * 4);
    st.hostMeta.reserve(metaBytes);
    st.meta.reserve(metaBytes);
    const std::int32_t** dst[] = {&b.tokens, &b.positions, &b.tableOffset, &b.blockTables, &b.sampleRows};
    std::size_t off = 0;
    for (std::size_t i = 0; i < 5; ++i) {
        if (!parts[i]->empty()) std::memcpy(st.hostMeta.as<char>(off), parts[i]->data(), parts[i]->size() * 4);
        *dst[i] = st.meta.as<std::int32_t>(off);
        off += alignUp(parts[i]->size() * 4);
    }
    // Per-token activations: F32 residual and GEMM outputs, 2-byte GEMM inputs.
    const std::size_t sizes[] = {T * dim * 4, T * (dim + 2 * kv) * 4, T * 2 * ffn * 4, T * dim * 2, T * dim * 2, T * ffn * 2};
    std::size_t total = 0;
    for (std::size_t s : sizes) total += alignUp(s);
    st.tokenScratch.reserve(total);
    char* p = st.tokenScratch.as<char>();
    void* ptrs[6];
    for (std::size_t i = 0; i < 6; ++i) {
        ptrs[i] = p;
        p += alignUp(sizes[i]);
    }
    b.x = static_cast<float*>(ptrs[0]), b.qkv = static_cast<float*>(ptrs[1]), b.gateUp = static_cast<float*>(ptrs[2]);
    b.xn = ptrs[3], b.att = ptrs[4], b.act = ptrs[5];
    // Per sampled row.
    const std::size_t rowSizes[] = {R * dim * 4, R * dim * 2, R * vocab * 4, R * 4};
    total = 0;
    for (std::size_t s : rowSizes) total += alignUp(s);
    st.rowScratch.reserve(total);
    p = st.rowScratch.as<char>();
    b.xr = reinterpret_cast<float*>(p);
    b.xrn = p += alignUp(rowSizes[0]);
    b.logits = reinterpret_cast<float*>(p += alignUp(rowSizes[1]));
    b.argmax = reinterpret_cast<std::int32_t*>(p += alignUp(rowSizes[2]));
    CUDA_CHECK(cudaMemcpyAsync(st.meta.get(), st.hostMeta.as<void>(), metaBytes, cudaMemcpyHostToDevice, st.stream));
    return b;
}

/// Y[T x N] (F32) = X[T x K] * W[N x K]^T + beta * Y, inputs in the weights' type.
void gemm(CudaExecutorState& st, const void* w, int n, int k, const void* x, int t, float* y, float beta) {
    const float alpha = 1.0f;
    const cudaDataType type = st.weights.type == ActType::BF16 ? CUDA_R_16BF : CUDA_R_16F;
    CUBLAS_CHECK(cublasGemmEx(st.cublas, CUBLAS_OP_T, CUBLAS_OP_N, n, t, k, &alpha, w, type, k, x, type, k, &beta, y,
                              CUDA_R_32F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
}

void layerForward(CudaExecutorState& st, int layer, const StepBuffers& b, int T) {
    const auto& c = st.weights.config;
    const CudaLayerWeights& w = st.weights.layers[static_cast<std::size_t>(layer)];
    const ActType type = st.weights.type;
    const int stride = c.dim + 2 * c.kvDim();
    launchRmsNorm(type, b.x, T, c.dim, w.attnNorm, c.normEps, b.xn, st.stream);
    gemm(st, w.qkv, stride, c.dim, b.xn, T, b.qkv, 0.0f);
    launchRope(b.qkv, T, stride, c.heads + c.kvHeads, c.headDim, c.ropeDim, c.ropeBase, b.positions, st.stream);
    PagedKv kv;
    kv.k = st.kvPoolOf(layer, 0);
    kv.v = st.kvPoolOf(layer, 1);
    kv.positions = b.positions;
    kv.tableOffset = b.tableOffset;
    kv.blockTables = b.blockTables;
    kv.blockSize = st.blockSize;
    kv.kvDim = c.kvDim();
    launchKvWrite(b.qkv, T, stride, c.dim, c.dim + c.kvDim(), kv, st.stream);
    AttentionArgs a;
    a.qkv = b.qkv;
    a.stride = stride;
    a.tokenCount = T;
    a.heads = c.heads;
    a.kvHeads = c.kvHeads;
    a.headDim = c.headDim;
    a.scale = 1.0f / std::sqrt(static_cast<float>(c.headDim));
    a.kv = kv;
    a.out = b.att;
    launchPagedAttention(type, a, st.stream);
    gemm(st, w.wo, c.dim, c.dim, b.att, T, b.x, 1.0f);  // residual add in the GEMM (beta = 1)
    launchRmsNorm(type, b.x, T, c.dim, w.ffnNorm, c.normEps, b.xn, st.stream);
    gemm(st, w.gateUp, 2 * c.ffnDim, c.dim, b.xn, T, b.gateUp, 0.0f);
    launchSwiglu(type, b.gateUp, T, c.ffnDim, b.act, st.stream);
    gemm(st, w.down, c.dim, c.ffnDim, b.act, T, b.x, 1.0f);
}

}  // namespace

StepResult CudaLlamaExecutor::executeWithLogits(const ModelBatch& batch, std::vector<float>* logits) {
    CudaExecutorState& st = *m_state;
    if (st.numBlocks == 0) throw std::runtime_error("KV cache not configured");
    if (batch.blockSize != st.blockSize)
        throw std::runtime_error("batch block size " + std::to_string(batch.blockSize) +
                                 " differs from the KV cache's " + std::to_string(st.blockSize));
    const std::size_t n = batch.sequences.size();
    StepResult result;
    result.nextTokens.assign(n, std::nullopt);
    result.sequenceErrors.assign(n, {});
    for (std::size_t i = 0; i < n; ++i) result.sequenceErrors[i] = checkSequence(batch.sequences[i]);
    if (logits) logits->clear();
    StepLayout L;
    buildLayout(batch, result.sequenceErrors, st.blockSize, logits != nullptr, L);
    if (L.tokens.empty()) return result;

    CUDA_CHECK(cudaSetDevice(st.options.deviceIndex));
    // Normally idle already; after a step that threw, its queued work may still read the pinned
    // staging buffers this step is about to overwrite.
    CUDA_CHECK(cudaStreamSynchronize(st.stream));
    const auto& c = m_config;
    const StepBuffers b = layoutBuffers(st, L);
    const int T = static_cast<int>(L.tokens.size()), R = static_cast<int>(L.sampleRows.size());
    launchEmbedding(st.weights.type, st.weights.embedding, b.tokens, T, c.dim, b.x, st.stream);
    for (int l = 0; l < c.layers; ++l) layerForward(st, l, b, T);
    if (R == 0) {
        CUDA_CHECK(cudaStreamSynchronize(st.stream));  // the KV writes must finish within the step
        return result;
    }
    launchGatherRows(b.x, c.dim, b.sampleRows, R, b.xr, st.stream);
    launchRmsNorm(st.weights.type, b.xr, R, c.dim, st.weights.outputNorm, c.normEps, b.xrn, st.stream);
    gemm(st, st.weights.output, c.vocabSize, c.dim, b.xrn, R, b.logits, 0.0f);
    launchArgmax(b.logits, R, c.vocabSize, b.argmax, st.stream);

    // Back to the host: all argmax ids, and the logits rows sampled on the host.
    const std::size_t vocab = static_cast<std::size_t>(c.vocabSize);
    std::size_t hostRows = 0;
    for (bool h : L.copyRow) hostRows += h ? 1 : 0;
    st.hostOut.reserve(alignUp(static_cast<std::size_t>(R) * 4) + hostRows * vocab * 4);
    CUDA_CHECK(cudaMemcpyAsync(st.hostOut.as<void>(), b.argmax, static_cast<std::size_t>(R) * 4,
                               cudaMemcpyDeviceToHost, st.stream));
    float* hostLogits = st.hostOut.as<float>(alignUp(static_cast<std::size_t>(R) * 4));
    std::vector<std::size_t> hostRowOf(static_cast<std::size_t>(R), 0);
    for (std::size_t r = 0, h = 0; r < static_cast<std::size_t>(R); ++r) {
        if (!L.copyRow[r]) continue;
        hostRowOf[r] = h;
        CUDA_CHECK(cudaMemcpyAsync(hostLogits + h++ * vocab, b.logits + r * vocab, vocab * 4, cudaMemcpyDeviceToHost,
                                   st.stream));
    }
    CUDA_CHECK(cudaStreamSynchronize(st.stream));

    const auto* ids = st.hostOut.as<std::int32_t>();
    if (logits) logits->assign(hostLogits, hostLogits + static_cast<std::size_t>(R) * vocab);
    for (std::size_t i = 0; i < n; ++i) {
        const int r = L.logitRow[i];
        if (r < 0) continue;
        const SequenceStep& s = batch.sequences[i];
        if (!L.hostSample[static_cast<std::size_t>(r)]) {
            result.nextTokens[i] = ids[r];
            continue;
        }
        const std::span<const float> row(hostLogits + hostRowOf[static_cast<std::size_t>(r)] * vocab, vocab);
        result.nextTokens[i] = st.sampler.sample(row, s.sampling, s.history, s.sampleIndex);
    }
    return result;
}

}  // namespace batchscope::gpu
