// Per-request sampling parameters, carried with every step so the executor can sample.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

namespace batchscope::engine {

/// Sampling settings. temperature == 0 means greedy (argmax). The random stream of a request
/// is a pure function of (seed, index of the generated token), so a preempted and recomputed
/// request samples the same tokens again.
struct SamplingParams {
    float temperature = 0.8f;        ///< > 0 scales logits; 0 selects argmax
    float topP = 0.95f;              ///< nucleus mass in (0, 1]; 1 disables
    std::int32_t topK = 40;          ///< keep the k most likely tokens; 0 disables
    float minP = 0.0f;               ///< drop tokens below minP * p(max); 0 disables
    float repetitionPenalty = 1.0f;  ///< > 1 penalises tokens already in the sequence; 1 disables
    std::uint64_t seed = 0;          ///< random seed of this request
};

}  // namespace batchscope::engine
