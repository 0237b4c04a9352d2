// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/replay_check.h"

#include <cmath>
#include <cstdio>

#include "engine/trace/replay_bench.h"

namespace batchscope::engine {

bool sameStepWork(const StepFeatures& a, const StepFeatures& b) {
    return a.prefillTokens == b.prefillTokens && a.decodeTokens == b.decodeTokens && a.sequences == b.sequences &&
           std::abs(a.attendedContext - b.attendedContext) <= 1e-6 * (1.0 + std::abs(a.attendedContext));
}

Result<StepCheck> replayWithRecordedStepTimes(const RecordedTrace& trace) {
    auto model = fitStepCostModel(trace);
    if (!model) return model.error();
    const ReplayWorkload workload = workloadFromTrace(trace);
    // Recorded times are ms since the recorder's epoch; the replay's are since the first
    // replayed arrival (workloadFromTrace's origin).
    double origin = 0;
    for (const RecordedRequest& r : trace.requests)
        if (r.finished) {
            origin = r.arrivalMs;
            break;
        }
    StepCheck check;
    check.recordedSteps = std::int64_t(trace.steps.size());
    std::int64_t executed = 0;
    const StepCostModel cost = model.value();
    auto stepCost = [&](std::int64_t, double startMs, const StepFeatures& f) {
        const std::size_t i = std::size_t(executed++);
        if (!check.divergence && i < trace.steps.size() && !trace.steps[i].failed &&
            sameStepWork(stepFeatures(trace.steps[i]), f)) {
            ++check.identicalSteps;
            return stepCycleMs(trace, i);
        }
        if (!check.divergence) {
            check.divergence = std::int64_t(i);
            check.replayedAtDivergence = f;
            check.replayedStartMs = startMs;
            if (i < trace.steps.size()) {
                check.recordedAtDivergence = stepFeatures(trace.steps[i]);
                check.recordedStartMs = trace.steps[i].startMs - origin;
            }
        }
        return cost.predictMs(f);
    };
    auto run = replayWorkload(workload, StepCostFunction(stepCost), trace.setup);
    if (!run) return run.error();
    check.replayedSteps = run->summary.steps;
    check.recorded = summarizeTrace(trace);
    check.replayed = run->summary;
    return check;
}

namespace {
std::string describeWork(const StepFeatures& f) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.0f prefill + %.0f decode tokens in %.0f sequences", f.prefillTokens,
                  f.decodeTokens, f.sequences);
    return buf;
}
}  // namespace

std::string formatStepCheck(const StepCheck& c) {
    std::string out = "step check: the recorded requests replayed with the recorded step times\n";
    char buf[512];
    std::snprintf(buf, sizeof buf, "  steps identical to the recorded ones: %lld of %lld (the replay ran %lld)\n",
                  (long long)c.identicalSteps, (long long)c.recordedSteps, (long long)c.replayedSteps);
    out += buf;
    if (c.divergence) {
        std::snprintf(buf, sizeof buf,
                      "  first difference at step %lld (recorded start %.3f ms, replayed %.3f ms after the first "
                      "arrival): recorded %s, replayed %s; later steps cost the fitted model\n",
                      (long long)*c.divergence, c.recordedStartMs, c.replayedStartMs,
                      describeWork(c.recordedAtDivergence).c_str(), describeWork(c.replayedAtDivergence).c_str());
        out += buf;
    }
    const FidelityErrors e = fidelityErrors(c.recorded, c.replayed);
    std::snprintf(buf, sizeof buf,
                  "  fidelity (replay vs recorded): TTFT p50 %.2f %%, p90 %.2f %%; TPOT p50 %.2f %%, p90 %.2f %%; "
                  "throughput %.2f %%\n",
                  e.ttftP50, e.ttftP90, e.tpotP50, e.tpotP90, e.throughput);
    out += buf;
    return out;
}

}  // namespace batchscope::engine
