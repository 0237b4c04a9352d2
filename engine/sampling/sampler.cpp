// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace batchscope::engine {

std::uint64_t splitmix64(std::uint64_t x) {
    std::uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double samplingUniform(std::uint64_t seed, std::int32_t index) {
    const std::uint64_t bits = splitmix64(seed ^ splitmix64(static_cast<std::uint64_t>(index)));
    return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

namespace {

bool better(const std::pair<float, TokenId>& a, const std::pair<float, TokenId>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
}

}  // namespace

TokenId Sampler::sample(std::span<const float> logits, const SamplingParams& params,
                        std::span<const TokenId> history, std::int32_t sampleIndex) {
    const auto vocab = static_cast<TokenId>(logits.size());
    if (vocab == 0) return 0;
    const bool penalise = params.repetitionPenalty > 0.0f && params.repetitionPenalty != 1.0f;
    if (!(params.temperature > 0.0f) && !penalise) {
        // Greedy without penalty: no copy. NaN never compares greater, so it is skipped.
        TokenId best = 0;
        float bestValue = -std::numeric_limits<float>::infinity();
        for (TokenId i = 0; i < vocab; ++i) {
            if (logits[static_cast<std::size_t>(i)] > bestValue) {
                bestValue = logits[static_cast<std::size_t>(i)];
                best = i;
            }
        }
        return best;
    }
    m_work.assign(logits.begin(), logits.end());
    for (float& v : m_work)
        if (std::isnan(v)) v = -std::numeric_limits<float>::infinity();

    if (penalise) {
        m_seen.assign(static_cast<std::size_t>(vocab), 0);
        for (TokenId id : history) {
            if (id < 0 || id >= vocab || m_seen[static_cast<std::size_t>(id)]) continue;
            m_seen[static_cast<std::size_t>(id)] = 1;
            float& v = m_work[static_cast<std::size_t>(id)];
            v = v > 0.0f ? v / params.repetitionPenalty : v * params.repetitionPenalty;
        }
    }
    if (!(params.temperature > 0.0f)) {
        // max_element returns the first maximum: ties go to the lowest id.
        return static_cast<TokenId>(std::max_element(m_work.begin(), m_work.end()) - m_work.begin());
    }

    m_candidates.resize(static_cast<std::size_t>(vocab));
    const float invT = 1.0f / params.temperature;
    for (TokenId i = 0; i < vocab; ++i) m_candidates[static_cast<std::size_t>(i)] = {m_work[static_cast<std::size_t>(i)] * invT, i};
    const TokenId k = params.topK > 0 ? std::min(params.topK, vocab) : vocab;
    std::partial_sort(m_candidates.begin(), m_candidates.begin() + k, m_candidates.end(), better);
    m_candidates.resize(static_cast<std::size_t>(k));

    // Softmax relative to the best logit; a row of only -inf (or +inf) logits picks the best.
    const float best = m_candidates.front().first;
    m_probs.resize(m_candidates.size());
    double total = 0.0;
    for (std::size_t i = 0; i < m_candidates.size(); ++i) {
        const double p = std::isinf(best) ? (i == 0 ? 1.0 : 0.0) : std::exp(double(m_candidates[i].first) - best);
        m_probs[i] = p;
        total += p;
    }
    std::size_t keep = m_probs.size();
    if (params.topP > 0.0f && params.topP < 1.0f) {
        double cum = 0.0;
        for (std::size_t i = 0; i < m_probs.size(); ++i) {
            cum += m_probs[i];
            if (cum >= params.topP * total) {
                keep = i + 1;
                break;
            }
        }
    }
    if (params.minP > 0.0f) {
        const double threshold = params.minP * m_probs[0];
        std::size_t i = 1;
        while (i < keep && m_probs[i] >= threshold) ++i;
        keep = i;
    }
    double kept = 0.0;
    for (std::size_t i = 0; i < keep; ++i) kept += m_probs[i];
    const double u = samplingUniform(params.seed, sampleIndex) * kept;
    double cum = 0.0;
    for (std::size_t i = 0; i < keep; ++i) {
        cum += m_probs[i];
        if (u < cum) return m_candidates[i].second;
    }
    return m_candidates[keep - 1].second;
}

}  // namespace batchscope::engine
