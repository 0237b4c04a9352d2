// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/chat/jinja_text.h"

#include <algorithm>

namespace batchscope::engine::jinja {
namespace {

std::size_t sequenceLength(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead & 0xe0) == 0xc0) return 2;
    if ((lead & 0xf0) == 0xe0) return 3;
    if ((lead & 0xf8) == 0xf0) return 4;
    return 1;  // stray continuation/invalid byte: one "character"
}

std::uint32_t decodeAt(std::string_view s, std::size_t pos, std::size_t len) {
    auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(s[pos + i])); };
    switch (len) {
    case 2: return ((b(0) & 0x1f) << 6) | (b(1) & 0x3f);
    case 3: return ((b(0) & 0x0f) << 12) | ((b(1) & 0x3f) << 6) | (b(2) & 0x3f);
    case 4: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3f) << 12) | ((b(2) & 0x3f) << 6) | (b(3) & 0x3f);
    default: return b(0);
    }
}

// Python str.isspace().
bool isPySpace(std::uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

struct CodePoint {
    std::size_t pos;
    std::size_t len;
    std::uint32_t cp;
};

std::vector<CodePoint> decode(std::string_view s) {
    std::vector<CodePoint> out;
    for (std::size_t i = 0; i < s.size();) {
        std::size_t len = std::min(sequenceLength(static_cast<unsigned char>(s[i])), s.size() - i);
        out.push_back({i, len, decodeAt(s, i, len)});
        i += len;
    }
    return out;
}

bool isAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char toUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
char toLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

}  // namespace

std::vector<std::size_t> codePointOffsets(std::string_view text) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < text.size();) {
        out.push_back(i);
        i += std::min(sequenceLength(static_cast<unsigned char>(text[i])), text.size() - i);
    }
    out.push_back(text.size());
    return out;
}

std::size_t codePointCount(std::string_view text) { return codePointOffsets(text).size() - 1; }

std::vector<std::size_t> sliceIndices(std::size_t length, std::optional<std::int64_t> start,
                                      std::optional<std::int64_t> stop, std::optional<std::int64_t> step) {
    std::int64_t n = static_cast<std::int64_t>(length);
    std::int64_t st = step.value_or(1);
    if (st == 0) throw TemplateError("slice step cannot be zero");
    auto clamp = [&](std::optional<std::int64_t> v, std::int64_t dflt, std::int64_t lo, std::int64_t hi) {
        if (!v) return dflt;
        std::int64_t x = *v < 0 ? *v + n : *v;
        return std::clamp(x, lo, hi);
    };
    std::vector<std::size_t> out;
    if (st > 0) {
        std::int64_t b = clamp(start, 0, 0, n);
        std::int64_t e = clamp(stop, n, 0, n);
        for (std::int64_t i = b; i < e; i += st) out.push_back(static_cast<std::size_t>(i));
    } else {
        std::int64_t b = clamp(start, n - 1, -1, n - 1);
        std::int64_t e = clamp(stop, -1, -1, n - 1);
        for (std::int64_t i = b; i > e; i += st) out.push_back(static_cast<std::size_t>(i));
    }
    return out;
}

MarkedString sliceString(const MarkedString& s, std::optional<std::int64_t> start, std::optional<std::int64_t> stop,
                         std::optional<std::int64_t> step) {
    auto offsets = codePointOffsets(s.text);
    MarkedString out;
    for (std::size_t i : sliceIndices(offsets.size() - 1, start, stop, step)) {
        out.append(s.substr(offsets[i], offsets[i + 1] - offsets[i]));
    }
    return out;
}

std::optional<MarkedString> charAt(const MarkedString& s, std::int64_t index) {
    auto offsets = codePointOffsets(s.text);
    std::int64_t n = static_cast<std::int64_t>(offsets.size()) - 1;
    if (index < 0) index += n;
    if (index < 0 || index >= n) return std::nullopt;
    auto i = static_cast<std::size_t>(index);
    return s.substr(offsets[i], offsets[i + 1] - offsets[i]);
}

namespace {

bool isAscii(std::string_view s) {
    unsigned char any = 0;
    for (char c : s) any |= static_cast<unsigned char>(c);
    return any < 0x80;
}

}  // namespace

MarkedString stripText(const MarkedString& s, bool left, bool right, const std::optional<std::string>& chars) {
    if (!chars && isAscii(s.text)) {  // every byte is a code point: no decoding (trim on messages)
        std::size_t b = 0;
        std::size_t e = s.text.size();
        auto space = [&](std::size_t i) { return isPySpace(static_cast<unsigned char>(s.text[i])); };
        if (left) {
            while (b < e && space(b)) ++b;
        }
        if (right) {
            while (e > b && space(e - 1)) --e;
        }
        if (b == 0 && e == s.text.size()) return s;
        return s.substr(b, e - b);
    }
    auto cps = decode(s.text);
    std::vector<std::uint32_t> set;
    if (chars) {
        for (const auto& c : decode(*chars)) set.push_back(c.cp);
    }
    auto strip = [&](std::uint32_t cp) {
        return chars ? std::find(set.begin(), set.end(), cp) != set.end() : isPySpace(cp);
    };
    std::size_t b = 0;
    std::size_t e = cps.size();
    if (left) {
        while (b < e && strip(cps[b].cp)) ++b;
    }
    if (right) {
        while (e > b && strip(cps[e - 1].cp)) --e;
    }
    if (b == e) return {};
    std::size_t from = cps[b].pos;
    std::size_t to = cps[e - 1].pos + cps[e - 1].len;
    return s.substr(from, to - from);
}

