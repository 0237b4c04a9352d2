// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/core/types.h"

namespace batchscope::engine {

std::string_view priorityName(Priority p) {
    switch (p) {
    case Priority::Low: return "low";
    case Priority::Normal: return "normal";
    case Priority::High: return "high";
    case Priority::Critical: return "critical";
    }
    return "normal";
}

std::optional<Priority> parsePriority(std::string_view name) {
    for (int i = 0; i < kPriorityCount; ++i) {
        auto p = static_cast<Priority>(i);
        if (priorityName(p) == name) return p;
    }
    return std::nullopt;
}

std::string_view finishReasonName(FinishReason r) {
    switch (r) {
    case FinishReason::None: return "none";
    case FinishReason::Eos: return "eos";
    case FinishReason::MaxTokens: return "max_tokens";
    case FinishReason::StopString: return "stop_string";
    case FinishReason::MaxLength: return "max_length";
    case FinishReason::Cancelled: return "cancelled";
    case FinishReason::Timeout: return "timeout";
    case FinishReason::Error: return "error";
    }
    return "none";
}

std::string_view requestStateName(RequestState s) {
    switch (s) {
    case RequestState::Queued: return "queued";
    case RequestState::Prefilling: return "prefilling";
    case RequestState::Decoding: return "decoding";
    case RequestState::Preempted: return "preempted";
    case RequestState::Finished: return "finished";
    case RequestState::Cancelled: return "cancelled";
    case RequestState::Failed: return "failed";
    case RequestState::TimedOut: return "timed_out";
    }
    return "queued";
}

std::string_view waitReasonName(WaitReason r) {
    switch (r) {
    case WaitReason::None: return "";
    case WaitReason::NoKvBlocks: return "no_kv_blocks";
    case WaitReason::TokenBudget: return "token_budget";
    case WaitReason::BatchFull: return "batch_full";
    case WaitReason::BehindRequests: return "behind_requests";
    case WaitReason::Paused: return "paused";
    case WaitReason::WaitingForBatch: return "waiting_for_batch";
    case WaitReason::Preempted: return "preempted";
    }
    return "";
}

bool isTerminal(RequestState s) {
    return s == RequestState::Finished || s == RequestState::Cancelled ||
           s == RequestState::Failed || s == RequestState::TimedOut;
}

RequestState terminalStateFor(FinishReason r) {
    switch (r) {
    case FinishReason::Cancelled: return RequestState::Cancelled;
    case FinishReason::Timeout: return RequestState::TimedOut;
    case FinishReason::Error: return RequestState::Failed;
    default: return RequestState::Finished;
    }
}

}  // namespace batchscope::engine
