// `batchscope replay`: what-if variants (--set key=value) and the side-by-side report.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/trace/step_cost_model.h"
#include "engine/trace/trace_reader.h"
#include "engine/trace/trace_replay.h"

namespace batchscope::engine {

/// One what-if: the recorded setup with some settings changed. Plain value.
struct ReplayVariant {
    std::string name;      ///< the assignments as given, e.g. "max_batch_size=16,token_budget=256"
    RecordedSetup setup;
};

/// The keys --set accepts, with their values, for help texts and errors.
std::string replaySettingKeys();
/// Applies "key=value[,key=value...]" to `base`. Errors (InvalidArgument) name the unknown
/// key or the bad value and what is allowed.
Result<ReplayVariant> parseReplayVariant(std::string_view assignments, const RecordedSetup& base);

/// One column of the report.
struct ReplayColumn {
    std::string name;
    RunSummary summary;
    double wallSeconds = 0;   ///< replay time (0 for the recorded run)
    std::int64_t rejected = 0;
    /// Per request (the recorded run: its finished requests), for latency distributions.
    std::vector<RequestOutcome> outcomes;
};

struct ReplayReport {
    std::string tracePath;
    std::int64_t requests = 0, leftOut = 0;
    StepCostModel cost;
    std::vector<ReplayColumn> columns;   ///< recorded, replay (baseline), then the variants
};

/// The terminal table: one row per figure, one column per run, and the cost model's fit.
std::string formatReplayTable(const ReplayReport& report);
/// The same as JSON (an object: trace, cost_model {coefficients, r2, mape_percent}, runs [...]).
std::string formatReplayJson(const ReplayReport& report);

}  // namespace batchscope::engine
