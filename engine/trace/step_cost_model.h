// How long a step takes, as a linear function of what it computes, fitted by least squares
// to the steps of a recorded trace. Replay advances its virtual clock by it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/result.h"

namespace batchscope::engine {

/// What a step computes. Tokens are tokens; attendedContext is the attention work in token
/// pairs (sum over sequences of new tokens x mean context attended, see RecordedStep).
struct StepFeatures {
    double prefillTokens = 0, decodeTokens = 0, sequences = 0, attendedContext = 0;
};

/// cost(ms) = c0 + c1·prefill + c2·decode + c3·sequences + c4·attendedContext, every
/// coefficient >= 0 (a term the fit would make negative is dropped and the rest refitted, so
/// the model never predicts a negative or shrinking cost). Plain value; any thread.
class StepCostModel {
public:
    static constexpr int kTerms = 5;
    StepCostModel() = default;
    explicit StepCostModel(const std::array<double, kTerms>& coefficients) : m_c(coefficients) {}

    /// Fits `ms[i]` ~ `features[i]`. Errors: InvalidArgument with fewer than kTerms steps or
    /// mismatched sizes. Reports r2() and mape() on the fitted steps.
    static Result<StepCostModel> fit(const std::vector<StepFeatures>& features, const std::vector<double>& ms);

    double predictMs(const StepFeatures& f) const;
    const std::array<double, kTerms>& coefficients() const { return m_c; }
    /// Coefficient of determination of the fit (1 = exact; 0 = no better than the mean).
    double r2() const { return m_r2; }
    /// Mean absolute percentage error of the fit over the steps, percent.
    double mape() const { return m_mape; }
    std::int64_t samples() const { return m_samples; }
    /// "0.41 ms + 0.0123 ms/prefill token + ..." (terms that are zero left out).
    std::string describe() const;

private:
    std::array<double, kTerms> m_c{};
    double m_r2 = 0, m_mape = 0;
    std::int64_t m_samples = 0;
};

}  // namespace batchscope::engine
