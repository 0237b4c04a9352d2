// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/prefix_hash.h"

#include <algorithm>

namespace batchscope::engine {

namespace {
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
}  // namespace

std::vector<std::uint64_t> prefixBlockHashes(std::span<const TokenId> tokens, std::int32_t blockSize) {
    std::vector<std::uint64_t> out;
    if (blockSize < 1) return out;
    const std::size_t blocks = tokens.size() / std::size_t(blockSize);
    out.reserve(blocks);
    std::uint64_t h = 0xcbf29ce484222325ULL;   // FNV offset basis; chained across blocks
    for (std::size_t b = 0; b < blocks; ++b) {
        for (std::size_t i = 0; i < std::size_t(blockSize); ++i) {
            h ^= std::uint64_t(std::uint32_t(tokens[b * std::size_t(blockSize) + i]));
            h *= 0x100000001b3ULL;
        }
        h = mix(h);
        out.push_back(h);
    }
    return out;
}

std::vector<TokenId> promptFromPrefixHashes(std::span<const std::uint64_t> hashes, std::int32_t promptTokens,
                                            std::int32_t blockSize, std::uint64_t uniqueKey,
                                            TokenId firstToken, std::int32_t tokenRange) {
    std::vector<TokenId> out;
    if (promptTokens < 1 || blockSize < 1 || tokenRange < 1) return out;
    out.reserve(std::size_t(promptTokens));
    const auto range = std::uint64_t(tokenRange);
    const std::size_t shared = std::min<std::size_t>(hashes.size(), std::size_t(promptTokens / blockSize));
    for (std::size_t b = 0; b < shared; ++b)
        for (std::int32_t i = 0; i < blockSize; ++i)
            out.push_back(firstToken + TokenId(mix(hashes[b] + std::uint64_t(i)) % range));
    // The rest is this request's own: keyed by uniqueKey so no other prompt shares it.
    const std::uint64_t key = mix(uniqueKey ^ 0x5bd1e9955bd1e995ULL);
    for (std::size_t i = out.size(); i < std::size_t(promptTokens); ++i)
        out.push_back(firstToken + TokenId(mix(key + i) % range));
    return out;
}

}  // namespace batchscope::engine
