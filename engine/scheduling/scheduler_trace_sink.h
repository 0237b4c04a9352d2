// What a recording learns from the scheduler: arrivals, priority changes, finishes, steps.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <span>
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"

namespace batchscope::engine {

struct Sequence;

/// Receives the scheduler's events for a trace (engine/trace/trace_recorder.h). Times are ms
/// since the scheduler's epoch (its clock's now() at construction).
///
/// Threading and cost: onSubmitted runs on the submitting thread with no scheduler lock held;
/// the others run on the engine thread under the scheduler's state lock. Every call must be
/// cheap and must never block on I/O (copy what is needed and hand it to another thread): the
/// engine step waits for them.
class SchedulerTraceSink {
public:
    virtual ~SchedulerTraceSink() = default;
    /// A request was queued (`prompt`: its tokens; `promptText` for display).
    virtual void onSubmitted(RequestId id, double arrivalMs, std::span<const TokenId> prompt,
                             const std::string& promptText, const GenerationOptions& options) = 0;
    virtual void onPriorityChanged(RequestId id, double timeMs, Priority priority) = 0;
    /// The request finished (any reason); `seq` is in its terminal state.
    virtual void onFinished(const Sequence& seq, double finishMs) = 0;
    /// A step executed; `preempted`: the requests preempted while scheduling it.
    virtual void onStep(const StepRecord& step, std::span<const RequestId> preempted) = 0;
    /// The settings changed (also called once when the sink is attached).
    virtual void onSettings(const SchedulerSettings& settings, double timeMs) = 0;
};

}  // namespace batchscope::engine
