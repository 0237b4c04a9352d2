// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/bpe_tokenizer.h"

#include "engine/tokenizer/symbol_merge.h"
#include "engine/tokenizer/unicode_data.h"

namespace batchscope::engine {

namespace {

struct ByteMap {
    std::array<std::uint32_t, 256> toCp{};
    std::array<int, 324> toByte{};  ///< code point -> byte, -1 if none (all mapped cps < 324)

    ByteMap() {
        toByte.fill(-1);
        auto printable = [](int b) {
            return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        };
        std::uint32_t next = 256;
        for (int b = 0; b < 256; ++b) {
            toCp[static_cast<std::size_t>(b)] = printable(b) ? static_cast<std::uint32_t>(b) : next++;
            toByte[toCp[static_cast<std::size_t>(b)]] = b;
        }
    }
};

const ByteMap& byteMap() {
    static const ByteMap map;
    return map;
}

}  // namespace

std::uint32_t BpeTokenizer::byteToCodepoint(unsigned char b) { return byteMap().toCp[b]; }

BpeTokenizer::BpeTokenizer(Vocab vocab, PreTokenizer preTokenizer, bool ignoreMerges)
    : m_vocab(std::move(vocab)), m_pre(std::move(preTokenizer)), m_userTokens(m_vocab), m_ignoreMerges(ignoreMerges) {}

Result<std::unique_ptr<BpeTokenizer>> BpeTokenizer::create(Vocab vocab, const std::vector<std::string>& merges,
                                                           PreTokenizer preTokenizer, bool ignoreMerges) {
    std::unique_ptr<BpeTokenizer> tok(new BpeTokenizer(std::move(vocab), std::move(preTokenizer), ignoreMerges));
    tok->m_merges.reserve(merges.size());
    for (std::size_t i = 0; i < merges.size(); ++i) {
        const std::string& m = merges[i];
        // As llama.cpp: split at the first space after the first byte.
        const auto pos = m.find(' ', 1);
        if (pos == std::string::npos || pos + 1 >= m.size()) {
            return makeError(ErrorCode::InvalidFormat, "tokenizer.ggml.merges[" + std::to_string(i) +
                             "] = '" + m + "' is not two symbols separated by a space");
        }
        tok->m_merges.push_back(m);
    }
    // A merge listed twice keeps its first (lowest) rank, as llama.cpp's bpe_ranks.emplace.
    tok->m_ranks.build(tok->m_merges, StringIndex::Repeats::FirstWins);
    return tok;
}

std::optional<int> BpeTokenizer::mergeRank(std::string_view left, std::string_view right,
                                           std::string& key) const {
    key.assign(left);
    key += ' ';
    key.append(right);
    return m_ranks.find(m_merges, key);
}

std::vector<TokenId> BpeTokenizer::encode(std::string_view text, bool addBos) const {
    std::vector<TokenId> out;
    if (addBos && m_vocab.bos) out.push_back(*m_vocab.bos);
    std::string mapped;
    for (const TextFragment& fragment : m_userTokens.partition(text)) {
        if (fragment.token) {
            out.push_back(*fragment.token);
            continue;
        }
        for (std::string_view word : m_pre.split(fragment.text)) encodeWord(word, mapped, out);
    }
    return out;
}

void BpeTokenizer::encodeWord(std::string_view word, std::string& mapped, std::vector<TokenId>& out) const {
    // Each byte becomes one code point, i.e. one initial symbol.
    mapped.clear();
    std::vector<MergeSymbol> symbols;
    symbols.reserve(word.size());
    for (unsigned char b : word) {
        const std::size_t offset = mapped.size();
        unicode::appendUtf8(mapped, byteMap().toCp[b]);
        const int index = static_cast<int>(symbols.size());
        symbols.push_back({index - 1, index + 1, offset, mapped.size() - offset});
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;
    if (m_ignoreMerges) {
        if (auto id = m_vocab.find(mapped)) {
            out.push_back(*id);
            return;
        }
    }

    std::string key;
    // Lowest merge rank first, leftmost on a tie (as llama.cpp's llm_bigram_bpe).
    mergeSymbols<int>(
        symbols,
        [&](const MergeSymbol& l, const MergeSymbol& r) {
            return mergeRank(std::string_view(mapped).substr(l.offset, l.length),
                             std::string_view(mapped).substr(r.offset, r.length), key);
        },
        [](int a, int b) { return a < b; });

    for (int i = 0; i != -1; i = symbols[i].next) {
        const std::string_view piece = std::string_view(mapped).substr(symbols[i].offset, symbols[i].length);
        if (auto id = m_vocab.find(piece)) {
            out.push_back(*id);
            continue;
        }
        // Not in the vocabulary: fall back to one token per mapped byte character.
        for (std::size_t k = 0; k < piece.size();) {
            const std::size_t len = unicode::utf8LengthFromLead(static_cast<unsigned char>(piece[k]));
            if (auto id = m_vocab.find(piece.substr(k, len))) out.push_back(*id);
            else if (m_vocab.unk) out.push_back(*m_vocab.unk);
            k += len;
        }
    }
}

std::string BpeTokenizer::tokenBytes(TokenId id) const {
    if (id < 0 || id >= m_vocab.size()) return {};
    const std::string& piece = m_vocab.pieces[static_cast<std::size_t>(id)];
    switch (m_vocab.type(id)) {
        case TokenType::Control:
        case TokenType::Unused: return {};
        case TokenType::UserDefined: return piece;
        default: break;
    }
    // Map each code point back to its byte; code points outside the mapping pass through.
    std::string out;
    out.reserve(piece.size());
    for (const auto& u : unicode::decodeUtf8(piece)) {
        if (u.cp < 324 && byteMap().toByte[u.cp] >= 0) out += static_cast<char>(byteMap().toByte[u.cp]);
        else out.append(piece, u.offset, u.length);
    }
    return out;
}

std::string BpeTokenizer::tokenPiece(TokenId id) const {
    if (id < 0 || id >= m_vocab.size()) return {};
    return m_vocab.pieces[static_cast<std::size_t>(id)];
}

}  // namespace batchscope::engine