std::vector<MarkedString> splitText(const MarkedString& s, const std::optional<std::string>& sep, std::int64_t maxSplit,
                                    bool fromRight) {
    std::vector<MarkedString> parts;
    if (sep && sep->empty()) throw TemplateError("empty separator");
    if (sep) {
        // Find all separator positions, then keep maxSplit of them from the chosen end.
        std::vector<std::size_t> hits;
        for (std::size_t p = s.text.find(*sep); p != std::string::npos; p = s.text.find(*sep, p + sep->size())) {
            hits.push_back(p);
        }
        if (maxSplit >= 0 && hits.size() > static_cast<std::size_t>(maxSplit)) {
            if (fromRight) {
                // rsplit: separators are matched from the right, so re-scan backwards.
                hits.clear();
                std::size_t end = s.text.size();
                while (hits.size() < static_cast<std::size_t>(maxSplit)) {
                    if (end < sep->size()) break;
                    std::size_t p = s.text.rfind(*sep, end - sep->size());
                    if (p == std::string::npos) break;
                    hits.insert(hits.begin(), p);
                    end = p;
                }
            } else {
                hits.resize(static_cast<std::size_t>(maxSplit));
            }
        }
        std::size_t from = 0;
        for (std::size_t p : hits) {
            parts.push_back(s.substr(from, p - from));
            from = p + sep->size();
        }
        parts.push_back(s.substr(from, s.text.size() - from));
        return parts;
    }
    auto cps = decode(s.text);
    std::vector<std::pair<std::size_t, std::size_t>> words;
    for (std::size_t i = 0; i < cps.size();) {
        while (i < cps.size() && isPySpace(cps[i].cp)) ++i;
        if (i == cps.size()) break;
        std::size_t b = cps[i].pos;
        while (i < cps.size() && !isPySpace(cps[i].cp)) ++i;
        words.emplace_back(b, i < cps.size() ? cps[i].pos : s.text.size());
    }
    if (maxSplit >= 0 && words.size() > static_cast<std::size_t>(maxSplit) + 1) {
        auto keep = static_cast<std::size_t>(maxSplit);
        if (fromRight) {
            std::size_t restEnd = words[words.size() - keep - 1].second;
            parts.push_back(s.substr(words[0].first, restEnd - words[0].first));
            for (std::size_t i = words.size() - keep; i < words.size(); ++i) {
                parts.push_back(s.substr(words[i].first, words[i].second - words[i].first));
            }
        } else {
            for (std::size_t i = 0; i < keep; ++i) parts.push_back(s.substr(words[i].first, words[i].second - words[i].first));
            MarkedString rest = s.substr(words[keep].first, s.text.size() - words[keep].first);
            parts.push_back(stripText(rest, false, true, std::nullopt));
        }
        return parts;
    }
    for (const auto& [b, e] : words) parts.push_back(s.substr(b, e - b));
    return parts;
}

MarkedString replaceText(const MarkedString& s, std::string_view from, const MarkedString& to, std::int64_t count) {
    MarkedString out;
    if (from.empty()) {
        // Python inserts `to` between every character (and at both ends).
        auto offsets = codePointOffsets(s.text);
        std::int64_t done = 0;
        for (std::size_t i = 0; i + 1 < offsets.size(); ++i) {
            if (count < 0 || done < count) {
                out.append(to);
                ++done;
            }
            out.append(s.substr(offsets[i], offsets[i + 1] - offsets[i]));
        }
        if (count < 0 || done < count) out.append(to);
        return out;
    }
    std::size_t pos = 0;
    std::int64_t done = 0;
    while (count < 0 || done < count) {
        std::size_t hit = s.text.find(from, pos);
        if (hit == std::string::npos) break;
        out.append(s.substr(pos, hit - pos));
        out.append(to);
        pos = hit + from.size();
        ++done;
    }
    out.append(s.substr(pos, s.text.size() - pos));
    return out;
}

MarkedString upperText(const MarkedString& s) {
    MarkedString out = s;
    for (auto& c : out.text) c = toUpper(c);
    return out;
}

MarkedString lowerText(const MarkedString& s) {
    MarkedString out = s;
    for (auto& c : out.text) c = toLower(c);
    return out;
}

MarkedString titleText(const MarkedString& s) {
    MarkedString out = s;
    bool prevCased = false;
    for (auto& c : out.text) {
        bool letter = isAsciiLetter(c) || (static_cast<unsigned char>(c) >= 0x80);
        if (isAsciiLetter(c)) c = prevCased ? toLower(c) : toUpper(c);
        prevCased = letter;
    }
    return out;
}

MarkedString capitalizeText(const MarkedString& s) {
    MarkedString out = lowerText(s);
    if (!out.text.empty()) out.text[0] = toUpper(out.text[0]);
    return out;
}

std::vector<MarkedString> splitLines(const MarkedString& s) {
    std::vector<MarkedString> lines;
    std::size_t start = 0;
    for (std::size_t i = 0; i < s.text.size(); ++i) {
        if (s.text[i] == '\n' || s.text[i] == '\r') {
            lines.push_back(s.substr(start, i - start));
            if (s.text[i] == '\r' && i + 1 < s.text.size() && s.text[i + 1] == '\n') ++i;
            start = i + 1;
        }
    }
    if (start < s.text.size()) lines.push_back(s.substr(start, s.text.size() - start));
    return lines;
}

}  // namespace batchscope::engine::jinja
