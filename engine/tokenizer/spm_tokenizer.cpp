// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/spm_tokenizer.h"

#include "engine/tokenizer/symbol_merge.h"

#include <cstdio>

#include "engine/tokenizer/unicode_data.h"

namespace batchscope::engine {

namespace {

constexpr std::string_view kSpaceMarker = "\xe2\x96\x81";  // U+2581 LOWER ONE EIGHTH BLOCK

std::string replaceSpaces(std::string_view text, bool addPrefix) {
    std::string out;
    out.reserve(text.size() + 8);
    if (addPrefix) out += kSpaceMarker;
    for (char c : text) {
        if (c == ' ') out += kSpaceMarker;
        else out += c;
    }
    return out;
}

std::optional<int> parseByteToken(std::string_view piece) {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return std::nullopt;
    int value = 0;
    for (char c : piece.substr(3, 2)) {
        value *= 16;
        if (c >= '0' && c <= '9') value += c - '0';
        else if (c >= 'A' && c <= 'F') value += c - 'A' + 10;
        else if (c >= 'a' && c <= 'f') value += c - 'a' + 10;
        else return std::nullopt;
    }
    return value;
}

}  // namespace

SpmTokenizer::SpmTokenizer(Vocab vocab, bool addSpacePrefix)
    : m_vocab(std::move(vocab)), m_addSpacePrefix(addSpacePrefix), m_userTokens(m_vocab) {
    for (int b = 0; b < 256; ++b) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "<0x%02X>", b);
        m_byteTokens[static_cast<std::size_t>(b)] = m_vocab.find(buf);
        if (!m_byteTokens[static_cast<std::size_t>(b)]) {  // llama.cpp's fallback: the raw byte
            m_byteTokens[static_cast<std::size_t>(b)] = m_vocab.find(std::string(1, static_cast<char>(b)));
        }
    }
}

std::vector<TokenId> SpmTokenizer::encode(std::string_view text, bool addBos) const {
    std::vector<TokenId> out;
    if (addBos && m_vocab.bos) out.push_back(*m_vocab.bos);
    // As llama.cpp: user-defined tokens are cut out first; each plain fragment that starts the
    // text or follows such a token gets the space prefix. "" gives no tokens, not a lone space.
    bool afterToken = true;
    for (const TextFragment& fragment : m_userTokens.partition(text)) {
        if (fragment.token) {
            out.push_back(*fragment.token);
            afterToken = true;
            continue;
        }
        encodeEscaped(replaceSpaces(fragment.text, m_addSpacePrefix && afterToken), out);
        afterToken = false;
    }
    return out;
}

void SpmTokenizer::emitBytes(std::string_view text, std::vector<TokenId>& out) const {
    for (unsigned char c : text) {
        if (auto id = m_byteTokens[c]) out.push_back(*id);
        else if (m_vocab.unk) out.push_back(*m_vocab.unk);  // no byte fallback in this vocab
    }
}

void SpmTokenizer::encodeEscaped(const std::string& text, std::vector<TokenId>& out) const {
    std::vector<MergeSymbol> symbols;
    symbols.reserve(text.size());
    // One symbol per code point. Unlike llama.cpp (which trusts the lead byte's length), an
    // invalid byte is a symbol of its own, so it cannot swallow the next character; for valid
    // UTF-8 the two agree.
    for (const auto& u : unicode::decodeUtf8(text)) {
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({index - 1, index + 1, u.offset, u.length});
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;
    // Highest score first, leftmost on a tie (as llama.cpp's llm_bigram_spm).
    mergeSymbols<float>(
        symbols,
        [&](const MergeSymbol& l, const MergeSymbol& r) -> std::optional<float> {
            const auto id = m_vocab.find(std::string_view(text.data() + l.offset, l.length + r.length));
            if (!id) return std::nullopt;
            return m_vocab.scores[static_cast<std::size_t>(*id)];
        },
        [](float a, float b) { return a > b; });

    for (int i = 0; i != -1; i = symbols[i].next) {
        const std::string_view piece(text.data() + symbols[i].offset, symbols[i].length);
        // A merged symbol is always a vocabulary piece; a single character may not be.
        if (auto id = m_vocab.find(piece)) out.push_back(*id);
        else emitBytes(piece, out);
    }
}

std::string SpmTokenizer::tokenBytes(TokenId id) const {
    if (id < 0 || id >= m_vocab.size()) return {};
    const std::string& piece = m_vocab.pieces[static_cast<std::size_t>(id)];
    switch (m_vocab.type(id)) {
        case TokenType::Control:
        case TokenType::Unused: return {};
        case TokenType::Unknown: return "\xe2\x96\x85";  // as llama.cpp: U+2585
        case TokenType::UserDefined: return piece;
        case TokenType::Byte:
            if (auto b = parseByteToken(piece)) return std::string(1, static_cast<char>(*b));
            return piece;
        case TokenType::Normal:
        case TokenType::Undefined: break;
    }
    std::string out;
    out.reserve(piece.size());
    for (std::size_t i = 0; i < piece.size();) {
        if (piece.compare(i, kSpaceMarker.size(), kSpaceMarker) == 0) {
            out += ' ';
            i += kSpaceMarker.size();
        } else {
            out += piece[i++];
        }
    }
    return out;
}

std::string SpmTokenizer::tokenPiece(TokenId id) const {
    if (id < 0 || id >= m_vocab.size()) return {};
    return m_vocab.pieces[static_cast<std::size_t>(id)];
}

}  // namespace batchscope::engine
