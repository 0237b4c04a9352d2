// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/csv_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace batchscope::engine {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

/// Quotes a field for an error message, shortened so a huge field cannot flood the terminal.
std::string quoted(std::string_view text) {
    constexpr std::size_t kMax = 40;
    std::string s(text.substr(0, kMax));
    if (text.size() > kMax) s += "...";
    return "'" + s + "'";
}

std::string formatNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

std::string_view trimCsvField(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

CsvReader::CsvReader(std::istream& in, std::string sourceName) : m_in(in), m_source(std::move(sourceName)) {}

Result<bool> CsvReader::next(std::vector<std::string>& fields) {
    fields.clear();
    while (std::getline(m_in, m_buffer)) {
        ++m_line;
        if (!m_buffer.empty() && m_buffer.back() == '\r') m_buffer.pop_back();
        if (m_line == 1 && m_buffer.rfind("\xEF\xBB\xBF", 0) == 0) m_buffer.erase(0, 3);  // UTF-8 BOM
        if (trimCsvField(m_buffer).empty()) continue;
        std::string field;
        bool inQuotes = false, afterQuote = false;
        for (std::size_t i = 0; i < m_buffer.size(); ++i) {
            const char c = m_buffer[i];
            if (inQuotes) {
                if (c != '"') field += c;
                else if (i + 1 < m_buffer.size() && m_buffer[i + 1] == '"') field += '"', ++i;
                else inQuotes = false, afterQuote = true;
            } else if (c == ',') {
                fields.push_back(std::move(field));
                field.clear();
                afterQuote = false;
            } else if (c == '"' && trimCsvField(field).empty() && !afterQuote) {
                field.clear();
                inQuotes = true;
            } else if (afterQuote && c != ' ' && c != '\t') {
                return fieldError(int(fields.size()), "", "unexpected character after a closing quote");
            } else if (!afterQuote) {
                field += c;
            }
        }
        if (inQuotes)
            return fieldError(int(fields.size()), "", "unterminated quote (a quoted field must end on its line)");
        fields.push_back(std::move(field));
        return true;
    }
    if (m_in.bad()) return makeError(ErrorCode::InvalidFormat, m_source + ": read error after line " + std::to_string(m_line));
    return false;
}

Error CsvReader::fieldError(int column, std::string_view columnName, std::string_view what) const {
    std::string msg = m_source + ": line " + std::to_string(m_line) + ", column " + std::to_string(column + 1);
    if (!columnName.empty()) msg += " (" + std::string(columnName) + ")";
    return makeError(ErrorCode::InvalidFormat, msg + ": " + std::string(what));
}

Error CsvReader::rowError(std::string_view what) const {
    return makeError(ErrorCode::InvalidFormat, m_source + ": line " + std::to_string(m_line) + ": " + std::string(what));
}

CsvHeader::CsvHeader(std::vector<std::string> names) : m_names(std::move(names)) {
    for (auto& n : m_names) n = std::string(trimCsvField(n));
}

std::optional<int> CsvHeader::find(std::string_view name) const {
    for (std::size_t i = 0; i < m_names.size(); ++i)
        if (equalsIgnoreCase(m_names[i], name)) return int(i);
    return std::nullopt;
}

Result<int> CsvHeader::require(std::string_view name, const CsvReader& reader) const {
    if (auto i = find(name)) return *i;
    std::string have;
    for (const auto& n : m_names) have += (have.empty() ? "" : ", ") + n;
    return reader.rowError("missing column '" + std::string(name) + "' (the header has: " + have + ")");
}

namespace {
Result<std::string_view> fieldAt(const CsvReader& reader, const std::vector<std::string>& fields, int column,
                                 std::string_view columnName) {
    if (column >= int(fields.size()))
        return reader.fieldError(column, columnName,
                                 "missing (the row has only " + std::to_string(fields.size()) + " fields)");
    return trimCsvField(fields[std::size_t(column)]);
}
}  // namespace

Result<std::int64_t> parseCsvInteger(const CsvReader& reader, const std::vector<std::string>& fields, int column,
                                     std::string_view columnName, std::int64_t minValue, std::int64_t maxValue) {
    auto text = fieldAt(reader, fields, column, columnName);
    if (!text) return text.error();
    std::string_view t = *text;
    std::int64_t v = 0;
    // Some exports write integers as "12.0"; accept a zero fraction, nothing else.
    std::string_view digits = t;
    if (auto dot = t.find('.'); dot != std::string_view::npos && t.find_first_not_of('0', dot + 1) == std::string_view::npos)
        digits = t.substr(0, dot);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (t.empty() || ec != std::errc() || end != digits.data() + digits.size())
        return reader.fieldError(column, columnName, "expected a whole number, got " + quoted(t));
    if (v < minValue || v > maxValue)
        return reader.fieldError(column, columnName,
                                 "must be in [" + std::to_string(minValue) + ", " + std::to_string(maxValue) +
                                     "], got " + quoted(t));
    return v;
}

Result<double> parseCsvNumber(const CsvReader& reader, const std::vector<std::string>& fields, int column,
                              std::string_view columnName, double minValue) {
    auto text = fieldAt(reader, fields, column, columnName);
    if (!text) return text.error();
    std::string_view t = *text;
    double v = 0;
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v))
        return reader.fieldError(column, columnName, "expected a number, got " + quoted(t));
    if (v < minValue)
        return reader.fieldError(column, columnName, "must be at least " + formatNumber(minValue) + ", got " + quoted(t));
    return v;
}

}  // namespace batchscope::engine
