// Identifiers shared by every engine component.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

namespace batchscope::engine {

/// A request's id, unique within one scheduler's lifetime, assigned at submission (starts at 1).
using RequestId = std::uint64_t;
/// A token id in the model's vocabulary.
using TokenId = std::int32_t;
/// Index of a KV-cache block in the executor's block pool, in [0, numBlocks).
using BlockId = std::int32_t;

inline constexpr RequestId kInvalidRequestId = 0;

}  // namespace batchscope::engine
