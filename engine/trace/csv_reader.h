// Row-by-row CSV reading for workload traces, with the line and column of every field so that
// a malformed row gets an error naming where it is.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/result.h"

namespace batchscope::engine {

/// Reads RFC 4180 CSV from a stream: comma-separated fields, optional double quotes ("" inside
/// quotes is a quote), CRLF or LF line ends, blank lines skipped. A quoted field cannot span
/// lines (no trace format we read needs it); that is reported as an error. Not thread-safe; one
/// reader per stream.
class CsvReader {
public:
    /// `sourceName` prefixes every error message (usually the file name).
    CsvReader(std::istream& in, std::string sourceName);

    /// Reads the next non-blank row into `fields`. True when a row was read, false at the end
    /// of the input; an error for an unterminated quote or a stray character after a quote.
    Result<bool> next(std::vector<std::string>& fields);

    /// 1-based line number of the row last returned by next().
    std::int64_t lineNumber() const { return m_line; }
    const std::string& sourceName() const { return m_source; }

    /// "SOURCE: line L, column C (NAME): WHAT" — the form of every error about a field.
    Error fieldError(int column, std::string_view columnName, std::string_view what) const;
    /// "SOURCE: line L: WHAT" — errors about a whole row.
    Error rowError(std::string_view what) const;

private:
    std::istream& m_in;
    std::string m_source;
    std::string m_buffer;
    std::int64_t m_line = 0;
};

/// The header row's columns looked up by name (case-insensitive, surrounding spaces ignored).
class CsvHeader {
public:
    explicit CsvHeader(std::vector<std::string> names);
    /// 0-based index of the column, or nullopt.
    std::optional<int> find(std::string_view name) const;
    /// Like find(), but an error "missing column NAME (the header has: ...)" when absent.
    Result<int> require(std::string_view name, const CsvReader& reader) const;
    int size() const { return int(m_names.size()); }
    const std::string& name(int column) const { return m_names[std::size_t(column)]; }

private:
    std::vector<std::string> m_names;
};

/// Field parsers; each error names line, column and the offending text. `column` is 0-based.
Result<std::int64_t> parseCsvInteger(const CsvReader& reader, const std::vector<std::string>& fields, int column,
                                     std::string_view columnName, std::int64_t minValue, std::int64_t maxValue);
Result<double> parseCsvNumber(const CsvReader& reader, const std::vector<std::string>& fields, int column,
                              std::string_view columnName, double minValue);

/// `text` without leading and trailing spaces and tabs.
std::string_view trimCsvField(std::string_view text);

}  // namespace batchscope::engine
