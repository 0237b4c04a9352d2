// Small value types that cross every boundary: priorities, finish reasons, request states.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace batchscope::engine {

/// Scheduling priority. Values are sent over the API and persisted: do not renumber.
enum class Priority : std::uint8_t { Low = 0, Normal = 1, High = 2, Critical = 3 };
inline constexpr int kPriorityCount = 4;

/// Why a request finished. Values are sent over the API: do not renumber.
enum class FinishReason : std::uint8_t {
    None = 0,        ///< not finished
    Eos = 1,         ///< the model produced an end-of-sequence token
    MaxTokens = 2,   ///< generated exactly maxTokens tokens
    StopString = 3,  ///< the decoded text reached a stop string (not included in the output)
    MaxLength = 4,   ///< prompt + generated tokens reached the sequence limit
    Cancelled = 5,   ///< cancelled by the client, a disconnect, or scheduler shutdown
    Timeout = 6,     ///< the request's deadline passed
    Error = 7,       ///< the model failed on this request (message says why)
};

/// Life-cycle state of a request, as shown in the UI and the API.
enum class RequestState : std::uint8_t {
    Queued = 0,      ///< waiting in the request queue, never scheduled
    Prefilling = 1,  ///< running, prompt not yet fully computed
    Decoding = 2,    ///< running, generating tokens
    Preempted = 3,   ///< was running, blocks freed, waiting to be recomputed
    Finished = 4,    ///< finished normally (Eos, MaxTokens, StopString, MaxLength)
    Cancelled = 5,
    Failed = 6,
    TimedOut = 7,
};

/// Why a waiting request was not admitted in the last step (docs/scheduling.md, "Waiting
/// reasons"). Sent over the API by name (waitReasonName).
enum class WaitReason : std::uint8_t {
    None = 0,
    NoKvBlocks = 1,     ///< not enough KV blocks for it (WaitDetail: needed, free, reclaimable)
    TokenBudget = 2,    ///< the step's token budget was spent
    BatchFull = 3,      ///< maxBatchSize sequences already running (or a static batch is)
    BehindRequests = 4, ///< queued behind WaitDetail::ahead requests that go first
    Paused = 5,         ///< the scheduler is paused
    WaitingForBatch = 6,///< minBatchSize: briefly waiting for company
    Preempted = 7,      ///< was running, preempted, waiting to resume (recompute)
};

/// The numbers behind a WaitReason. Which fields are set depends on the reason:
/// BehindRequests: ahead. NoKvBlocks: kvBlocks*. BatchFull: have = running, limit =
/// maxBatchSize. TokenBudget: have = tokens scheduled this step, limit = the budget.
/// WaitingForBatch: have = queued, limit = minBatchSize. Blocks are KV blocks; counts are
/// requests or tokens as stated.
struct WaitDetail {
    std::int32_t ahead = 0;
    std::int32_t kvBlocksNeeded = 0;
    std::int32_t kvBlocksFree = 0;         ///< empty blocks it may take now
    std::int32_t kvBlocksReclaimable = 0;  ///< cached prefix blocks that may be evicted for it
    std::int32_t have = 0;
    std::int32_t limit = 0;
    bool operator==(const WaitDetail&) const = default;
};

/// KV memory policy: Preempt admits optimistically and preempts on exhaustion (vLLM);
/// Reserve admits only when blocks for prompt + maxTokens are free and never preempts.
enum class MemoryPolicy : std::uint8_t { Preempt = 0, Reserve = 1 };

/// Queue order: strict priority then FIFO, optionally with aging; or pure arrival order.
enum class QueuePolicy : std::uint8_t { Priority = 0, Fcfs = 1 };

std::string_view priorityName(Priority p);
std::optional<Priority> parsePriority(std::string_view name);
std::string_view finishReasonName(FinishReason r);
std::string_view requestStateName(RequestState s);
std::string_view waitReasonName(WaitReason r);
bool isTerminal(RequestState s);
RequestState terminalStateFor(FinishReason r);

}  // namespace batchscope::engine
