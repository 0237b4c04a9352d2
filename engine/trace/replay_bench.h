// Replay benchmarks (`batchscope bench --replay`): how fast a replay runs (100,000 requests
// on virtual time) and how faithfully it reproduces a recorded run (record a live run with
// Poisson arrivals, replay it with unchanged settings, compare). Not tests: they print figures.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/runtime/engine.h"
#include "engine/trace/replay_report.h"
#include "engine/trace/workload.h"

namespace batchscope::engine {

/// A synthetic workload: Poisson arrivals at `ratePerSecond`, prompt lengths uniform in
/// [minPrompt, maxPrompt], output lengths log-uniform in [minOutput, maxOutput]; a share of
/// the prompts (`sharedPrefixShare`) starts with one of 8 common 4-block prefixes. Seeded.
struct SyntheticWorkloadOptions {
    std::int32_t requests = 500;
    double ratePerSecond = 10;
    std::int32_t minPrompt = 16, maxPrompt = 256, minOutput = 8, maxOutput = 128;
    double sharedPrefixShare = 0.3;
    std::int32_t blockSize = 16;
    std::uint64_t seed = 1;
};
std::vector<WorkloadRequest> syntheticWorkload(const SyntheticWorkloadOptions& options);

/// Drives `engine` (started by the caller) in real time with `workload`: each request is
/// submitted at its arrival time (prompt tokens rebuilt from its prefix hashes with ids in
/// [firstToken, firstToken + tokenRange)), generating exactly its output tokens. Returns when
/// every request has finished. `progress` gets a line now and then.
Status driveLive(Engine& engine, const std::vector<WorkloadRequest>& workload, TokenId firstToken,
                 std::int32_t tokenRange, const std::function<void(const std::string&)>& progress = {});

/// Told before each replay of a what-if (done = replays finished so far, `name` the next
/// one) and once at the end (done == total, name empty). Called on the replaying thread.
using ReplayProgress = std::function<void(int done, int total, const std::string& name)>;

/// Reads a trace, fits the cost model, replays it as recorded and under each variant. With
/// `workload`, that load is replayed instead of the recorded one (an imported production trace
/// or a generated load, run with the trace's settings and step costs); the report then has no
/// "recorded" column. Errors: unreadable trace, too few steps, a failed replay.
Result<ReplayReport> replayTrace(const std::string& path, const std::vector<ReplayVariant>& variants,
                                 const ReplayWorkload* workload = nullptr, const ReplayProgress& progress = {});
/// As replayTrace with `variants` given as --set strings (parsed against the trace's setup),
/// and `workloadPath` (optional) a file importTrace reads (Azure, BurstGPT, workload CSV).
/// The one what-if function: `batchscope replay` and the app's what-if panel both call it.
Result<ReplayReport> replayTraceWithSettings(const std::string& path, const std::vector<std::string>& sets,
                                             const std::string& workloadPath = {},
                                             const ReplayProgress& progress = {});

/// Relative error in percent of each fidelity figure (replay vs recorded): TTFT p50/p90,
/// TPOT p50/p90, throughput.
struct FidelityErrors {
    double ttftP50 = 0, ttftP90 = 0, tpotP50 = 0, tpotP90 = 0, throughput = 0;
    double worst() const;
};
FidelityErrors fidelityErrors(const RunSummary& recorded, const RunSummary& replayed);

}  // namespace batchscope::engine
