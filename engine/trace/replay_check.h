// The scheduler's side of a replay, checked apart from the cost model: the recorded requests
// replayed with each step costing the recorded step's own time instead of a fitted model's.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "engine/core/result.h"
#include "engine/trace/step_cost_model.h"
#include "engine/trace/trace_reader.h"
#include "engine/trace/trace_replay.h"

namespace batchscope::engine {

/// How a replay on the recorded step times went. Replayed step i costs stepCycleMs of
/// recorded step i as long as every step so far computed what the recorded one did (same
/// prefill and decode tokens, sequences and attended context: the batch the recorded
/// scheduler formed); from the first step that differs on, the fitted cost model. So when
/// the scheduler is replayed faithfully every step is identical and the figures are the
/// recorded ones; an error in how replay feeds the scheduler (arrival timing, admission,
/// chunking, finishing) shows as a divergence at the first step it touches. Plain value.
struct StepCheck {
    std::int64_t recordedSteps = 0, replayedSteps = 0;
    std::int64_t identicalSteps = 0;           ///< leading steps identical to the recorded ones
    std::optional<std::int64_t> divergence;    ///< index of the first step that differs
    StepFeatures recordedAtDivergence, replayedAtDivergence;   ///< valid with divergence
    double recordedStartMs = 0, replayedStartMs = 0;           ///< that step's start, ms since the first arrival
    RunSummary recorded, replayed;             ///< the recorded run's figures and the replay's
};

/// Replays `trace` as recorded with the recorded step times (see StepCheck). Errors: those of
/// fitStepCostModel and replayWorkload.
Result<StepCheck> replayWithRecordedStepTimes(const RecordedTrace& trace);

/// The check for the terminal: identical steps, the first divergence (if any) and the
/// figures' errors against the recorded run.
std::string formatStepCheck(const StepCheck& check);

/// Whether two steps computed the same: equal token counts and sequences, attended context
/// equal up to rounding (the trace stores it as a double).
bool sameStepWork(const StepFeatures& a, const StepFeatures& b);

}  // namespace batchscope::engine
