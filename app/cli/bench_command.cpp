// `batchscope bench`: scheduler benchmarks on the simulated executor.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <cstdio>
#include <iostream>

#include "app/cli/cli_common.h"
#include "app/cli/report_printer.h"
#include "engine/runtime/scheduler_bench.h"

namespace batchscope::app {

int runBench(const QStringList& args) {
    QCommandLineParser parser;
    parser.addOptions({
        {"json", "Print the results as JSON."},
        {"quick", "Smaller workloads (a smoke run)."},
        {"repetitions", "Runs per scenario; medians are reported (default 3).", "n", "3"},
        {"max-batch-size", "Max batch size of the continuous/static comparison (default 32).", "n", "32"},
    });
    if (int rc = parseOrExit(parser, args, "Benchmark the scheduler (simulated executor)."); rc >= 0) return rc;
    auto reps = positiveInt(parser, "repetitions", 1, 100);
    auto batch = positiveInt(parser, "max-batch-size", 1, 4096);
    if (!reps || !batch) return 2;
    engine::SchedulerBenchOptions options;
    options.repetitions = std::int32_t(*reps);
    options.maxBatchSize = std::int32_t(*batch);
    options.quick = parser.isSet("quick");
    std::fprintf(stderr, "running scheduler benchmarks (%d repetitions each)...\n", options.repetitions);
    const auto report = engine::runSchedulerBench(options);
    if (parser.isSet("json")) std::cout << schedulerBenchJson(report);
    else printSchedulerBench(report);
    return 0;
}

}  // namespace batchscope::app
