// Next-token sampling from a row of logits: penalties, temperature, top-k, top-p, min-p.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "engine/core/ids.h"
#include "engine/core/sampling_params.h"

namespace batchscope::engine {

/// splitmix64 finaliser applied to x + golden ratio (the first output of a splitmix64 stream
/// whose state is x).
std::uint64_t splitmix64(std::uint64_t x);

/// The uniform draw in [0, 1) for the `index`-th sampled token of a request with `seed`:
/// counter-based, so a recomputed request draws the same numbers (53 random bits).
double samplingUniform(std::uint64_t seed, std::int32_t index);

/// Picks tokens. Order of the pipeline (documented in docs/cpu-runtime.md):
///  1. repetition penalty over the distinct tokens of `history` (CTRL style: a positive logit
///     is divided by the penalty, a negative one multiplied);
///  2. temperature <= 0: argmax (ties: lowest id), done;
///  3. logits / temperature; 4. top-k (k largest; ties: lower id first); 5. softmax;
///  6. top-p (smallest prefix whose mass >= topP); 7. min-p (drop p < minP * p_max);
///  8. draw with samplingUniform(seed, sampleIndex) from the renormalised survivors.
/// NaN logits count as -infinity. Holds scratch buffers: one Sampler per thread.
class Sampler {
public:
    TokenId sample(std::span<const float> logits, const SamplingParams& params,
                   std::span<const TokenId> history, std::int32_t sampleIndex);

private:
    std::vector<float> m_work;
    std::vector<std::pair<float, TokenId>> m_candidates;
    std::vector<double> m_probs;
    std::vector<std::uint8_t> m_seen;
};

}  // namespace batchscope::engine
