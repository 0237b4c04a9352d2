// A read-only hash index from strings held in a vector to their positions, for vocabularies of
// up to a few hundred thousand entries (Gemma: 262144) that must build fast and small.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace batchscope::engine {

/// Open addressing (linear probing) over int32 positions: no allocation per entry, one
/// contiguous table of at least twice the entries. The strings themselves stay in the caller's
/// vector, which is passed to every call, so a copied or moved owner stays consistent (the
/// index holds no pointers). Immutable after build(); find() is thread-safe.
class StringIndex {
public:
    enum class Repeats { LaterWins, FirstWins };
    /// For a string listed twice, `repeats` says which position find() gives.
    void build(const std::vector<std::string>& strings, Repeats repeats);

    std::optional<std::int32_t> find(const std::vector<std::string>& strings, std::string_view key) const {
        if (m_slots.empty()) return std::nullopt;
        for (std::size_t slot = hash(key) & m_mask;; slot = (slot + 1) & m_mask) {
            const std::int32_t pos = m_slots[slot];
            if (pos < 0) return std::nullopt;
            if (strings[static_cast<std::size_t>(pos)] == key) return pos;
        }
    }

private:
    static std::size_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

    std::vector<std::int32_t> m_slots;  ///< -1: empty; size a power of two
    std::size_t m_mask = 0;
};

}  // namespace batchscope::engine
