// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/gpt2_pretokenizer.h"

#include "engine/tokenizer/unicode_data.h"

namespace batchscope::engine {

namespace {

using namespace unicode;

constexpr std::uint32_t kOutOfRange = 0xFFFFFFFF;

class Splitter {
public:
    explicit Splitter(std::string_view text) : m_text(text), m_units(decodeUtf8(text)) {
        m_flags.reserve(m_units.size());
        for (const auto& u : m_units) m_flags.push_back(codepointFlags(u.cp));
    }

    std::vector<std::string_view> run();

private:
    std::uint32_t cpt(std::size_t pos) const { return pos < m_units.size() ? m_units[pos].cp : kOutOfRange; }
    std::uint8_t flags(std::size_t pos) const { return pos < m_units.size() ? m_flags[pos] : 0; }
    bool isLetter(std::size_t pos) const { return flags(pos) & kLetter; }
    bool isNumber(std::size_t pos) const { return flags(pos) & kNumber; }
    bool isWhitespace(std::size_t pos) const { return flags(pos) & kWhitespace; }
    // [^\s\p{L}\p{N}] — and an assigned code point, as llama.cpp's table gives unassigned ones
    // no flags at all.
    bool isOther(std::size_t pos) const {
        const auto f = flags(pos);
        return (f & (kLetter | kNumber | kWhitespace)) == 0 && f != 0;
    }
    std::size_t byteOffset(std::size_t pos) const {
        return pos < m_units.size() ? m_units[pos].offset : m_text.size();
    }
    void addToken(std::size_t end) {
        if (end > m_start) {
            const std::size_t b = byteOffset(m_start);
            m_out.push_back(m_text.substr(b, byteOffset(end) - b));
        }
        m_start = end;
    }
    bool matchContraction(std::size_t& pos);

    std::string_view m_text;
    std::vector<Utf8Unit> m_units;
    std::vector<std::uint8_t> m_flags;
    std::vector<std::string_view> m_out;
    std::size_t m_start = 0;
};

// 's|'t|'re|'ve|'m|'ll|'d
bool Splitter::matchContraction(std::size_t& pos) {
    if (cpt(pos) != '\'' || pos + 1 >= m_units.size()) return false;
    const std::uint32_t next = cpt(pos + 1);
    if (next == 's' || next == 't' || next == 'm' || next == 'd') {
        pos += 2;
        addToken(pos);
        return true;
    }
    const std::uint32_t next2 = cpt(pos + 2);
    if ((next == 'r' && next2 == 'e') || (next == 'v' && next2 == 'e') || (next == 'l' && next2 == 'l')) {
        pos += 3;
        addToken(pos);
        return true;
    }
    return false;
}

std::vector<std::string_view> Splitter::run() {
    const std::size_t n = m_units.size();
    for (std::size_t pos = 0; pos < n;) {
        if (matchContraction(pos)) continue;
        const bool space = cpt(pos) == ' ';
        const std::size_t first = space ? pos + 1 : pos;  // the optional leading space
        if (isLetter(first) || isNumber(first) || isOther(first)) {
            // ' ?\p{L}+', ' ?\p{N}+' or ' ?[^\s\p{L}\p{N}]+': extend while the same class holds.
            auto same = isLetter(first) ? &Splitter::isLetter
                        : isNumber(first) ? &Splitter::isNumber : &Splitter::isOther;
            pos = first;
            while ((this->*same)(pos)) ++pos;
            addToken(pos);
            continue;
        }
        std::size_t spaces = 0;
        while (isWhitespace(pos + spaces)) ++spaces;
        if (spaces > 1 && cpt(pos + spaces) != kOutOfRange) {
            // '\s+(?!\S)': leave the last whitespace to prefix the next word.
            pos += spaces - 1;
            addToken(pos);
            continue;
        }
        if (spaces > 0) {  // '\s+'
            pos += spaces;
            addToken(pos);
            continue;
        }
        addToken(++pos);  // no match (unassigned code point): a token of its own
    }
    return std::move(m_out);
}

}  // namespace

std::vector<std::string_view> gpt2PreTokenize(std::string_view text) { return Splitter(text).run(); }

}  // namespace batchscope::engine
