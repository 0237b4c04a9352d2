// The scheduler's per-request state. Internal to the engine (not an API type).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/types.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"
#include "engine/tokenizer/incremental_detokenizer.h"

namespace batchscope::engine {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

/// One request as the scheduler tracks it.
/// Invariants: promptLength <= tokens.size(); numComputed <= tokens.size();
/// generated tokens = tokens.size() - promptLength (the original prompt length, kept across
/// preemption, which recomputes every token). Threading: created on the submitting thread,
/// then read and written only by the engine thread under the scheduler's state lock.
struct Sequence {
    RequestId id = kInvalidRequestId;
    std::uint64_t arrivalOrder = 0;       ///< FIFO tie-break, increasing with submission
    Priority priority = Priority::Normal;
    RequestState state = RequestState::Queued;
    WaitReason waitReason = WaitReason::None;

    std::vector<TokenId> tokens;          ///< prompt followed by generated tokens
    std::int32_t promptLength = 0;
    std::int32_t numComputed = 0;         ///< tokens whose K/V are in the cache
    std::int32_t cachedPromptTokens = 0;  ///< prefix-cache hits at the first admission
    std::int32_t maxLength = 0;           ///< prompt + generated tokens at most

    GenerationOptions options;
    RequestCallbacks callbacks;
    IncrementalDetokenizer detokenizer;   ///< decoded text, stop-string hold-back
    std::string promptPreview;

    TimePoint arrival{};
    std::optional<TimePoint> deadline;
    std::optional<TimePoint> firstScheduled;
    std::optional<TimePoint> firstToken;
    std::optional<TimePoint> finishedAt;
    std::int32_t stepFailures = 0;
    std::int32_t preemptions = 0;
    FinishReason finishReason = FinishReason::None;
    std::string errorMessage;
    std::vector<RequestEvent> events;     ///< bounded timeline
    /// Cancels the request when options.stopToken is triggered; reset when it finishes.
    std::unique_ptr<std::stop_callback<std::function<void()>>> stopCallback;

    std::int32_t generatedCount() const { return std::int32_t(tokens.size()) - promptLength; }
    bool prefillDone() const { return numComputed >= std::int32_t(tokens.size()) - 1 && numComputed > 0; }
    /// Tokens still to compute before the next token can be sampled.
    std::int32_t pendingTokens() const { return std::int32_t(tokens.size()) - numComputed; }
};

using SequencePtr = std::shared_ptr<Sequence>;

}  // namespace batchscope::engine
