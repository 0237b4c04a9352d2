// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/workload_csv.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <fstream>

#include "engine/trace/trace_row_parser.h"

namespace batchscope::engine {

const char* const kWorkloadCsvHeader =
    "arrival_seconds,prompt_tokens,output_tokens,priority,cancel_after_seconds,client,prefix_block_hashes";

namespace {

constexpr std::int64_t kMaxTokens = std::int64_t(1) << 30;

/// Shortest text that reads back as exactly `v`.
std::string shortest(double v) {
    std::array<char, 32> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return ec == std::errc() ? std::string(buf.data(), end) : std::string("0");
}

/// A client name as a CSV field: quoted when it holds a comma, a quote or spaces at its ends.
std::string csvField(const std::string& text) {
    const bool plain = text.find_first_of(",\"\r\n") == std::string::npos &&
                       (text.empty() || (text.front() != ' ' && text.back() != ' '));
    if (plain) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '\r' || c == '\n') c = ' ';  // a field cannot span lines in our reader
        out += c;
        if (c == '"') out += '"';
    }
    return out + "\"";
}

std::optional<int> priorityFromText(std::string_view t) {
    static constexpr std::array<std::string_view, 4> kNames{"low", "normal", "high", "critical"};
    for (std::size_t i = 0; i < kNames.size(); ++i)
        if (t == kNames[i] || (t.size() == 1 && t[0] == char('0' + i))) return int(i);
    return std::nullopt;
}

class WorkloadCsvRowParser final : public TraceRowParser {
public:
    explicit WorkloadCsvRowParser(const CsvHeader& h)
        : m_arrival(*h.find("arrival_seconds")), m_prompt(*h.find("prompt_tokens")), m_output(*h.find("output_tokens")),
          m_priority(h.find("priority")), m_cancel(h.find("cancel_after_seconds")), m_client(h.find("client")),
          m_hashes(h.find("prefix_block_hashes")) {}

    Result<std::optional<WorkloadRequest>> parse(const CsvReader& reader, const std::vector<std::string>& fields) override {
        WorkloadRequest r;
        auto arrival = parseCsvNumber(reader, fields, m_arrival, "arrival_seconds", 0.0);
        if (!arrival) return arrival.error();
        auto prompt = parseCsvInteger(reader, fields, m_prompt, "prompt_tokens", 1, kMaxTokens);
        if (!prompt) return prompt.error();
        auto output = parseCsvInteger(reader, fields, m_output, "output_tokens", 1, kMaxTokens);
        if (!output) return output.error();
        r.arrivalSeconds = *arrival;
        r.promptTokens = int(*prompt);
        r.outputTokens = int(*output);
        if (auto t = optionalField(fields, m_priority); !t.empty()) {
            auto p = priorityFromText(t);
            if (!p) return reader.fieldError(*m_priority, "priority", "expected 0..3 or low/normal/high/critical, got '" +
                                                                          std::string(t.substr(0, 40)) + "'");
            r.priority = *p;
        }
        if (!optionalField(fields, m_cancel).empty()) {
            auto c = parseCsvNumber(reader, fields, *m_cancel, "cancel_after_seconds", 0.0);
            if (!c) return c.error();
            r.cancelAfterSeconds = *c;
        }
        if (m_client && *m_client < int(fields.size())) r.client = std::string(trimCsvField(fields[std::size_t(*m_client)]));
        if (auto t = optionalField(fields, m_hashes); !t.empty()) {
            auto hashes = parseHashes(reader, t);
            if (!hashes) return hashes.error();
            r.prefixBlockHashes = std::move(hashes.value());
        }
        return std::optional<WorkloadRequest>(std::move(r));
    }

private:
    static std::string_view optionalField(const std::vector<std::string>& fields, std::optional<int> column) {
        if (!column || *column >= int(fields.size())) return {};
        return trimCsvField(fields[std::size_t(*column)]);
    }

    Result<std::vector<std::uint64_t>> parseHashes(const CsvReader& reader, std::string_view t) const {
        std::vector<std::uint64_t> out;
        while (!t.empty()) {
            const std::size_t end = std::min(t.find(' '), t.size());
            const std::string_view word = t.substr(0, end);
            std::uint64_t v = 0;
            auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v, 16);
            if (word.size() > 16 || ec != std::errc() || p != word.data() + word.size())
                return reader.fieldError(*m_hashes, "prefix_block_hashes",
                                         "expected hexadecimal hashes separated by spaces, got '" +
                                             std::string(word.substr(0, 40)) + "'");
            out.push_back(v);
            t = trimCsvField(t.substr(end));
        }
        return out;
    }

    int m_arrival, m_prompt, m_output;
    std::optional<int> m_priority, m_cancel, m_client, m_hashes;
};

}  // namespace

void writeWorkloadCsv(std::ostream& out, const std::vector<WorkloadRequest>& requests) {
    out << kWorkloadCsvHeader << '\n';
    for (const auto& r : requests) {
        out << shortest(r.arrivalSeconds) << ',' << r.promptTokens << ',' << r.outputTokens << ',' << r.priority << ',';
        if (r.cancelAfterSeconds) out << shortest(*r.cancelAfterSeconds);
        out << ',' << csvField(r.client) << ',';
        for (std::size_t i = 0; i < r.prefixBlockHashes.size(); ++i) {
            char buf[17];
            std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(r.prefixBlockHashes[i]));
            out << (i ? " " : "") << buf;
        }
        out << '\n';
    }
}

Status writeWorkloadCsvFile(const std::string& path, const std::vector<WorkloadRequest>& requests) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return makeError(ErrorCode::NotFound, "cannot write '" + path + "'");
    writeWorkloadCsv(out, requests);
    out.flush();
    if (!out) return makeError(ErrorCode::Internal, "writing '" + path + "' failed (disk full?)");
    return Ok{};
}

Result<std::unique_ptr<TraceRowParser>> makeWorkloadCsvRowParser(const CsvHeader& header, const CsvReader& reader) {
    for (const char* name : {"arrival_seconds", "prompt_tokens", "output_tokens"})
        if (auto c = header.require(name, reader); !c) return c.error();
    return std::unique_ptr<TraceRowParser>(std::make_unique<WorkloadCsvRowParser>(header));
}

}  // namespace batchscope::engine
