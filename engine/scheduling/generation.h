// What a client asks for and what it gets back: generation options, results, stream events.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/sampling_params.h"
#include "engine/core/types.h"

namespace batchscope::engine {

/// Options of one generation request. Plain value.
struct GenerationOptions {
    std::int32_t maxTokens = 32;          ///< generated tokens at most (>= 1)
    Priority priority = Priority::Normal;
    SamplingParams sampling;
    std::vector<std::string> stopStrings;  ///< matched on decoded text; not part of the output
    /// Deadline measured from submission; a request still unfinished then ends with Timeout.
    std::optional<std::chrono::milliseconds> timeout;
    bool ignoreEos = false;                ///< keep generating past EOS (benchmarks)
    bool addBos = true;                    ///< prepend BOS when the vocabulary has one
    std::stop_token stopToken;             ///< cancellation from the caller's side
    /// Who sent it (API session, CLI, replay): a free-text label kept in recorded traces.
    std::string client;
};

/// Token counts of a finished request.
struct Usage {
    std::int32_t promptTokens = 0;
    std::int32_t completionTokens = 0;
    std::int32_t cachedPromptTokens = 0;  ///< prompt tokens served from the prefix cache
};

/// Timings of a finished request, in milliseconds from its submission.
struct Timings {
    double queueMs = 0;            ///< submission -> first scheduled
    double timeToFirstTokenMs = 0; ///< submission -> first generated token (0 if none)
    double totalMs = 0;            ///< submission -> finish
    double tokensPerSecond = 0;    ///< completion tokens / (finish - first token); 0 if < 2 tokens
};

struct GenerationResult {
    RequestId id = kInvalidRequestId;
    std::string text;              ///< decoded completion, stop string excluded
    std::vector<TokenId> tokens;   ///< generated token ids (all of them, EOS included if produced)
    FinishReason finishReason = FinishReason::None;
    std::string errorMessage;      ///< set when finishReason is Error
    Usage usage;
    Timings timings;
};

/// One streamed token. textDelta may be empty (an incomplete UTF-8 character, or text held
/// back while it could still become a stop string); it is released with a later token.
struct TokenEvent {
    RequestId id = kInvalidRequestId;
    TokenId token = 0;
    std::int32_t index = 0;  ///< 0-based index among the generated tokens
    std::string textDelta;
};

/// Callbacks of one request. They run on the engine thread: they must return quickly, must
/// not block, and must not call back into the scheduler synchronously.
struct RequestCallbacks {
    std::function<void(const TokenEvent&)> onToken;
    std::function<void(const GenerationResult&)> onFinished;  ///< called exactly once
};

}  // namespace batchscope::engine
