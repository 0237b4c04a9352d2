// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/step_cost_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace batchscope::engine {

namespace {
constexpr int N = StepCostModel::kTerms;

std::array<double, N> row(const StepFeatures& f) {
    return {1.0, f.prefillTokens, f.decodeTokens, f.sequences, f.attendedContext};
}

/// Least squares over the active columns via the normal equations on scaled columns
/// (Gauss-Jordan with partial pivoting). Inactive or degenerate columns get 0.
std::array<double, N> solve(const std::vector<std::array<double, N>>& x, const std::vector<double>& y,
                            const std::array<bool, N>& active) {
    std::array<double, N> scale{};
    for (const auto& r : x)
        for (int j = 0; j < N; ++j) scale[std::size_t(j)] = std::max(scale[std::size_t(j)], std::abs(r[std::size_t(j)]));
    std::vector<int> cols;
    for (int j = 0; j < N; ++j)
        if (active[std::size_t(j)] && scale[std::size_t(j)] > 0) cols.push_back(j);
    const std::size_t k = cols.size();
    std::vector<std::vector<double>> a(k, std::vector<double>(k + 1, 0.0));
    for (std::size_t i = 0; i < x.size(); ++i) {
        for (std::size_t p = 0; p < k; ++p) {
            const double xp = x[i][std::size_t(cols[p])] / scale[std::size_t(cols[p])];
            for (std::size_t q = 0; q < k; ++q) a[p][q] += xp * x[i][std::size_t(cols[q])] / scale[std::size_t(cols[q])];
            a[p][k] += xp * y[i];
        }
    }
    std::array<double, N> c{};
    for (std::size_t p = 0; p < k; ++p) {
        std::size_t best = p;
        for (std::size_t r = p + 1; r < k; ++r)
            if (std::abs(a[r][p]) > std::abs(a[best][p])) best = r;
        std::swap(a[p], a[best]);
        if (std::abs(a[p][p]) < 1e-12) continue;   // collinear: this column stays 0
        for (std::size_t r = 0; r < k; ++r) {
            if (r == p) continue;
            const double f = a[r][p] / a[p][p];
            for (std::size_t q = p; q <= k; ++q) a[r][q] -= f * a[p][q];
        }
    }
    for (std::size_t p = 0; p < k; ++p)
        if (std::abs(a[p][p]) >= 1e-12) c[std::size_t(cols[p])] = a[p][k] / a[p][p] / scale[std::size_t(cols[p])];
    return c;
}
/// Non-negative least squares by elimination: the most negative per-unit term is dropped and
/// the rest refitted; the intercept (the fixed cost every step pays) goes only when it is the
/// one negative term left.
std::array<double, N> fitNonNegative(const std::vector<std::array<double, N>>& x, const std::vector<double>& y) {
    std::array<bool, N> active;
    active.fill(true);
    std::array<double, N> c{};
    for (int round = 0; round < N; ++round) {
        c = solve(x, y, active);
        int worst = -1;
        for (int j = 1; j < N; ++j)
            if (active[std::size_t(j)] && c[std::size_t(j)] < 0 && (worst < 0 || c[std::size_t(j)] < c[std::size_t(worst)])) worst = j;
        if (worst < 0 && active[0] && c[0] < 0) worst = 0;
        if (worst < 0) break;
        active[std::size_t(worst)] = false;
    }
    for (double& v : c) v = std::max(0.0, v);
    return c;
}
}  // namespace

Result<StepCostModel> StepCostModel::fit(const std::vector<StepFeatures>& features, const std::vector<double>& ms) {
    if (features.size() != ms.size())
        return makeError(ErrorCode::InvalidArgument, "step cost fit: features and durations differ in number");
    if (features.size() < std::size_t(N))
        return makeError(ErrorCode::InvalidArgument, "step cost fit needs at least " + std::to_string(N) +
                         " recorded steps (the trace has " + std::to_string(features.size()) + ")");
    std::vector<std::array<double, N>> x, xPrefill, xDecode;
    std::vector<double> yPrefill, yDecode;
    x.reserve(features.size());
    for (std::size_t i = 0; i < features.size(); ++i) {
        x.push_back(row(features[i]));
        const bool decodeOnly = features[i].prefillTokens <= 0;
        (decodeOnly ? xDecode : xPrefill).push_back(x.back());
        (decodeOnly ? yDecode : yPrefill).push_back(ms[i]);
    }
    StepCostModel m;
    if (xPrefill.size() >= std::size_t(kMinStepsPerKind) && xDecode.size() >= std::size_t(kMinStepsPerKind))
        m = StepCostModel(fitNonNegative(xPrefill, yPrefill), fitNonNegative(xDecode, yDecode));
    else
        m = StepCostModel(fitNonNegative(x, ms));   // too few of one kind to fit it alone
    double mean = 0;
    for (double y : ms) mean += y;
    mean /= double(ms.size());
    double ssRes = 0, ssTot = 0, ape = 0;
    std::int64_t apeCount = 0;
    for (std::size_t i = 0; i < ms.size(); ++i) {
        const double p = m.predictMs(features[i]);
        ssRes += (ms[i] - p) * (ms[i] - p);
        ssTot += (ms[i] - mean) * (ms[i] - mean);
        if (ms[i] > 0) {
            ape += std::abs(ms[i] - p) / ms[i];
            ++apeCount;
        }
    }
    m.m_r2 = ssTot > 0 ? 1.0 - ssRes / ssTot : (ssRes == 0 ? 1.0 : 0.0);
    m.m_mape = apeCount ? 100.0 * ape / double(apeCount) : 0.0;
    m.m_samples = std::int64_t(ms.size());
    return m;
}

double StepCostModel::predictMs(const StepFeatures& f) const {
    const auto r = row(f);
    const Coefficients& c = f.prefillTokens > 0 ? m_c : m_decode;
    double v = 0;
    for (int j = 0; j < N; ++j) v += c[std::size_t(j)] * r[std::size_t(j)];
    return std::max(0.0, v);
}

namespace {
std::string describeTerms(const StepCostModel::Coefficients& c) {
    static const char* units[N] = {"ms", "ms/prefill token", "ms/decode token", "ms/sequence", "ms/attended token pair"};
    std::string out;
    char buf[96];
    for (int j = 0; j < N; ++j) {
        if (c[std::size_t(j)] == 0 && j != 0) continue;
        std::snprintf(buf, sizeof buf, "%s%.4g %s", out.empty() ? "" : " + ", c[std::size_t(j)], units[j]);
        out += buf;
    }
    return out;
}
}  // namespace

std::string StepCostModel::describe() const {
    if (!split()) return describeTerms(m_c);
    return "prefill steps: " + describeTerms(m_c) + "; decode-only steps: " + describeTerms(m_decode);
}

}  // namespace batchscope::engine
