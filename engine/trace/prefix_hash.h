// A prompt's prefix-block hash chain, and prompts rebuilt from one: enough to replay
// prefix-cache hits without the text.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "engine/core/ids.h"

namespace batchscope::engine {

/// One hash per full block of `blockSize` tokens, each chaining the previous one, so two
/// prompts share their first k hashes exactly when they share their first k blocks (up to
/// 64-bit collisions). The partial last block has no hash (the KV cache never shares it).
std::vector<std::uint64_t> prefixBlockHashes(std::span<const TokenId> tokens, std::int32_t blockSize);

/// A prompt of `promptTokens` tokens whose full blocks are a pure function of `hashes` (equal
/// hashes give equal tokens, so the KV cache finds the same prefixes) and whose remaining
/// tokens are unique to `uniqueKey`. Token ids lie in [firstToken, firstToken + tokenRange).
/// Hashes beyond promptTokens / blockSize are ignored.
std::vector<TokenId> promptFromPrefixHashes(std::span<const std::uint64_t> hashes, std::int32_t promptTokens,
                                            std::int32_t blockSize, std::uint64_t uniqueKey,
                                            TokenId firstToken, std::int32_t tokenRange);

}  // namespace batchscope::engine
