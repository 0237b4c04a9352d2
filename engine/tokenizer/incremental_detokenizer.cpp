// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/incremental_detokenizer.h"

#include <algorithm>

namespace batchscope::engine {

std::size_t completeUtf8Prefix(const std::string& bytes) {
    const std::size_t n = bytes.size();
    // Look back at most 3 bytes for the start of a multi-byte sequence.
    for (std::size_t back = 1; back <= 4 && back <= n; ++back) {
        const auto c = static_cast<unsigned char>(bytes[n - back]);
        if ((c & 0xC0) == 0x80) continue;  // continuation byte
        std::size_t need = (c & 0x80) == 0 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                         : (c & 0xF8) == 0xF0 ? 4 : 1;
        return need > back ? n - back : n;
    }
    return n;
}

void IncrementalDetokenizer::reset(std::vector<std::string> stopStrings) {
    m_pendingBytes.clear();
    m_held.clear();
    m_released.clear();
    m_stopped = false;
    m_stops.clear();
    for (auto& s : stopStrings)
        if (!s.empty()) m_stops.push_back(std::move(s));
}

IncrementalDetokenizer::Delta IncrementalDetokenizer::push(const Tokenizer& tokenizer, TokenId token) {
    Delta delta;
    if (m_stopped) return delta;
    m_pendingBytes += tokenizer.tokenBytes(token);
    const std::size_t complete = completeUtf8Prefix(m_pendingBytes);
    m_held += m_pendingBytes.substr(0, complete);
    m_pendingBytes.erase(0, complete);

    // A stop string may span earlier released text? No: released text never contains a prefix
    // of a stop string at its end, so any match lies within m_held.
    std::size_t firstStop = std::string::npos;
    for (const auto& stop : m_stops) firstStop = std::min(firstStop, m_held.find(stop));
    if (firstStop != std::string::npos) {
        delta.text = m_held.substr(0, firstStop);
        delta.stopMatched = true;
        m_released += delta.text;
        m_held.clear();
        m_pendingBytes.clear();
        m_stopped = true;
        return delta;
    }
    // Hold back the longest suffix of m_held that is a proper prefix of some stop string.
    std::size_t hold = 0;
    for (const auto& stop : m_stops) {
        const std::size_t maxLen = std::min(stop.size() - 1, m_held.size());
        for (std::size_t len = maxLen; len > hold; --len) {
            if (m_held.compare(m_held.size() - len, len, stop, 0, len) == 0) {
                hold = len;
                break;
            }
        }
    }
    delta.text = m_held.substr(0, m_held.size() - hold);
    m_held.erase(0, m_held.size() - hold);
    m_released += delta.text;
    return delta;
}

std::string IncrementalDetokenizer::flush() {
    if (m_stopped) return {};
    std::string out = m_held;
    if (!m_pendingBytes.empty()) out += "\xEF\xBF\xBD";  // an unfinished character at the end
    m_held.clear();
    m_pendingBytes.clear();
    m_released += out;
    return out;
}

}  // namespace batchscope::engine
