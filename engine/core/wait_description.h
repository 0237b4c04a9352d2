// A waiting reason as a sentence for people (GUI request table, API `wait_text`). Header-only:
// ui/ uses it and links no engine library.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>

#include "engine/core/types.h"

namespace batchscope::engine {

/// "KV memory: needs 3 blocks, 1 free, 0 reclaimable from the prefix cache", "behind 4
/// requests that go first", ...; empty for None. Pure; any thread.
inline std::string describeWait(WaitReason r, const WaitDetail& d) {
    const auto n = [](std::int32_t v) { return std::to_string(v); };
    const auto plural = [](std::int32_t v, const char* one, const char* many) { return v == 1 ? one : many; };
    // Running requests that sat out a step carry a reason without numbers: no parenthesis then.
    const auto ofLimit = [&](const char* unit) {
        return d.limit > 0 ? " (" + n(d.have) + " of " + n(d.limit) + " " + unit + ")" : std::string();
    };
    switch (r) {
    case WaitReason::None: return "";
    case WaitReason::NoKvBlocks:
        if (d.kvBlocksNeeded == 0) return "KV memory: no free blocks";
        return "KV memory: needs " + n(d.kvBlocksNeeded) + plural(d.kvBlocksNeeded, " block, ", " blocks, ") +
               n(d.kvBlocksFree) + " free, " + n(d.kvBlocksReclaimable) + " reclaimable from the prefix cache";
    case WaitReason::TokenBudget: return "token budget of the step used up" + ofLimit("tokens");
    case WaitReason::BatchFull: return "max batch size reached" + ofLimit("running");
    case WaitReason::BehindRequests:
        return "behind " + n(d.ahead) + plural(d.ahead, " request that goes first", " requests that go first");
    case WaitReason::Paused: return "scheduler paused";
    case WaitReason::WaitingForBatch: return "waiting for the minimum batch" + ofLimit("queued");
    case WaitReason::Preempted: return "preempted, waiting to resume";
    }
    return "";
}

}  // namespace batchscope::engine
