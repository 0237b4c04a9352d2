// ModelExecutor for Llama-family GGUF models on the CPU.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <atomic>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/cpu/llama_forward.h"
#include "engine/model/cpu/llama_weights.h"
#include "engine/model/gguf_file.h"
#include "engine/model/model_executor.h"
#include "engine/runtime/executor_factory.h"
#include "engine/sampling/sampler.h"

namespace batchscope::engine {

/// Runs a Llama model from a GGUF file held open (weights stay in the mapping: resident memory
/// is about the file size plus the KV pool). Threading as ModelExecutor: one engine thread
/// calls kv/execute methods; tokenizer()/modelInfo()/maxContextLength() are immutable data.
class CpuLlamaExecutor final : public ModelExecutor {
public:
    /// Builds the executor over a parsed file (takes ownership). threads <= 0: hardware
    /// concurrency; isa: kernel level (default cpu::activeCpuIsa()). Errors as
    /// loadCpuLlamaExecutor().
    static Result<std::unique_ptr<CpuLlamaExecutor>> create(std::unique_ptr<GgufFile> file, int threads,
                                                            const LoadProgress& progress = {},
                                                            std::stop_token stop = {},
                                                            std::optional<cpu::CpuIsa> isa = std::nullopt);
    ~CpuLlamaExecutor() override;

    std::size_t kvBytesPerBlock(std::int32_t blockSize) const override;
    void configureKvCache(std::int32_t numBlocks, std::int32_t blockSize) override;
    StepResult execute(const ModelBatch& batch) override;
    /// execute() that also returns the logits: one row of vocabSize floats per sequence with
    /// needsNextToken and no error, in batch order (for tests and tools).
    StepResult executeWithLogits(const ModelBatch& batch, std::vector<float>* logits);

    const Tokenizer& tokenizer() const override { return *m_tokenizer; }
    ModelInfo modelInfo() const override;
    std::int32_t maxContextLength() const override { return m_weights.config.contextLength; }
    std::int32_t kvSlidingWindow() const override {
        return m_weights.config.allLayersLocal() ? m_weights.config.slidingWindow : 0;
    }

    /// KV element type (default F32, exact). Call before configureKvCache(); changing it drops
    /// a configured pool. F16 halves KV memory and traffic at a small accuracy cost.
    void setKvCacheType(cpu::KvType type) { m_forward->setKvType(type); }
    /// setKvCacheType() with KvCacheType::Auto resolved for this model's weights.
    void setKvCacheType(KvCacheType type);

    const cpu::LlamaConfig& config() const { return m_weights.config; }
    cpu::LlamaForward& forwardPass() { return *m_forward; }

private:
    CpuLlamaExecutor() = default;

    std::unique_ptr<GgufFile> m_file;
    cpu::LlamaWeights m_weights;
    std::unique_ptr<cpu::LlamaForward> m_forward;
    std::unique_ptr<Tokenizer> m_tokenizer;
    ModelInfo m_info;  ///< immutable after create(); kvCacheBytes lives in m_kvCacheBytes
    std::atomic<std::uint64_t> m_kvCacheBytes{0};  ///< set by configureKvCache, read by any thread
    Sampler m_sampler;
    std::vector<float> m_logits;
    std::vector<int> m_logitRow;
};

/// Opens `path` and loads it for the CPU. progress gets fractions in [0, 1] with stages
/// "mapping" and "weights"; stop is checked between tensors (ErrorCode::Cancelled). Errors name
/// the file and what was wrong (missing tensor, wrong shape, unsupported type/architecture).
/// kvCache: see KvCacheType (Auto follows the weight type).
Result<std::unique_ptr<ModelExecutor>> loadCpuLlamaExecutor(const std::string& path, int threads,
                                                            const LoadProgress& progress = {},
                                                            std::stop_token stop = {},
                                                            KvCacheType kvCache = KvCacheType::Auto);

}  // namespace batchscope::engine
