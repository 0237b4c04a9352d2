// A byte range of a text.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>

namespace batchscope::engine {

/// Bytes [offset, offset + length) of some UTF-8 text.
struct TextSpan {
    std::size_t offset = 0;
    std::size_t length = 0;
    bool operator==(const TextSpan&) const = default;
};

}  // namespace batchscope::engine
