// Python str semantics on UTF-8 text for the interpreter: code-point indexing and slicing,
// whitespace (str.isspace), strip/split/replace keeping the provenance mask, case mapping
// (ASCII letters only; other characters are left as they are).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/chat/jinja_value.h"

namespace batchscope::engine::jinja {

/// Byte offset of every code point start, plus text.size() at the end.
std::vector<std::size_t> codePointOffsets(std::string_view text);
std::size_t codePointCount(std::string_view text);

/// Python's slice semantics for a sequence of `length`.
std::vector<std::size_t> sliceIndices(std::size_t length, std::optional<std::int64_t> start,
                                      std::optional<std::int64_t> stop, std::optional<std::int64_t> step);
MarkedString sliceString(const MarkedString& s, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                         std::optional<std::int64_t> step);
/// s[index] by code point (negative from the end); nullopt when out of range.
std::optional<MarkedString> charAt(const MarkedString& s, std::int64_t index);

/// str.strip / lstrip / rstrip. `chars` empty: Unicode whitespace.
MarkedString stripText(const MarkedString& s, bool left, bool right, const std::optional<std::string>& chars);
/// str.split(sep, maxsplit) / rsplit; no sep: runs of whitespace.
std::vector<MarkedString> splitText(const MarkedString& s, const std::optional<std::string>& sep, std::int64_t maxSplit,
                                    bool fromRight);
MarkedString replaceText(const MarkedString& s, std::string_view from, const MarkedString& to, std::int64_t count);
MarkedString upperText(const MarkedString& s);
MarkedString lowerText(const MarkedString& s);
MarkedString titleText(const MarkedString& s);
MarkedString capitalizeText(const MarkedString& s);
/// Splits on \n, \r\n and \r (str.splitlines for the separators templates meet).
std::vector<MarkedString> splitLines(const MarkedString& s);

/// Python json.dumps(v, ensure_ascii=False, indent=..., sort_keys=...) as Hugging Face's
/// tojson filter calls it. indent < 0: single line with ", " and ": " separators.
std::string toJson(const Value& v, int indent, bool sortKeys);

}  // namespace batchscope::engine::jinja
