// SPDX-License-Identifier: GPL-3.0-or-later
// Loading, KV cache and description of the CUDA executor (the step is in cuda_step.cpp).
#include "gpu/cuda_llama_executor.h"

#include <algorithm>
#include <filesystem>

#include "engine/model/cpu/llama_model_common.h"
#include "gpu/cuda_check.h"
#include "gpu/cuda_executor_state.h"

namespace batchscope::gpu {

using engine::ErrorCode;
using engine::makeError;

namespace {

std::string mib(std::size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

CudaLlamaExecutor::CudaLlamaExecutor() : m_state(std::make_unique<CudaExecutorState>()) {}

CudaLlamaExecutor::~CudaLlamaExecutor() {
    if (m_state) (void)cudaSetDevice(m_state->options.deviceIndex);
}

engine::Result<std::unique_ptr<CudaLlamaExecutor>> CudaLlamaExecutor::create(std::unique_ptr<engine::GgufFile> file,
                                                                             const CudaOptions& options,
                                                                             const engine::LoadProgress& progress,
                                                                             std::stop_token stop) {
    const CudaAvailability avail = probeCuda(options.deviceIndex, options.reserveBytes);
    if (!avail.usable) return makeError(ErrorCode::Unsupported, "CUDA backend unavailable: " + avail.reason);
    auto config = engine::cpu::llamaConfigFromGguf(*file);
    if (!config) return config.error();
    // The CUDA kernels implement the plain llama graph only (no biases, Q/K norms, fused
    // projections, NEOX rope, sliding windows, soft-capping or rope factors).
    if (config->arch != engine::cpu::ModelArch::Llama)
        return makeError(ErrorCode::Unsupported, "the CUDA backend runs only 'llama' models; '" +
                                                     std::string(engine::cpu::modelArchName(config->arch)) +
                                                     "' needs the CPU backend (--device cpu)");
    if (file->findTensor("rope_freqs.weight") || config->ropePositionScale != 1.0f)
        return makeError(ErrorCode::Unsupported, "the CUDA backend does not implement rope frequency factors or "
                                                 "rope scaling (rope_freqs.weight, llama.rope.scaling.*); use --device cpu");
    if (config->qDim() != config->dim)
        return makeError(ErrorCode::Unsupported, "the CUDA backend needs head_count * key_length == embedding_length; use --device cpu");
    if (config->headDim % 2 != 0 || config->headDim > kMaxHeadDim)
        return makeError(ErrorCode::Unsupported, "the CUDA backend needs an even head size <= " +
                                                     std::to_string(kMaxHeadDim) + ", the model has " +
                                                     std::to_string(config->headDim));
    std::function<void(double)> readProgress, uploadProgress;
    if (progress) {
        readProgress = [&](double f) { progress(0.05 + 0.25 * f, "weights"); };
        uploadProgress = [&](double f) { progress(0.30 + 0.70 * f, "upload"); };
    }
    auto weights = engine::cpu::llamaWeightsFromGguf(*file, *config, readProgress, stop);
    if (!weights) return weights.error();
    auto tok = engine::cpu::llamaTokenizerFromGguf(*file, config->vocabSize);
    if (!tok) return tok.error();

    std::unique_ptr<CudaLlamaExecutor> ex(new CudaLlamaExecutor());
    CudaExecutorState& st = *ex->m_state;
    st.options = options;
    try {
        CUDA_CHECK(cudaSetDevice(options.deviceIndex));
        CUDA_CHECK(cudaStreamCreateWithFlags(&st.stream, cudaStreamNonBlocking));
        CUBLAS_CHECK(cublasCreate(&st.cublas));
        CUBLAS_CHECK(cublasSetStream(st.cublas, st.stream));
        auto uploaded = uploadLlamaWeights(*weights, options.reserveBytes, uploadProgress, stop);
        if (!uploaded) return uploaded.error();
        st.weights = std::move(*uploaded);
    } catch (const CudaError& e) {
        return makeError(ErrorCode::Internal, std::string("CUDA failure while loading: ") + e.what());
    }
    ex->m_config = *config;
    ex->m_tokenizer = std::move(*tok);
    ex->m_info = engine::cpu::describeLlamaModel(*file, *weights, *ex->m_tokenizer, "cuda", st.weights.deviceBytes);
    return ex;  // `file` (the mapping) is released here: the weights live on the device
}

std::string CudaLlamaExecutor::computeType() const {
    return m_state->weights.type == ActType::BF16 ? "BF16" : "F16";
}

std::size_t CudaLlamaExecutor::kvBytesPerBlock(std::int32_t blockSize) const {
    return static_cast<std::size_t>(m_config.layers) * 2 * static_cast<std::size_t>(std::max(blockSize, 0)) *
           static_cast<std::size_t>(m_config.kvDim()) * sizeof(std::uint16_t);
}

std::int32_t CudaLlamaExecutor::suggestedKvBlocks(std::int32_t blockSize) const {
    const std::size_t perBlock = kvBytesPerBlock(blockSize);
    if (perBlock == 0) return 0;
    CUDA_CHECK(cudaSetDevice(m_state->options.deviceIndex));
    std::size_t freeBytes = 0, totalBytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&freeBytes, &totalBytes));
    freeBytes += m_state->kvPool.size();
    if (freeBytes <= m_state->options.reserveBytes) return 0;
    const double usable = static_cast<double>(freeBytes - m_state->options.reserveBytes) *
                          std::clamp(m_state->options.kvCacheFraction, 0.0, 1.0);
    return static_cast<std::int32_t>(std::min(usable / static_cast<double>(perBlock), 2.0e9));
}

void CudaLlamaExecutor::configureKvCache(std::int32_t numBlocks, std::int32_t blockSize) {
    if (numBlocks <= 0 || blockSize <= 0) throw std::invalid_argument("KV cache needs numBlocks > 0 and blockSize > 0");
    CudaExecutorState& st = *m_state;
    CUDA_CHECK(cudaSetDevice(st.options.deviceIndex));
    CUDA_CHECK(cudaStreamSynchronize(st.stream));
    st.kvPool = DeviceBuffer();
    st.numBlocks = st.blockSize = 0;
    m_info.kvCacheBytes = 0;
    const std::size_t bytes = kvBytesPerBlock(blockSize) * static_cast<std::size_t>(numBlocks);
    try {
        st.kvPool = DeviceBuffer(bytes);
    } catch (const CudaError& e) {
        throw std::runtime_error("KV cache of " + std::to_string(numBlocks) + " blocks (" + mib(bytes) +
                                 ") does not fit on the device: " + e.what() + "; at most " +
                                 std::to_string(suggestedKvBlocks(blockSize)) + " blocks are suggested");
    }
    CUDA_CHECK(cudaMemsetAsync(st.kvPool.get(), 0, bytes, st.stream));
    CUDA_CHECK(cudaStreamSynchronize(st.stream));
    st.numBlocks = numBlocks;
    st.blockSize = blockSize;
    m_info.kvCacheBytes = bytes;
}

std::string CudaLlamaExecutor::checkSequence(const engine::SequenceStep& s) const {
    return engine::cpu::checkLlamaSequenceStep(m_config, s, m_state->blockSize, m_state->numBlocks);
}

engine::Result<std::unique_ptr<engine::ModelExecutor>> loadCudaLlamaExecutor(const std::string& path,
                                                                            const CudaOptions& options,
                                                                            const engine::LoadProgress& progress,
                                                                            std::stop_token stop) {
    const CudaAvailability avail = probeCuda(options.deviceIndex, options.reserveBytes);
    if (!avail.usable) return makeError(ErrorCode::Unsupported, "CUDA backend unavailable: " + avail.reason);
    if (progress) progress(0.0, "mapping");
    auto file = engine::GgufFile::open(path);
    if (!file) return makeError(file.error().code, path + ": " + file.error().message);
    if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "model load cancelled");
    auto ex = CudaLlamaExecutor::create(std::move(*file), options, progress, stop);
    if (!ex) return makeError(ex.error().code, path + ": " + ex.error().message);
    if (progress) progress(1.0, "upload");
    return std::unique_ptr<engine::ModelExecutor>(std::move(*ex));
}

}  // namespace batchscope::gpu
