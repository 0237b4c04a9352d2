// Paged KV-cache bookkeeping with automatic prefix caching (the memory manager of vLLM's design).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/ids.h"
#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::engine {

struct KVCacheConfig {
    std::int32_t numBlocks = 1024;   ///< blocks in the pool
    std::int32_t blockSize = 16;     ///< tokens per block
    bool enablePrefixCaching = true;
    /// > 0 when every layer of the model attends only to the last slidingWindow positions
    /// (ModelExecutor::kvSlidingWindow()): whole blocks before a sequence's window are read by
    /// no layer again and releaseOutsideWindow() gives them back. 0 = keep every block (any
    /// model with a global-attention layer: that layer reads all positions).
    std::int32_t slidingWindow = 0;
};

/// Tokens of `tokens` already cached, as whole blocks, found by findCachedPrefix().
struct PrefixMatch {
    std::vector<BlockId> blocks;     ///< in sequence order
    std::int32_t tokens = 0;         ///< blocks.size() * blockSize
};

/// Hands out fixed-size KV blocks to sequences and keeps full blocks reusable by content.
///
/// Every block is in exactly one of three states: owned (refCount > 0, in one or more block
/// tables), cached (refCount 0, holds a full block registered under its chained hash, on the
/// evictable list) or free (refCount 0, no content, on the evictable list). The evictable list
/// is LRU: allocation takes its front; a freed sequence's blocks are appended tail first, so
/// the deepest blocks of a prefix are evicted before the shallow ones that more prompts share.
/// A block's hash chains its parent's hash with its tokens, so equal hashes mean equal
/// prefixes; tokens are also compared on lookup, so a hash collision can never reuse wrong K/V.
///
/// Threading: not synchronised. The scheduler's engine thread owns it; other threads read
/// statistics only through scheduler snapshots.
class KVCacheManager {
public:
    explicit KVCacheManager(const KVCacheConfig& config);

    std::int32_t numBlocks() const { return m_config.numBlocks; }
    std::int32_t blockSize() const { return m_config.blockSize; }
    bool prefixCachingEnabled() const { return m_config.enablePrefixCaching; }
    std::int32_t slidingWindow() const { return m_config.slidingWindow; }
    /// Turning caching off drops every cached block's content (they become free).
    void setPrefixCaching(bool enabled);

    /// Longest run of cached full blocks that prefixes `tokens`, never covering the last token
    /// (at least one token must be computed to produce logits). Counts queries and hits.
    /// With countStats false, nothing is counted; call recordPrefixLookup() once the match is
    /// used, so a request retried over several steps counts once.
    PrefixMatch findCachedPrefix(std::span<const TokenId> tokens, bool countStats = true);
    void recordPrefixLookup(std::span<const TokenId> tokens, const PrefixMatch& match);

    /// Blocks that allocate() / appendSlots() would take from the evictable list.
    std::int32_t blocksNeeded(RequestId id, std::int32_t totalTokens) const;
    std::int32_t blocksNeededForNew(const PrefixMatch& prefix, std::int32_t totalTokens) const;

    /// Starts a sequence's block table with the prefix blocks (taking references) plus fresh
    /// blocks to hold totalTokens tokens. False (and no change) if not enough blocks.
    bool allocate(RequestId id, const PrefixMatch& prefix, std::int32_t totalTokens);
    /// Grows an existing table to hold totalTokens tokens. False (and no change) if short.
    bool appendSlots(RequestId id, std::int32_t totalTokens);
    /// Registers the full blocks among the first computedTokens of `tokens` in the prefix
    /// cache (call after the step that computed them).
    void commitComputed(RequestId id, std::span<const TokenId> tokens, std::int32_t computedTokens);
    /// Releases a sequence's references (tail first). Unknown ids are ignored.
    void free(RequestId id);
    /// Sliding-window models: releases the sequence's blocks that lie wholly before the window
    /// of position nextPosition (the next to compute; later ones attend to later windows).
    /// Their table entries become kReleasedBlock, so positions keep their index; full blocks
    /// stay in the prefix cache like those of a finished sequence. Returns the blocks released.
    std::int32_t releaseOutsideWindow(RequestId id, std::int32_t nextPosition);
    /// Table entry of a block released by releaseOutsideWindow().
    static constexpr BlockId kReleasedBlock = -1;

    bool hasSequence(RequestId id) const { return m_sequences.count(id) != 0; }
    /// The sequence's block table (empty for unknown ids). Valid until the next mutation.
    std::span<const BlockId> blockTable(RequestId id) const;
    /// Blocks the sequence holds: its table less the entries released by the window.
    std::int32_t heldBlocks(RequestId id) const;

    std::int32_t usedBlocks() const { return m_usedBlocks; }
    std::int32_t cachedBlocks() const { return m_cachedBlocks; }
    std::int32_t freeBlocks() const { return m_config.numBlocks - m_usedBlocks - m_cachedBlocks; }
    /// Blocks that can be allocated now (free + cached, which are evicted on demand).
    std::int32_t availableBlocks() const { return m_config.numBlocks - m_usedBlocks; }

    KvStatistics statistics() const;
    void resetCounters();
    /// Per-block view for the block map.
    std::vector<KvBlockView> blockViews() const;
    /// Evictable-list order from the front (next to be allocated), for tests.
    std::vector<BlockId> evictionOrder() const;

    /// Verifies every invariant; returns a description of the first violation, or nullopt.
    std::optional<std::string> checkInvariants() const;

private:
    struct Block {
        std::int32_t refCount = 0;
        bool hashed = false;
        std::uint64_t hash = 0;
        RequestId owner = kInvalidRequestId;
        BlockId prev = -1, next = -1;  // evictable list links
        bool onList = false;
    };
    struct SequenceBlocks {
        std::vector<BlockId> table;
        std::int32_t hashedBlocks = 0;   // leading blocks registered (or reused) in the cache
        std::uint64_t lastHash = 0;      // chained hash of block hashedBlocks-1
        std::int32_t releasedBlocks = 0; // leading entries released (kReleasedBlock)
    };
    void dropReference(BlockId id);

    std::uint64_t hashBlock(std::uint64_t parent, std::span<const TokenId> tokens) const;
    BlockId popEvictable();
    void pushEvictable(BlockId id);
    void removeEvictable(BlockId id);
    void dropHash(BlockId id);
    void takeReference(BlockId id, RequestId owner);

    KVCacheConfig m_config;
    std::vector<Block> m_blocks;
    std::vector<TokenId> m_blockTokens;  // numBlocks * blockSize, content of hashed blocks
    std::unordered_map<std::uint64_t, BlockId> m_hashToBlock;
    std::unordered_map<RequestId, SequenceBlocks> m_sequences;
    BlockId m_head = -1, m_tail = -1;
    std::int32_t m_listSize = 0;
    std::int32_t m_usedBlocks = 0;
    std::int32_t m_cachedBlocks = 0;
    std::int64_t m_queries = 0, m_hits = 0, m_evictions = 0;
};

}  // namespace batchscope::engine
