// A model executor without a model, for tests, benchmarks and the no-model demo: faithful in
// cost (step time = a + b·tokens + c·sequences) and reproducible in its tokens.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "engine/model/model_executor.h"
#include "engine/tokenizer/byte_tokenizer.h"

namespace batchscope::engine {

struct SimulatedExecutorConfig {
    double stepOverheadUs = 0;      ///< a: fixed cost per step
    double perTokenUs = 0;          ///< b: cost per token computed in the step
    double perSequenceUs = 0;       ///< c: cost per sequence in the step
    double eosProbability = 0.1;    ///< chance that a sampled token is EOS
    std::uint64_t seed = 42;
    std::int32_t vocabSize = 1024;
    std::int32_t contextLength = 16384;
    std::int64_t kvBytesPerToken = 8192;  ///< reported KV footprint per token
    bool busyWait = false;          ///< spin instead of sleeping (precise sub-ms costs)
};

/// Tokens are a pure function of (seed, request id, sample index), so batching, preemption
/// and recomputation never change what a request generates. Called from the engine thread.
class SimulatedExecutor final : public ModelExecutor {
public:
    explicit SimulatedExecutor(const SimulatedExecutorConfig& config = {});

    std::size_t kvBytesPerBlock(std::int32_t blockSize) const override;
    void configureKvCache(std::int32_t numBlocks, std::int32_t blockSize) override;
    StepResult execute(const ModelBatch& batch) override;
    const Tokenizer& tokenizer() const override { return m_tokenizer; }
    ModelInfo modelInfo() const override;
    std::int32_t maxContextLength() const override { return m_config.contextLength; }

    std::int64_t stepsExecuted() const { return m_steps; }
    std::int64_t tokensComputed() const { return m_tokens; }
    const SimulatedExecutorConfig& config() const { return m_config; }

private:
    SimulatedExecutorConfig m_config;
    ByteTokenizer m_tokenizer;
    std::int32_t m_numBlocks = 0;
    std::int64_t m_steps = 0;
    std::int64_t m_tokens = 0;
};

/// Forwards everything to another executor; the failing wrappers below override execute().
class DelegatingExecutor : public ModelExecutor {
public:
    explicit DelegatingExecutor(ModelExecutor& inner) : m_inner(inner) {}
    std::size_t kvBytesPerBlock(std::int32_t blockSize) const override { return m_inner.kvBytesPerBlock(blockSize); }
    void configureKvCache(std::int32_t n, std::int32_t bs) override { m_inner.configureKvCache(n, bs); }
    StepResult execute(const ModelBatch& batch) override { return m_inner.execute(batch); }
    const Tokenizer& tokenizer() const override { return m_inner.tokenizer(); }
    ModelInfo modelInfo() const override { return m_inner.modelInfo(); }
    std::int32_t maxContextLength() const override { return m_inner.maxContextLength(); }

protected:
    ModelExecutor& m_inner;
};

/// Wraps an executor and throws from the first `failCount` steps (the spec's
/// FailingModelExecutor).
class FailingModelExecutor final : public DelegatingExecutor {
public:
    FailingModelExecutor(std::int32_t failCount, ModelExecutor& inner);
    StepResult execute(const ModelBatch& batch) override;
    std::int32_t failures() const { return m_failures; }

private:
    std::int32_t m_failCount;
    std::int32_t m_failures = 0;
};

/// Wraps an executor and fails the prefill of the sequences a predicate selects (by default
/// every sequence whose prompt contains the byte sequence "FAIL"), reporting the failure for
/// those sequences only (the spec's FailingPrefillHandler).
class FailingPrefillExecutor final : public DelegatingExecutor {
public:
    using Predicate = std::function<bool(const SequenceStep&)>;
    explicit FailingPrefillExecutor(ModelExecutor& inner, Predicate predicate = {});
    StepResult execute(const ModelBatch& batch) override;

private:
    Predicate m_predicate;
};

}  // namespace batchscope::engine
