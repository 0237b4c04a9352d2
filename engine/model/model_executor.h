// The executor interface: runs one scheduler step's batch on a model (CPU, CUDA or simulated).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/sampling_params.h"
#include "engine/model/model_info.h"
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

/// One sequence's share of a step: a prefill chunk or a single decode token.
/// The spans point into scheduler-owned storage and are valid only during execute().
struct SequenceStep {
    RequestId requestId = kInvalidRequestId;
    /// Tokens to compute this step, at positions [startPosition, startPosition + size).
    std::span<const TokenId> tokens;
    /// Tokens already in the KV cache for this sequence (their K/V are in the blocks of
    /// blockTable and must not be recomputed — they may come from the prefix cache).
    std::int32_t startPosition = 0;
    /// Physical block ids; position p lives in block blockTable[p / blockSize], slot p % blockSize.
    /// Covers at least startPosition + tokens.size() positions.
    std::span<const BlockId> blockTable;
    /// True when the last token of this slice is the last known token of the sequence, so the
    /// executor must sample the next token (false for a non-final prefill chunk).
    bool needsNextToken = false;
    /// Sampling settings of the request.
    SamplingParams sampling;
    /// Index of the token to be sampled among the request's generated tokens (0 = first);
    /// with sampling.seed it determines the random draw, so recomputation is reproducible.
    std::int32_t sampleIndex = 0;
    /// All tokens of the sequence so far (prompt + generated), for repetition penalties.
    std::span<const TokenId> history;
};

/// A flat batch of sequences for one step. Prefill chunks and decodes are mixed freely.
struct ModelBatch {
    std::int64_t stepIndex = 0;
    std::int32_t blockSize = 16;  ///< tokens per KV block
    std::vector<SequenceStep> sequences;

    std::int32_t tokenCount() const {
        std::size_t n = 0;
        for (const auto& s : sequences) n += s.tokens.size();
        return static_cast<std::int32_t>(n);
    }
};

/// What a step produced, one entry per sequence of the batch, in batch order.
struct StepResult {
    /// The sampled next token where SequenceStep::needsNextToken was true, else nullopt.
    std::vector<std::optional<TokenId>> nextTokens;
    /// A non-empty message marks that sequence as failed (bad input for this request only);
    /// the others' results are valid. Empty or shorter vector: no failures.
    std::vector<std::string> sequenceErrors;
};

/// Runs the model. The scheduler calls every method from its own engine thread only (one
/// call at a time), except tokenizer()/modelInfo()/maxContextLength(), which must be safe
/// from any thread (they return immutable data).
class ModelExecutor {
public:
    virtual ~ModelExecutor() = default;

    /// Bytes of KV storage one block of `blockSize` tokens takes (all layers, K and V).
    virtual std::size_t kvBytesPerBlock(std::int32_t blockSize) const = 0;
    /// The most blocks of `blockSize` tokens the device can hold (GPU memory); nullopt when
    /// the configured KV memory decides alone (CPU).
    virtual std::optional<std::int32_t> maxKvBlocks(std::int32_t /*blockSize*/) const { return std::nullopt; }
    /// Allocates the KV block pool; called once before the first execute(). Block ids handed
    /// to execute() are in [0, numBlocks).
    virtual void configureKvCache(std::int32_t numBlocks, std::int32_t blockSize) = 0;
    /// Runs one step. Throws std::exception on a failure of the whole step (the scheduler
    /// retries the step's requests, then fails them); per-sequence failures go into
    /// StepResult::sequenceErrors.
    virtual StepResult execute(const ModelBatch& batch) = 0;

    virtual const Tokenizer& tokenizer() const = 0;
    virtual ModelInfo modelInfo() const = 0;
    /// Longest sequence (prompt + generated tokens) the model accepts.
    virtual std::int32_t maxContextLength() const = 0;
    /// > 0 when every layer attends only to this many most recent positions, so the KV
    /// manager may release older blocks (KVCacheConfig::slidingWindow); block tables then
    /// carry KVCacheManager::kReleasedBlock (-1) before the window. 0 for every model with a
    /// global-attention layer.
    virtual std::int32_t kvSlidingWindow() const { return 0; }
};

}  // namespace batchscope::engine
