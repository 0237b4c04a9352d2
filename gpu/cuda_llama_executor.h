// ModelExecutor for Llama-family GGUF models on one CUDA device.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <optional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/cpu/llama_weights.h"
#include "engine/model/gguf_file.h"
#include "engine/model/model_executor.h"
#include "engine/runtime/executor_factory.h"
#include "gpu/cuda_backend.h"

// No CUDA header here (the device state lives in CudaExecutorState, defined in gpu/cuda_executor_state.h).
namespace batchscope::gpu {

struct CudaExecutorState;

/// Runs a Llama model on the GPU behind the same interface as the CPU runtime, so the
/// scheduler, GUI and API work unchanged. Weights are uploaded once (F16, or BF16 for all-BF16
/// files; see CudaWeights); the KV cache is a device pool of the blocks the engine's KV manager
/// hands out (F16, layout per layer and K/V [numBlocks][blockSize][kvDim]). One step = one
/// pass of kernels and cuBLAS GEMMs on the executor's own stream, one H2D copy of the step's
/// metadata and one synchronisation at the end (sampled tokens / logits back to the host).
/// Greedy requests (temperature 0, no repetition penalty) are sampled on the device; others
/// copy their logits row to the host and use the engine's Sampler (identical semantics).
/// Threading as ModelExecutor: one engine thread calls kv/execute methods (any one thread:
/// each call selects the device); tokenizer()/modelInfo()/maxContextLength() are immutable.
/// Failures of CUDA calls throw CudaError (a std::runtime_error) with file, line and reason.
class CudaLlamaExecutor final : public engine::ModelExecutor {
public:
    /// Uploads the model in `file` to options.deviceIndex. The file is released afterwards
    /// (the weights live on the device). Errors: Unsupported (no usable device, too little
    /// memory, head size > 256 or odd, architecture), InvalidFormat (bad metadata or tensors),
    /// Cancelled. Progress stages: "weights" (reading), "upload".
    static engine::Result<std::unique_ptr<CudaLlamaExecutor>> create(std::unique_ptr<engine::GgufFile> file,
                                                                     const CudaOptions& options = {},
                                                                     const engine::LoadProgress& progress = {},
                                                                     std::stop_token stop = {});
    ~CudaLlamaExecutor() override;

    std::size_t kvBytesPerBlock(std::int32_t blockSize) const override;
    /// The engine sizes its KV pool to at most this (what fits in device memory).
    std::optional<std::int32_t> maxKvBlocks(std::int32_t blockSize) const override { return suggestedKvBlocks(blockSize); }
    /// Allocates (and zeroes) the device pool. Throws std::runtime_error when it does not fit,
    /// naming the sizes and suggestedKvBlocks().
    void configureKvCache(std::int32_t numBlocks, std::int32_t blockSize) override;
    engine::StepResult execute(const engine::ModelBatch& batch) override { return executeWithLogits(batch, nullptr); }
    /// execute() that also returns the logits: one row of vocabSize floats per sequence with
    /// needsNextToken and no error, in batch order (tests and tools; costs a full copy).
    engine::StepResult executeWithLogits(const engine::ModelBatch& batch, std::vector<float>* logits);

    const engine::Tokenizer& tokenizer() const override { return *m_tokenizer; }
    engine::ModelInfo modelInfo() const override { return m_info; }
    std::int32_t maxContextLength() const override { return m_config.contextLength; }

    /// Number of KV blocks of `blockSize` tokens that fit CudaOptions::kvCacheFraction of the
    /// device memory free now (plus the current pool), after CudaOptions::reserveBytes. The
    /// engine should size its KV manager with min(its own limit, this).
    std::int32_t suggestedKvBlocks(std::int32_t blockSize) const;
    const engine::cpu::LlamaConfig& config() const { return m_config; }
    /// "F16" or "BF16": the type of the weights on the device and of the GEMM inputs.
    std::string computeType() const;

private:
    CudaLlamaExecutor();
    std::string checkSequence(const engine::SequenceStep& s) const;

    engine::cpu::LlamaConfig m_config;
    std::unique_ptr<CudaExecutorState> m_state;
    std::unique_ptr<engine::Tokenizer> m_tokenizer;
    engine::ModelInfo m_info;
};

}  // namespace batchscope::gpu
