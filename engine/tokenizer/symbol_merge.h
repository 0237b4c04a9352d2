// The greedy pair-merge loop both llama.cpp-compatible tokenizers use (SentencePiece merges by
// score, byte-level BPE by merge rank): repeatedly merge the best adjacent pair, leftmost on a
// tie, skipping queue entries made stale by earlier merges.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <optional>
#include <queue>
#include <vector>

namespace batchscope::engine {

/// A run of bytes of the text being tokenized, linked to its live neighbours.
struct MergeSymbol {
    int prev;
    int next;            ///< -1 at the end
    std::size_t offset;  ///< into the text
    std::size_t length;  ///< bytes; 0 once merged into its left neighbour
};

/// Merges `symbols` (a chain from index 0) in place. pairPriority(left, right) gives the
/// priority of merging two adjacent symbols, or nullopt if they do not merge; better(a, b) is
/// true when priority a merges before b. Afterwards the live symbols (length > 0) are linked
/// from index 0 through `next`.
template <typename Priority, typename PairPriority, typename Better>
void mergeSymbols(std::vector<MergeSymbol>& symbols, PairPriority pairPriority, Better better) {
    struct Bigram {
        Priority priority;
        int left;
        int right;
        std::size_t size;  // bytes of the pair when queued: a stale entry no longer matches
    };
    // priority_queue pops the "largest": order so that the best pair, then the leftmost, wins.
    auto worse = [&better](const Bigram& l, const Bigram& r) {
        if (better(r.priority, l.priority)) return true;
        if (better(l.priority, r.priority)) return false;
        return l.left > r.left;
    };
    std::priority_queue<Bigram, std::vector<Bigram>, decltype(worse)> queue(worse);
    auto add = [&](int left, int right) {
        if (left == -1 || right == -1) return;
        if (std::optional<Priority> p = pairPriority(symbols[left], symbols[right]))
            queue.push({*p, left, right, symbols[left].length + symbols[right].length});
    };
    for (int i = 1; i < static_cast<int>(symbols.size()); ++i) add(i - 1, i);
    while (!queue.empty()) {
        const Bigram bigram = queue.top();
        queue.pop();
        MergeSymbol& left = symbols[bigram.left];
        MergeSymbol& right = symbols[bigram.right];
        // Stale: a side was merged away or grew (symbols only grow rightwards from a fixed start,
        // so an equal total length means the same text).
        if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.size) continue;
        left.length += right.length;
        right.length = 0;
        left.next = right.next;
        if (right.next >= 0) symbols[right.next].prev = bigram.left;
        add(left.prev, bigram.left);
        add(bigram.left, left.next);
    }
}

}  // namespace batchscope::engine
