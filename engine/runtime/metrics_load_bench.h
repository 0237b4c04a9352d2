// `batchscope bench` part: the engine's per-step cost with a loaded metrics collector and a
// long queue, read by a 30 Hz snapshot reader, against an idle collector in the same process.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

namespace batchscope::engine {

struct MetricsLoadOptions {
    std::int64_t finished = 1000000;    ///< finished requests recorded before measuring
    std::int32_t queued = 10000;        ///< requests waiting behind a full batch
    std::int32_t running = 64;          ///< sequences decoding every step
    std::int32_t steps = 5000;          ///< steps measured per run (after a warm-up)
    std::int32_t repetitions = 5;       ///< runs of each case; medians reported
    std::int32_t readerHz = 30;         ///< snapshot reads per second in the loaded case
};

/// Medians over the repetitions. Step times are wall time per step on a zero-cost executor,
/// so they are the engine's own overhead (scheduling, bookkeeping, metrics, publishing).
struct MetricsLoadReport {
    MetricsLoadOptions options;
    double idleStepUs = 0;            ///< fresh collector, no queue, no reader
    double loadedStepUs = 0;          ///< `finished` recorded, `queued` waiting, reader at readerHz
    double stepRatio = 0;             ///< median of loaded / idle of back-to-back pairs (target <= 1.10)
    double snapshotReadUs = 0;        ///< latestSnapshot(): median of the reader's calls
    double snapshotReadMaxUs = 0;     ///< its slowest call over all runs (target < 1000)
    double statisticsReadUs = 0;      ///< getRequestStatistics() on the loaded collector, median
    double freshSnapshotUs = 0;       ///< snapshot() built by the caller (state lock), median
    std::int64_t readsPerRun = 0;
};

MetricsLoadReport runMetricsLoadBench(const MetricsLoadOptions& options);

}  // namespace batchscope::engine
