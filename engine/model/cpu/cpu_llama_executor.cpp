// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/model/cpu/cpu_llama_executor.h"

#include <filesystem>
#include <thread>

#include "engine/model/cpu/llama_model_common.h"

namespace batchscope::engine {

CpuLlamaExecutor::~CpuLlamaExecutor() = default;

Result<std::unique_ptr<CpuLlamaExecutor>> CpuLlamaExecutor::create(std::unique_ptr<GgufFile> file, int threads,
                                                                   const LoadProgress& progress,
                                                                   std::stop_token stop,
                                                                   std::optional<cpu::CpuIsa> isa) {
    auto config = cpu::llamaConfigFromGguf(*file);
    if (!config) return config.error();
    std::function<void(double)> weightProgress;
    if (progress) weightProgress = [&](double f) { progress(0.05 + 0.95 * f, "weights"); };
    auto weights = cpu::llamaWeightsFromGguf(*file, *config, weightProgress, stop);
    if (!weights) return weights.error();
    auto tok = cpu::llamaTokenizerFromGguf(*file, config->vocabSize);
    if (!tok) return tok.error();
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

    std::unique_ptr<CpuLlamaExecutor> ex(new CpuLlamaExecutor());
    ex->m_file = std::move(file);
    ex->m_weights = std::move(*weights);
    ex->m_tokenizer = std::move(*tok);
    ex->m_forward = std::make_unique<cpu::LlamaForward>(ex->m_weights, threads, isa.value_or(cpu::activeCpuIsa()));
    ex->m_info = cpu::describeLlamaModel(*ex->m_file, ex->m_weights, *ex->m_tokenizer, "cpu", ex->m_weights.weightBytes);
    return ex;
}

std::size_t CpuLlamaExecutor::kvBytesPerBlock(std::int32_t blockSize) const {
    return m_forward->kvBytesPerBlock(blockSize);
}

void CpuLlamaExecutor::configureKvCache(std::int32_t numBlocks, std::int32_t blockSize) {
    m_forward->configureKvCache(numBlocks, blockSize);
    m_kvCacheBytes.store(m_forward->kvCacheBytes(), std::memory_order_release);
}

ModelInfo CpuLlamaExecutor::modelInfo() const {
    ModelInfo info = m_info;
    info.kvCacheBytes = m_kvCacheBytes.load(std::memory_order_acquire);
    info.kvCacheType = m_forward->kvType() == cpu::KvType::F16 ? "F16" : "F32";
    return info;
}

StepResult CpuLlamaExecutor::execute(const ModelBatch& batch) { return executeWithLogits(batch, nullptr); }

StepResult CpuLlamaExecutor::executeWithLogits(const ModelBatch& batch, std::vector<float>* logits) {
    StepResult result;
    const std::size_t n = batch.sequences.size();
    result.nextTokens.assign(n, std::nullopt);
    result.sequenceErrors.assign(n, {});
    if (m_forward->numBlocks() > 0 && batch.blockSize == m_forward->blockSize()) {
        for (std::size_t i = 0; i < n; ++i) result.sequenceErrors[i] = m_forward->checkSequence(batch.sequences[i]);
    }
    m_forward->forward(batch, result.sequenceErrors, m_logits, m_logitRow);
    const auto vocab = static_cast<std::size_t>(m_weights.config.vocabSize);
    for (std::size_t i = 0; i < n; ++i) {
        if (m_logitRow[i] < 0) continue;
        const SequenceStep& s = batch.sequences[i];
        const std::span<const float> row(m_logits.data() + static_cast<std::size_t>(m_logitRow[i]) * vocab, vocab);
        result.nextTokens[i] = m_sampler.sample(row, s.sampling, s.history, s.sampleIndex);
    }
    if (logits) *logits = m_logits;
    return result;
}

void CpuLlamaExecutor::setKvCacheType(KvCacheType type) {
    if (type == KvCacheType::Auto) {
        // The weights that dominate the model: the layers' matrices (norms are always F32).
        const bool f32 = m_weights.layers.empty() || m_weights.layers.front().wq.type == cpu::WeightType::F32;
        type = f32 ? KvCacheType::F32 : KvCacheType::F16;
    }
    setKvCacheType(type == KvCacheType::F16 ? cpu::KvType::F16 : cpu::KvType::F32);
}

Result<std::unique_ptr<ModelExecutor>> loadCpuLlamaExecutor(const std::string& path, int threads,
                                                            const LoadProgress& progress, std::stop_token stop,
                                                            KvCacheType kvCache) {
    if (progress) progress(0.0, "mapping");
    auto file = GgufFile::open(path);
    if (!file) return makeError(file.error().code, path + ": " + file.error().message);
    if (stop.stop_requested()) return makeError(ErrorCode::Cancelled, "model load cancelled");
    auto ex = CpuLlamaExecutor::create(std::move(*file), threads, progress, stop);
    if (!ex) return makeError(ex.error().code, path + ": " + ex.error().message);
    (*ex)->setKvCacheType(kvCache);
    if (progress) progress(1.0, "weights");
    return std::unique_ptr<ModelExecutor>(std::move(*ex));
}

}  // namespace batchscope::engine
