// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/unicode_data.h"


namespace batchscope::engine::unicode {

std::vector<Utf8Unit> decodeUtf8(std::string_view text) {
    std::vector<Utf8Unit> units;
    units.reserve(text.size());
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        std::uint32_t cp = 0xFFFD;
        std::uint32_t len = 1;
        std::uint32_t need = 0, min = 0;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, min = 0x80, cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, min = 0x800, cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, min = 0x10000, cp = c & 0x07;
        }
        if (need > 0) {
            bool ok = i + need < n + 1;  // all continuation bytes present
            for (std::uint32_t k = 1; ok && k <= need; ++k) {
                if ((s[i + k] & 0xC0) != 0x80) ok = false;
                else cp = (cp << 6) | (s[i + k] & 0x3F);
            }
            if (ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                len = need + 1;
            } else {
                cp = 0xFFFD;
            }
        } else if (c >= 0x80) {
            cp = 0xFFFD;  // stray continuation byte or invalid lead
        }
        units.push_back({cp, i, len});
        i += len;
    }
    return units;
}

void appendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

}  // namespace batchscope::engine::unicode
