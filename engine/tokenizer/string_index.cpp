// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/tokenizer/string_index.h"

namespace batchscope::engine {

void StringIndex::build(const std::vector<std::string>& strings, Repeats repeats) {
    std::size_t size = 16;
    while (size < strings.size() * 2) size *= 2;  // load factor <= 0.5: short probe runs
    m_slots.assign(size, -1);
    m_mask = size - 1;
    for (std::size_t i = 0; i < strings.size(); ++i) {
        for (std::size_t slot = hash(strings[i]) & m_mask;; slot = (slot + 1) & m_mask) {
            std::int32_t& pos = m_slots[slot];
            if (pos < 0) {
                pos = static_cast<std::int32_t>(i);
                break;
            }
            if (strings[static_cast<std::size_t>(pos)] == strings[i]) {
                if (repeats == Repeats::LaterWins) pos = static_cast<std::int32_t>(i);
                break;
            }
        }
    }
}

}  // namespace batchscope::engine
