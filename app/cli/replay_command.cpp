// `batchscope replay TRACE [--set key=value[,key=value]]... [--json]`: re-runs a recorded
// trace through the scheduler on virtual time, as recorded and under each --set variant.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <cstdio>
#include <iostream>

#include "app/cli/cli_common.h"
#include "engine/trace/replay_bench.h"
#include "engine/trace/replay_check.h"
#include "engine/trace/replay_report.h"

namespace batchscope::app {

int runReplay(const QStringList& args) {
    QCommandLineParser parser;
    parser.addPositionalArgument("trace", "The trace file (SQLite).");
    parser.addOptions({
        {"set", "A what-if variant: key=value[,key=value...] (repeatable; one variant each). Keys: " +
                    QString::fromStdString(engine::replaySettingKeys()) + ".", "key=value"},
        {"workload", "Replay this load instead of the recorded one, with the trace's settings and step costs: an "
                     "Azure or BurstGPT trace or a workload CSV ('batchscope workload').", "file"},
        {"json", "Print the report as JSON."},
        {"check-steps", "Only check the scheduler's side of the replay: replay the recorded requests with each "
                        "step costing the recorded step's time and report how many steps come out identical to "
                        "the recorded ones, where the first differs, and the figures' errors."},
    });
    if (int rc = parseOrExit(parser, args,
                             "Replay a recorded trace (--record FILE of serve/bench) through the real scheduler on a "
                             "virtual clock, with a step-cost model fitted to the recorded steps: the recorded run, its "
                             "replay, and one replay per --set, side by side (the app's what-if panel runs the same).",
                             1);
        rc >= 0)
        return rc;
    const QStringList positional = parser.positionalArguments();
    if (parser.isSet("check-steps")) {
        if (parser.isSet("set") || parser.isSet("workload") || parser.isSet("json")) {
            std::cerr << "error: --check-steps replays the recorded run as recorded; it takes no --set, --workload "
                         "or --json\n";
            return 2;
        }
        auto trace = engine::readTrace(positional.first().toStdString());
        auto check = trace ? engine::replayWithRecordedStepTimes(trace.value())
                           : engine::Result<engine::StepCheck>(trace.error());
        if (!check) {
            std::cerr << "error: " << check.error().message << "\n";
            return 1;
        }
        std::cout << engine::formatStepCheck(check.value());
        return 0;
    }
    std::vector<std::string> sets;
    for (const QString& s : parser.values("set")) sets.push_back(s.toStdString());
    auto report = engine::replayTraceWithSettings(positional.first().toStdString(), sets,
                                                  parser.value("workload").toStdString());
    if (!report) {
        std::cerr << "error: " << report.error().message << "\n";
        return report.error().code == engine::ErrorCode::InvalidArgument ? 2 : 1;
    }
    std::cout << (parser.isSet("json") ? engine::formatReplayJson(report.value())
                                       : engine::formatReplayTable(report.value()));
    return 0;
}

}  // namespace batchscope::app
