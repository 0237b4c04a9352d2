// Our workload CSV: the file `batchscope workload generate` writes and every workload command
// reads. One request per row, documented in docs/replay.md.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <ostream>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/trace/workload.h"

namespace batchscope::engine {

/// The header row, in the order written:
/// arrival_seconds,prompt_tokens,output_tokens,priority,cancel_after_seconds,client,prefix_block_hashes
extern const char* const kWorkloadCsvHeader;

/// Writes the header and one row per request. Numbers are written in their shortest exact
/// form, so reading the file back gives identical values. prefix_block_hashes: 16-digit hex
/// numbers separated by spaces.
void writeWorkloadCsv(std::ostream& out, const std::vector<WorkloadRequest>& requests);
/// The same into a file (replaced); an error naming the path when it cannot be written.
Status writeWorkloadCsvFile(const std::string& path, const std::vector<WorkloadRequest>& requests);

}  // namespace batchscope::engine
