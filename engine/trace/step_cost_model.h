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
/// the model never predicts a negative or shrinking cost). Two sets of coefficients: one for
/// decode-only steps (prefillTokens == 0: matrix-vector work, bound by reading the weights
/// once per step) and one for steps that prefill (matrix-matrix work, bound by arithmetic).
/// One line through both regimes lets the few long prefill steps set the slope the many short
/// decode steps get, and decode steps are what time per output token is made of. The two
/// need not agree where they meet: with split coefficients a step that adds one prefill token
/// to a decode batch may be predicted cheaper than the batch alone (cost never falls within
/// one kind). Plain value; any thread.
class StepCostModel {
public:
    static constexpr int kTerms = 5;
    static constexpr int kMinStepsPerKind = 4 * kTerms;
    StepCostModel() = default;
    using Coefficients = std::array<double, kTerms>;
    /// The same coefficients for every step.
    explicit StepCostModel(const Coefficients& coefficients) : m_c(coefficients), m_decode(coefficients) {}
    /// `prefill` for steps with prefill tokens, `decode` for decode-only steps.
    StepCostModel(const Coefficients& prefill, const Coefficients& decode) : m_c(prefill), m_decode(decode) {}

    /// Fits `ms[i]` ~ `features[i]`: decode-only steps and prefilling steps separately when
    /// each kind has at least kMinStepsPerKind steps, else one fit to all steps for both.
    /// Errors: InvalidArgument with fewer than kTerms steps or mismatched sizes. Reports r2()
    /// and mape() on the fitted steps.
    static Result<StepCostModel> fit(const std::vector<StepFeatures>& features, const std::vector<double>& ms);

    double predictMs(const StepFeatures& f) const;
    /// Coefficients for steps with prefill tokens.
    const Coefficients& coefficients() const { return m_c; }
    /// Coefficients for decode-only steps.
    const Coefficients& decodeCoefficients() const { return m_decode; }
    /// Whether the two kinds of step have different coefficients.
    bool split() const { return m_c != m_decode; }
    /// Coefficient of determination of the fit (1 = exact; 0 = no better than the mean).
    double r2() const { return m_r2; }
    /// Mean absolute percentage error of the fit over the steps, percent.
    double mape() const { return m_mape; }
    std::int64_t samples() const { return m_samples; }
    /// "0.41 ms + 0.0123 ms/prefill token + ..." (terms that are zero left out); with split
    /// coefficients "prefill steps: ...; decode-only steps: ...".
    std::string describe() const;

private:
    Coefficients m_c{}, m_decode{};
    double m_r2 = 0, m_mape = 0;
    std::int64_t m_samples = 0;
};

}  // namespace batchscope::engine
