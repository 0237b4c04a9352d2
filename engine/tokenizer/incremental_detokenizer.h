// Streaming detokenizer: turns generated token ids into text deltas that never split a UTF-8
// character, and holds back text that might still become a stop string.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <string>
#include <vector>

#include "engine/core/ids.h"
#include "engine/tokenizer/tokenizer.h"

namespace batchscope::engine {

/// Per-request state. Not thread-safe; owned by the engine thread.
class IncrementalDetokenizer {
public:
    struct Delta {
        std::string text;          ///< newly released text (may be empty)
        bool stopMatched = false;  ///< a stop string was found; text ends just before it
    };

    void reset(std::vector<std::string> stopStrings);
    /// Appends one token's bytes and returns what can be released now.
    Delta push(const Tokenizer& tokenizer, TokenId token);
    /// Releases everything still held (at the end of generation), up to any complete UTF-8
    /// prefix; invalid trailing bytes are replaced with U+FFFD.
    std::string flush();
    /// All text released so far.
    const std::string& text() const { return m_released; }

private:
    std::string m_pendingBytes;  // undecoded tail: an incomplete UTF-8 character
    std::string m_held;          // complete text held back: could start a stop string
    std::string m_released;
    std::vector<std::string> m_stops;
    bool m_stopped = false;
};

/// Length of the longest prefix of `bytes` that is complete UTF-8 (a trailing incomplete
/// sequence is excluded; invalid bytes count as complete so they are never stuck).
std::size_t completeUtf8Prefix(const std::string& bytes);

}  // namespace batchscope::engine
