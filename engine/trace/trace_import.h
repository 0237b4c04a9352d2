// Importing workloads from trace files: Azure's LLM inference traces, BurstGPT, and our own
// workload CSV (engine/trace/workload_csv.h), into WorkloadRequest lists.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"
#include "engine/trace/workload.h"

namespace batchscope::engine {

enum class TraceFormat {
    Auto,      ///< decided from the header row
    Azure,     ///< Azure LLM inference trace: TIMESTAMP,ContextTokens,GeneratedTokens
    BurstGpt,  ///< BurstGPT: Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
    Workload,  ///< ours: arrival_seconds,prompt_tokens,output_tokens[,priority,...] (workload_csv.h)
};

/// "auto", "azure", "burstgpt", "csv" (our workload CSV); nullopt for anything else.
std::optional<TraceFormat> traceFormatFromName(std::string_view name);
const char* traceFormatName(TraceFormat format);

struct TraceImportOptions {
    TraceFormat format = TraceFormat::Auto;
    /// Read at most this many requests, the first ones in file order (traces are in time order;
    /// this keeps a multi-million-row file cheap to sample). 0 = all.
    std::int64_t limit = 0;
};

/// An imported trace. Plain value.
struct ImportedTrace {
    TraceFormat format = TraceFormat::Auto;  ///< the format actually read (never Auto)
    /// Sorted by arrival (stable: rows with equal times keep file order); the first arrives at
    /// 0 s, the rest relative to it.
    std::vector<WorkloadRequest> requests;
    std::int64_t rows = 0;  ///< data rows read (header excluded)
    /// Rows left out because their prompt or output had 0 tokens: such a request cannot be
    /// replayed (BurstGPT marks failed requests with 0 response tokens). Never silent: the
    /// commands print the count.
    std::int64_t skippedZeroTokens = 0;
};

/// Reads a trace file. Errors: the file cannot be opened (NotFound), an unknown header
/// (InvalidFormat naming the expected columns), a malformed row (InvalidFormat:
/// "FILE: line L, column C (NAME): what was wrong"), no requests at all.
Result<ImportedTrace> importTrace(const std::string& path, const TraceImportOptions& options = {});
/// The same from a stream; `sourceName` prefixes the error messages.
Result<ImportedTrace> importTrace(std::istream& in, const std::string& sourceName,
                                  const TraceImportOptions& options = {});

/// Parses "2023-11-16 18:15:46.6805900" (also with 'T' instead of the space, up to 9
/// fractional digits, an optional "Z" or "+00:00") into nanoseconds since 1970-01-01 UTC.
std::optional<std::int64_t> parseTraceTimestamp(std::string_view text);

}  // namespace batchscope::engine
