// Synthetic workloads: Poisson or bursty (gamma) arrivals with prompt and output lengths drawn
// from fixed, uniform or lognormal distributions; seeded and reproducible.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/trace/workload.h"

namespace batchscope::engine {

/// A token-length distribution. Draws are rounded to whole tokens and clamped to [1, maxTokens].
struct LengthDistribution {
    enum class Kind { Fixed, Uniform, LogNormal };
    Kind kind = Kind::Fixed;
    /// Fixed: the length; Uniform: the lowest length; LogNormal: the mean length (not of its log).
    double a = 128;
    /// Uniform: the highest length (inclusive); LogNormal: the standard deviation of the length.
    double b = 0;
    int maxTokens = 1 << 20;

    /// "fixed:N", "uniform:MIN:MAX", "lognormal:MEAN:SD"; an error naming what is wrong.
    static Result<LengthDistribution> parse(std::string_view spec);
    std::string describe() const;
};

/// How requests arrive: a Poisson process (exponential gaps) or a renewal process with gamma
/// gaps, whose coefficient of variation (sd / mean of the gaps) sets the burstiness: 1 is
/// Poisson, above 1 bursty, below 1 more regular than Poisson.
struct ArrivalProcess {
    enum class Kind { Poisson, Gamma };
    Kind kind = Kind::Poisson;
    double ratePerSecond = 1.0;  ///< mean arrivals per second (> 0)
    double cv = 1.0;             ///< Gamma only: coefficient of variation of the gaps (> 0)
};

struct WorkloadGeneratorConfig {
    ArrivalProcess arrivals;
    LengthDistribution promptTokens;
    LengthDistribution outputTokens = {LengthDistribution::Kind::Fixed, 64, 0};
    std::int64_t requests = 100;     ///< how many to generate (> 0) ...
    double durationSeconds = 0;      ///< ... or, when > 0, stop at the first arrival past it too
    std::uint64_t seed = 1;
};

/// Generates the workload: the first request arrives at 0 s. The same config (seed included)
/// gives the same requests on every run and machine with the same libm: the generator uses
/// std::mt19937_64 (fully specified) and its own samplers, not std:: distributions, whose
/// algorithms differ between standard libraries. Errors name the invalid setting.
Result<std::vector<WorkloadRequest>> generateWorkload(const WorkloadGeneratorConfig& config);

}  // namespace batchscope::engine
