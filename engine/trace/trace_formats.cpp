// Row parsers of the public production trace formats: Azure LLM inference traces and BurstGPT.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <charconv>
#include <limits>

#include "engine/trace/trace_import.h"
#include "engine/trace/trace_row_parser.h"

namespace batchscope::engine {
namespace {

constexpr std::int64_t kMaxTokens = std::int64_t(1) << 30;  // far beyond any context; catches garbage

/// Days from 1970-01-01 to the civil date (proleptic Gregorian; H. Hinnant's algorithm).
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + std::int64_t(doe) - 719468;
}

bool readDigits(std::string_view& s, std::size_t count, unsigned& out) {
    if (s.size() < count) return false;
    out = 0;
    for (std::size_t i = 0; i < count; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + unsigned(s[i] - '0');
    }
    s.remove_prefix(count);
    return true;
}

bool expect(std::string_view& s, char c) {
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

/// Azure: TIMESTAMP (a UTC date and time), ContextTokens (the prompt), GeneratedTokens.
class AzureRowParser final : public TraceRowParser {
public:
    AzureRowParser(int time, int context, int generated) : m_time(time), m_context(context), m_generated(generated) {}

    Result<std::optional<WorkloadRequest>> parse(const CsvReader& reader, const std::vector<std::string>& fields) override {
        if (m_time >= int(fields.size()))
            return reader.fieldError(m_time, "TIMESTAMP", "missing (the row has only " + std::to_string(fields.size()) + " fields)");
        const std::string_view text = trimCsvField(fields[std::size_t(m_time)]);
        const auto ns = parseTraceTimestamp(text);
        if (!ns)
            return reader.fieldError(m_time, "TIMESTAMP", "expected a date and time like '2023-11-16 18:15:46.6805900', got '" +
                                                              std::string(text.substr(0, 40)) + "'");
        if (!m_origin) m_origin = *ns;
        auto prompt = parseCsvInteger(reader, fields, m_context, "ContextTokens", 0, kMaxTokens);
        if (!prompt) return prompt.error();
        auto output = parseCsvInteger(reader, fields, m_generated, "GeneratedTokens", 0, kMaxTokens);
        if (!output) return output.error();
        if (*prompt == 0 || *output == 0) return std::optional<WorkloadRequest>();
        WorkloadRequest r;
        r.arrivalSeconds = double(*ns - *m_origin) / 1e9;  // relative to the first row: exact to the ns
        r.promptTokens = int(*prompt);
        r.outputTokens = int(*output);
        return std::optional<WorkloadRequest>(std::move(r));
    }

private:
    int m_time, m_context, m_generated;
    std::optional<std::int64_t> m_origin;
};

/// BurstGPT: Timestamp (seconds since the trace start), Model, Request tokens, Response
/// tokens, Total tokens, Log Type. The model name becomes the request's client.
class BurstGptRowParser final : public TraceRowParser {
public:
    BurstGptRowParser(int time, int request, int response, std::optional<int> model)
        : m_time(time), m_request(request), m_response(response), m_model(model) {}

    Result<std::optional<WorkloadRequest>> parse(const CsvReader& reader, const std::vector<std::string>& fields) override {
        auto time = parseCsvNumber(reader, fields, m_time, "Timestamp", 0.0);
        if (!time) return time.error();
        auto prompt = parseCsvInteger(reader, fields, m_request, "Request tokens", 0, kMaxTokens);
        if (!prompt) return prompt.error();
        auto output = parseCsvInteger(reader, fields, m_response, "Response tokens", 0, kMaxTokens);
        if (!output) return output.error();
        if (*prompt == 0 || *output == 0) return std::optional<WorkloadRequest>();
        WorkloadRequest r;
        r.arrivalSeconds = *time;
        r.promptTokens = int(*prompt);
        r.outputTokens = int(*output);
        if (m_model && *m_model < int(fields.size())) r.client = std::string(trimCsvField(fields[std::size_t(*m_model)]));
        return std::optional<WorkloadRequest>(std::move(r));
    }

private:
    int m_time, m_request, m_response;
    std::optional<int> m_model;
};

}  // namespace

std::optional<std::int64_t> parseTraceTimestamp(std::string_view s) {
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!readDigits(s, 4, year) || !expect(s, '-') || !readDigits(s, 2, month) || !expect(s, '-') ||
        !readDigits(s, 2, day))
        return std::nullopt;
    if (s.empty() || (s.front() != ' ' && s.front() != 'T')) return std::nullopt;
    s.remove_prefix(1);
    if (!readDigits(s, 2, hour) || !expect(s, ':') || !readDigits(s, 2, minute) || !expect(s, ':') ||
        !readDigits(s, 2, second))
        return std::nullopt;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    std::int64_t nanos = 0;
    if (!s.empty() && s.front() == '.') {
        s.remove_prefix(1);
        std::int64_t scale = 100000000;
        std::size_t digits = 0;
        while (!s.empty() && s.front() >= '0' && s.front() <= '9') {
            if (++digits > 9) return std::nullopt;
            nanos += (s.front() - '0') * scale;
            scale /= 10;
            s.remove_prefix(1);
        }
        if (digits == 0) return std::nullopt;
    }
    if (s == "Z" || s == "+00:00") s = {};
    if (!s.empty()) return std::nullopt;
    const std::int64_t seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
    return seconds * 1000000000 + nanos;
}

Result<std::unique_ptr<TraceRowParser>> makeAzureRowParser(const CsvHeader& header, const CsvReader& reader) {
    auto time = header.require("TIMESTAMP", reader);
    auto context = header.require("ContextTokens", reader);
    auto generated = header.require("GeneratedTokens", reader);
    if (!time) return time.error();
    if (!context) return context.error();
    if (!generated) return generated.error();
    return std::unique_ptr<TraceRowParser>(std::make_unique<AzureRowParser>(*time, *context, *generated));
}

Result<std::unique_ptr<TraceRowParser>> makeBurstGptRowParser(const CsvHeader& header, const CsvReader& reader) {
    auto time = header.require("Timestamp", reader);
    auto request = header.require("Request tokens", reader);
    auto response = header.require("Response tokens", reader);
    if (!time) return time.error();
    if (!request) return request.error();
    if (!response) return response.error();
    return std::unique_ptr<TraceRowParser>(
        std::make_unique<BurstGptRowParser>(*time, *request, *response, header.find("Model")));
}

}  // namespace batchscope::engine
