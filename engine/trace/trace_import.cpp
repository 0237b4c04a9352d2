// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/trace_import.h"

#include <algorithm>
#include <fstream>

#include "engine/trace/trace_row_parser.h"

namespace batchscope::engine {
namespace {

/// The format whose required columns the header has; Auto when none matches.
TraceFormat detectFormat(const CsvHeader& header) {
    if (header.find("ContextTokens") && header.find("GeneratedTokens")) return TraceFormat::Azure;
    if (header.find("Request tokens") && header.find("Response tokens")) return TraceFormat::BurstGpt;
    if (header.find("arrival_seconds") && header.find("prompt_tokens")) return TraceFormat::Workload;
    return TraceFormat::Auto;
}

Result<std::unique_ptr<TraceRowParser>> makeParser(TraceFormat format, const CsvHeader& header, const CsvReader& reader) {
    switch (format) {
    case TraceFormat::Azure: return makeAzureRowParser(header, reader);
    case TraceFormat::BurstGpt: return makeBurstGptRowParser(header, reader);
    case TraceFormat::Workload: return makeWorkloadCsvRowParser(header, reader);
    case TraceFormat::Auto: break;
    }
    return reader.rowError(
        "not a known trace header: expected Azure (TIMESTAMP,ContextTokens,GeneratedTokens), BurstGPT "
        "(Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type) or a workload CSV "
        "(arrival_seconds,prompt_tokens,output_tokens,...)");
}

/// Sorts by arrival (stable) and moves the origin to the earliest request.
void makeRelative(std::vector<WorkloadRequest>& requests) {
    std::stable_sort(requests.begin(), requests.end(), [](const WorkloadRequest& a, const WorkloadRequest& b) {
        return a.arrivalSeconds < b.arrivalSeconds;
    });
    if (requests.empty()) return;
    const double origin = requests.front().arrivalSeconds;
    for (auto& r : requests) r.arrivalSeconds -= origin;
}

}  // namespace

std::optional<TraceFormat> traceFormatFromName(std::string_view name) {
    if (name == "auto") return TraceFormat::Auto;
    if (name == "azure") return TraceFormat::Azure;
    if (name == "burstgpt") return TraceFormat::BurstGpt;
    if (name == "csv" || name == "workload") return TraceFormat::Workload;
    return std::nullopt;
}

const char* traceFormatName(TraceFormat format) {
    switch (format) {
    case TraceFormat::Auto: return "auto";
    case TraceFormat::Azure: return "azure";
    case TraceFormat::BurstGpt: return "burstgpt";
    case TraceFormat::Workload: return "csv";
    }
    return "?";
}

Result<ImportedTrace> importTrace(std::istream& in, const std::string& sourceName, const TraceImportOptions& options) {
    CsvReader reader(in, sourceName);
    std::vector<std::string> fields;
    auto got = reader.next(fields);
    if (!got) return got.error();
    if (!*got) return makeError(ErrorCode::InvalidFormat, sourceName + ": empty file (no header row)");
    const CsvHeader header(fields);
    ImportedTrace trace;
    trace.format = options.format == TraceFormat::Auto ? detectFormat(header) : options.format;
    auto parser = makeParser(trace.format, header, reader);
    if (!parser) return parser.error();
    while (options.limit <= 0 || std::int64_t(trace.requests.size()) < options.limit) {
        got = reader.next(fields);
        if (!got) return got.error();
        if (!*got) break;
        ++trace.rows;
        auto request = parser.value()->parse(reader, fields);
        if (!request) return request.error();
        if (request.value()) trace.requests.push_back(std::move(*request.value()));
        else ++trace.skippedZeroTokens;
    }
    if (trace.requests.empty())
        return makeError(ErrorCode::InvalidFormat,
                         sourceName + ": no requests (" + std::to_string(trace.rows) + " data rows, " +
                             std::to_string(trace.skippedZeroTokens) + " of them with 0 prompt or output tokens)");
    makeRelative(trace.requests);
    return trace;
}

Result<ImportedTrace> importTrace(const std::string& path, const TraceImportOptions& options) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return makeError(ErrorCode::NotFound, "cannot open trace '" + path + "'");
    return importTrace(in, path, options);
}

}  // namespace batchscope::engine
