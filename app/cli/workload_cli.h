// Helpers of the workload commands (`workload`, `load`): reading a trace named on the command
// line and describing a workload in a few lines.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QString>
#include <optional>
#include <string>
#include <vector>

#include "engine/trace/trace_import.h"

namespace batchscope::app {

/// Imports `path` in `formatName` (auto, azure, burstgpt, csv), at most `limit` requests (0 =
/// all); prints the error (with its line and column) or the skipped-row count to stderr.
std::optional<engine::ImportedTrace> readWorkload(const QString& path, const QString& formatName, long long limit);

/// "N requests over D s (R requests/s); prompt tokens mean M, p50, p99, max; output tokens ..."
std::string describeWorkload(const std::vector<engine::WorkloadRequest>& requests);

/// "2x", "2", "0.5x" -> the factor (> 0); nullopt for anything else.
std::optional<double> parseSpeed(const QString& text);

}  // namespace batchscope::app
