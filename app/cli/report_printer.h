// Plain-text rendering of scheduler statistics and benchmark reports for the terminal.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/runtime/scheduler_bench.h"

namespace batchscope::app {

void printMetricsSummary(const engine::SchedulerSnapshot& snapshot);
void printSchedulerBench(const engine::SchedulerBenchReport& report);
/// The metrics-under-load line of the scheduler benchmark (nothing when it did not run).
void printMetricsLoad(const engine::MetricsLoadReport& report);
std::string schedulerBenchJson(const engine::SchedulerBenchReport& report);

}  // namespace batchscope::app
