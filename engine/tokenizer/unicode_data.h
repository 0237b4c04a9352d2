// UTF-8 helpers for the tokenizers. (Unicode categories for pre-tokenizing come from PCRE2.)
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace batchscope::engine::unicode {

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
