// One trace format's row reader: the importer (trace_import.cpp) reads the header, builds the
// format's parser from it and feeds it the data rows.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/trace/csv_reader.h"
#include "engine/trace/workload.h"

namespace batchscope::engine {

/// Turns one data row of a trace into a request; nullopt = the row is skipped (0 tokens).
/// One implementation per trace format, built from that format's header row.
class TraceRowParser {
public:
    virtual ~TraceRowParser() = default;
    /// `arrivalSeconds` of the result may be on any origin (the importer makes it relative).
    virtual Result<std::optional<WorkloadRequest>> parse(const CsvReader& reader,
                                                         const std::vector<std::string>& fields) = 0;
};

/// Row parsers for the three formats; an error when a required column is missing.
Result<std::unique_ptr<TraceRowParser>> makeWorkloadCsvRowParser(const CsvHeader& header, const CsvReader& reader);
Result<std::unique_ptr<TraceRowParser>> makeAzureRowParser(const CsvHeader& header, const CsvReader& reader);
Result<std::unique_ptr<TraceRowParser>> makeBurstGptRowParser(const CsvHeader& header, const CsvReader& reader);

}  // namespace batchscope::engine
