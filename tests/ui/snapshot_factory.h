// Hand-made scheduler snapshots for the UI tests.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>

#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::tests {

inline engine::RequestSnapshot makeRequest(engine::RequestId id, engine::RequestState state,
                                           engine::Priority priority = engine::Priority::Normal,
                                           std::int32_t generated = 0) {
    engine::RequestSnapshot r;
    r.id = id;
    r.state = state;
    r.priority = priority;
    r.promptPreview = "prompt number " + std::to_string(id);
    r.promptTokens = 10 + std::int32_t(id);
    r.generatedTokens = generated;
    r.maxTokens = 64;
    r.queueMs = double(id);
    r.arrivalMs = double(id) * 10;
    if (state == engine::RequestState::Finished) r.finishReason = engine::FinishReason::MaxTokens;
    if (state == engine::RequestState::Cancelled) r.finishReason = engine::FinishReason::Cancelled;
    if (state == engine::RequestState::Queued) {
        r.waitReason = engine::WaitReason::NoKvBlocks;
        r.waitDetail.kvBlocksNeeded = 3;
        r.waitDetail.kvBlocksFree = 1;
        r.waitDetail.kvBlocksReclaimable = 0;
    }
    return r;
}

inline engine::StepRecord makeStep(std::int64_t index, std::int32_t prefill, std::int32_t decode) {
    engine::StepRecord s;
    s.index = index;
    s.startMs = double(index) * 5;
    s.durationMs = 4;
    s.prefillTokens = prefill;
    s.decodeTokens = decode;
    s.tokenBudget = 512;
    s.maxBatchSize = 32;
    if (prefill > 0) s.entries.push_back({1, prefill, 0});
    for (std::int32_t i = 0; i < decode; ++i) s.entries.push_back({engine::RequestId(100 + i), 0, 1});
    return s;
}

}  // namespace batchscope::tests
