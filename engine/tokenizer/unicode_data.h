// Unicode code point classification and UTF-8 helpers for the tokenizers' pre-tokenizer.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace batchscope::engine::unicode {

/// Bit flags of a code point. Letter = general category L*, Number = N*, Whitespace = the
/// White_Space property (what regex \s matches), Assigned = any category but Cn.
enum CodepointFlag : std::uint8_t {
    kLetter = 1,
    kNumber = 2,
    kWhitespace = 4,
    kAssigned = 8,
};

struct CodepointRun {
    std::uint32_t first;
    std::uint8_t flags;
};

/// The generated table (unicode_table.cpp): sorted runs covering 0..0x10FFFF.
extern const CodepointRun kRuns[];
extern const std::size_t kRunCount;
extern const char* const kUnicodeVersion;

/// Flags of `cp`; 0 for values above 0x10FFFF. O(log runs), ASCII by direct lookup.
std::uint8_t codepointFlags(std::uint32_t cp);

/// One decoded unit of a UTF-8 string. An invalid or truncated sequence gives a unit of one
/// byte with cp = 0xFFFD, so the units always tile the input exactly.
struct Utf8Unit {
    std::uint32_t cp;
    std::size_t offset;    ///< byte offset in the input
    std::uint32_t length;  ///< bytes, 1..4
};

/// Decodes `text` into units (strict: rejects overlong forms, surrogates, > U+10FFFF).
std::vector<Utf8Unit> decodeUtf8(std::string_view text);

/// Appends the UTF-8 encoding of `cp` (must be <= 0x10FFFF).
void appendUtf8(std::string& out, std::uint32_t cp);

/// Bytes in the UTF-8 sequence that starts with `lead`, by its high 4 bits, as llama.cpp's
/// unicode_len_utf8 (continuation bytes give 1).
inline std::size_t utf8LengthFromLead(unsigned char lead) {
    static constexpr std::uint8_t kLookup[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return kLookup[lead >> 4];
}

}  // namespace batchscope::engine::unicode
