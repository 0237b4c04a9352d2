// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/workload_generator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <random>

namespace batchscope::engine {
namespace {

/// Uniform, normal and gamma samplers over mt19937_64 with fixed algorithms (reproducible).
class Sampler {
public:
    explicit Sampler(std::uint64_t seed) : m_engine(seed) {}

    /// Uniform in (0, 1): 53 random bits, never exactly 0 (logs of it stay finite).
    double uniform() {
        double u = 0;
        while (u == 0) u = double(m_engine() >> 11) * 0x1.0p-53;
        return u;
    }
    /// Standard normal (Box-Muller, one of the pair).
    double normal() { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); }
    double exponential(double rate) { return -std::log(uniform()) / rate; }
    /// Gamma(shape, 1): Marsaglia and Tsang; shape < 1 via Gamma(shape + 1) * U^(1/shape).
    double gamma(double shape) {
        if (shape < 1) return gamma(shape + 1) * std::pow(uniform(), 1.0 / shape);
        const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9 * d);
        for (;;) {
            double x = 0, v = 0;
            do {
                x = normal();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            const double u = uniform();
            if (u < 1 - 0.0331 * x * x * x * x || std::log(u) < 0.5 * x * x + d * (1 - v + std::log(v))) return d * v;
        }
    }

private:
    std::mt19937_64 m_engine;
};

int drawLength(const LengthDistribution& d, Sampler& s) {
    double v = d.a;
    switch (d.kind) {
    case LengthDistribution::Kind::Fixed: break;
    case LengthDistribution::Kind::Uniform: v = std::floor(d.a + s.uniform() * (d.b - d.a + 1)); break;
    case LengthDistribution::Kind::LogNormal: {
        // Parameters of the underlying normal from the length's own mean and sd.
        const double sigma2 = std::log(1 + (d.b * d.b) / (d.a * d.a));
        const double mu = std::log(d.a) - sigma2 / 2;
        v = std::round(std::exp(mu + std::sqrt(sigma2) * s.normal()));
        break;
    }
    }
    return int(std::clamp(v, 1.0, double(std::max(1, d.maxTokens))));
}

Result<double> number(std::string_view text, std::string_view spec) {
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
        return makeError(ErrorCode::InvalidArgument,
                         "length distribution '" + std::string(spec) + "': '" + std::string(text) + "' is not a number");
    return v;
}

}  // namespace

Result<LengthDistribution> LengthDistribution::parse(std::string_view spec) {
    std::vector<std::string_view> parts;
    for (std::string_view rest = spec;;) {
        const std::size_t colon = rest.find(':');
        parts.push_back(rest.substr(0, colon));
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
    }
    const auto bad = [&](const std::string& why) {
        return makeError(ErrorCode::InvalidArgument, "length distribution '" + std::string(spec) + "': " + why +
                                                         " (expected fixed:N, uniform:MIN:MAX or lognormal:MEAN:SD)");
    };
    LengthDistribution d;
    const std::string_view kind = parts[0];
    const std::size_t want = kind == "fixed" ? 2 : (kind == "uniform" || kind == "lognormal") ? 3 : 0;
    if (want == 0) return bad("unknown kind '" + std::string(kind) + "'");
    if (parts.size() != want) return bad("takes " + std::to_string(want - 1) + " number(s)");
    auto a = number(parts[1], spec);
    if (!a) return a.error();
    d.a = *a;
    if (want == 3) {
        auto b = number(parts[2], spec);
        if (!b) return b.error();
        d.b = *b;
    }
    if (kind == "fixed") {
        d.kind = Kind::Fixed;
        if (d.a < 1 || d.a != std::floor(d.a)) return bad("the length must be a whole number >= 1");
    } else if (kind == "uniform") {
        d.kind = Kind::Uniform;
        if (d.a < 1 || d.a != std::floor(d.a) || d.b != std::floor(d.b) || d.b < d.a)
            return bad("needs whole numbers 1 <= MIN <= MAX");
    } else {
        d.kind = Kind::LogNormal;
        if (!(d.a >= 1) || !(d.b >= 0)) return bad("needs MEAN >= 1 and SD >= 0");
    }
    return d;
}

std::string LengthDistribution::describe() const {
    char buf[96];
    switch (kind) {
    case Kind::Fixed: std::snprintf(buf, sizeof buf, "fixed %g", a); break;
    case Kind::Uniform: std::snprintf(buf, sizeof buf, "uniform %g..%g", a, b); break;
    case Kind::LogNormal: std::snprintf(buf, sizeof buf, "lognormal mean %g sd %g", a, b); break;
    }
    return buf;
}

Result<std::vector<WorkloadRequest>> generateWorkload(const WorkloadGeneratorConfig& config) {
    const auto& arrivals = config.arrivals;
    if (!(arrivals.ratePerSecond > 0) || !std::isfinite(arrivals.ratePerSecond))
        return makeError(ErrorCode::InvalidArgument, "arrival rate must be > 0 requests/s");
    if (arrivals.kind == ArrivalProcess::Kind::Gamma && !(arrivals.cv > 0 && arrivals.cv <= 100))
        return makeError(ErrorCode::InvalidArgument, "gamma arrivals need a coefficient of variation in (0, 100]");
    if (config.requests <= 0 || config.requests > 100'000'000)
        return makeError(ErrorCode::InvalidArgument, "requests must be in [1, 100000000]");
    if (config.durationSeconds < 0 || !std::isfinite(config.durationSeconds))
        return makeError(ErrorCode::InvalidArgument, "duration must be >= 0 seconds");
    // Separate streams, so changing a length distribution leaves the arrival times unchanged.
    Sampler gaps(config.seed), prompts(config.seed ^ 0x9e3779b97f4a7c15ULL), outputs(config.seed ^ 0xbf58476d1ce4e5b9ULL);
    // Gamma gaps with shape k = 1/cv^2 and mean 1/rate: scale = 1/(rate*k).
    const double shape = 1.0 / (arrivals.cv * arrivals.cv);
    std::vector<WorkloadRequest> out;
    out.reserve(std::size_t(std::min<std::int64_t>(config.requests, 1 << 20)));
    double t = 0;
    for (std::int64_t i = 0; i < config.requests; ++i) {
        if (i > 0)
            t += arrivals.kind == ArrivalProcess::Kind::Poisson ? gaps.exponential(arrivals.ratePerSecond)
                                                                : gaps.gamma(shape) / (arrivals.ratePerSecond * shape);
        if (config.durationSeconds > 0 && t > config.durationSeconds) break;
        WorkloadRequest r;
        r.arrivalSeconds = t;
        r.promptTokens = drawLength(config.promptTokens, prompts);
        r.outputTokens = drawLength(config.outputTokens, outputs);
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace batchscope::engine
