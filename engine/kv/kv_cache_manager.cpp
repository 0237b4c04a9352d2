// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/kv/kv_cache_manager.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace batchscope::engine {

namespace {
constexpr std::uint64_t kRootHash = 0x6a09e667f3bcc908ULL;

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
    // splitmix64-style avalanche of (h, v); chained per token.
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

std::int32_t ceilDiv(std::int32_t a, std::int32_t b) { return (a + b - 1) / b; }
}  // namespace

KVCacheManager::KVCacheManager(const KVCacheConfig& config)
    : m_config(config),
      m_blocks(static_cast<std::size_t>(std::max(config.numBlocks, 0))),
      m_blockTokens(static_cast<std::size_t>(std::max(config.numBlocks, 0)) *
                    static_cast<std::size_t>(std::max(config.blockSize, 1))) {
    if (config.numBlocks <= 0 || config.blockSize <= 0)
        throw std::invalid_argument("KVCacheManager: numBlocks and blockSize must be positive");
    for (BlockId id = 0; id < config.numBlocks; ++id) pushEvictable(id);
}

void KVCacheManager::setPrefixCaching(bool enabled) {
    if (!enabled) {
        for (BlockId id = 0; id < m_config.numBlocks; ++id) {
            if (m_blocks[id].hashed) dropHash(id);
        }
        for (auto& [rid, seq] : m_sequences) {
            seq.hashedBlocks = 0;
            seq.lastHash = 0;
        }
    }
    m_config.enablePrefixCaching = enabled;
}

std::uint64_t KVCacheManager::hashBlock(std::uint64_t parent, std::span<const TokenId> tokens) const {
    std::uint64_t h = mix(kRootHash, parent);
    for (TokenId t : tokens) h = mix(h, static_cast<std::uint32_t>(t));
    return h;
}

void KVCacheManager::recordPrefixLookup(std::span<const TokenId> tokens, const PrefixMatch& match) {
    if (!m_config.enablePrefixCaching || tokens.empty()) return;
    const auto full = std::int64_t((tokens.size() - 1) / std::size_t(m_config.blockSize));
    const auto hits = std::int64_t(match.blocks.size());
    m_hits += hits;
    m_queries += std::min(full, hits + 1);  // the lookup stops at the first miss
}

PrefixMatch KVCacheManager::findCachedPrefix(std::span<const TokenId> tokens, bool countStats) {
    PrefixMatch match;
    if (!m_config.enablePrefixCaching || tokens.empty()) return match;
    const auto bs = static_cast<std::size_t>(m_config.blockSize);
    const std::size_t fullBlocks = (tokens.size() - 1) / bs;  // never cover the last token
    std::uint64_t parent = 0;
    for (std::size_t b = 0; b < fullBlocks; ++b) {
        if (countStats) ++m_queries;
        auto chunk = tokens.subspan(b * bs, bs);
        std::uint64_t h = hashBlock(parent, chunk);
        auto it = m_hashToBlock.find(h);
        if (it == m_hashToBlock.end()) break;
        const TokenId* stored = &m_blockTokens[static_cast<std::size_t>(it->second) * bs];
        if (!std::equal(chunk.begin(), chunk.end(), stored)) break;
        if (countStats) ++m_hits;
        match.blocks.push_back(it->second);
        parent = h;
    }
    match.tokens = static_cast<std::int32_t>(match.blocks.size() * bs);
    return match;
}

std::int32_t KVCacheManager::blocksNeeded(RequestId id, std::int32_t totalTokens) const {
    auto it = m_sequences.find(id);
    const std::int32_t have = it == m_sequences.end() ? 0 : std::int32_t(it->second.table.size());
    return std::max(0, ceilDiv(totalTokens, m_config.blockSize) - have);
}

std::int32_t KVCacheManager::blocksNeededForNew(const PrefixMatch& prefix,
                                                std::int32_t totalTokens) const {
    std::int32_t fresh = std::max(0, ceilDiv(totalTokens, m_config.blockSize) -
                                         std::int32_t(prefix.blocks.size()));
    // Cached prefix blocks sitting on the evictable list stop being available once referenced.
    std::int32_t revived = 0;
    for (BlockId b : prefix.blocks) revived += m_blocks[b].refCount == 0 ? 1 : 0;
    return fresh + revived;
}

void KVCacheManager::takeReference(BlockId id, RequestId owner) {
    Block& b = m_blocks[id];
    if (b.refCount == 0) {
        removeEvictable(id);
        if (b.hashed) --m_cachedBlocks;
        ++m_usedBlocks;
        b.owner = owner;
    }
    ++b.refCount;
}

bool KVCacheManager::allocate(RequestId id, const PrefixMatch& prefix, std::int32_t totalTokens) {
    if (m_sequences.count(id)) throw std::logic_error("KVCacheManager::allocate: sequence exists");
    if (blocksNeededForNew(prefix, totalTokens) > availableBlocks()) return false;
    SequenceBlocks seq;
    std::uint64_t parent = 0;
    const auto bs = static_cast<std::size_t>(m_config.blockSize);
    for (BlockId b : prefix.blocks) {
        takeReference(b, id);
        seq.table.push_back(b);
        // Recompute the chain so later commits continue from the right parent hash.
        parent = hashBlock(parent, std::span<const TokenId>(&m_blockTokens[b * bs], bs));
    }
    seq.hashedBlocks = std::int32_t(prefix.blocks.size());
    seq.lastHash = parent;
    const std::int32_t want = ceilDiv(totalTokens, m_config.blockSize);
    while (std::int32_t(seq.table.size()) < want) {
        BlockId b = popEvictable();
        takeReference(b, id);
        seq.table.push_back(b);
    }
    m_sequences.emplace(id, std::move(seq));
    return true;
}

bool KVCacheManager::appendSlots(RequestId id, std::int32_t totalTokens) {
    auto it = m_sequences.find(id);
    if (it == m_sequences.end()) return allocate(id, PrefixMatch{}, totalTokens);
    const std::int32_t need = blocksNeeded(id, totalTokens);
    if (need > availableBlocks()) return false;
    for (std::int32_t i = 0; i < need; ++i) {
        BlockId b = popEvictable();
        takeReference(b, id);
        it->second.table.push_back(b);
    }
    return true;
}

void KVCacheManager::commitComputed(RequestId id, std::span<const TokenId> tokens,
                                    std::int32_t computedTokens) {
    if (!m_config.enablePrefixCaching) return;
    auto it = m_sequences.find(id);
    if (it == m_sequences.end()) return;
    SequenceBlocks& seq = it->second;
    const auto bs = static_cast<std::size_t>(m_config.blockSize);
    const auto full = std::min<std::size_t>(std::size_t(computedTokens) / bs, seq.table.size());
    for (auto b = std::size_t(seq.hashedBlocks); b < full; ++b) {
        auto chunk = tokens.subspan(b * bs, bs);
        const std::uint64_t h = hashBlock(seq.lastHash, chunk);
        seq.lastHash = h;
        seq.hashedBlocks = std::int32_t(b + 1);
        const BlockId blk = seq.table[b];
        if (blk == kReleasedBlock) continue;  // slid out of the window before it was hashed
        if (m_hashToBlock.count(h)) continue;  // same content already cached in another block
        Block& block = m_blocks[blk];
        if (block.hashed) continue;
        block.hashed = true;
        block.hash = h;
        m_hashToBlock.emplace(h, blk);
        std::copy(chunk.begin(), chunk.end(), m_blockTokens.begin() + std::ptrdiff_t(blk * bs));
    }
}

void KVCacheManager::free(RequestId id) {
    auto it = m_sequences.find(id);
    if (it == m_sequences.end()) return;
    auto& table = it->second.table;
    for (auto r = table.rbegin(); r != table.rend(); ++r)
        if (*r != kReleasedBlock) dropReference(*r);
    m_sequences.erase(it);
}

void KVCacheManager::dropReference(BlockId id) {
    Block& b = m_blocks[id];
    if (--b.refCount == 0) {
        --m_usedBlocks;
        b.owner = kInvalidRequestId;
        if (b.hashed) ++m_cachedBlocks;
        pushEvictable(id);
    }
}

std::int32_t KVCacheManager::releaseOutsideWindow(RequestId id, std::int32_t nextPosition) {
    if (m_config.slidingWindow <= 0) return 0;
    auto it = m_sequences.find(id);
    if (it == m_sequences.end()) return 0;
    SequenceBlocks& seq = it->second;
    // Position nextPosition attends to (nextPosition - window, nextPosition]: every position
    // below `oldest` is dead, and so is every block that ends at or before it.
    const std::int32_t oldest = nextPosition - m_config.slidingWindow + 1;
    const auto dead = std::min<std::int32_t>(std::max(oldest, 0) / m_config.blockSize, std::int32_t(seq.table.size()));
    std::int32_t released = 0;
    for (; seq.releasedBlocks < dead; ++seq.releasedBlocks, ++released) {
        BlockId& entry = seq.table[static_cast<std::size_t>(seq.releasedBlocks)];
        dropReference(entry);
        entry = kReleasedBlock;
    }
    return released;
}

std::int32_t KVCacheManager::heldBlocks(RequestId id) const {
    auto it = m_sequences.find(id);
    if (it == m_sequences.end()) return 0;
    return std::int32_t(it->second.table.size()) - it->second.releasedBlocks;
}

std::span<const BlockId> KVCacheManager::blockTable(RequestId id) const {
    auto it = m_sequences.find(id);
    if (it == m_sequences.end()) return {};
    return it->second.table;
}

BlockId KVCacheManager::popEvictable() {
    if (m_head < 0) throw std::logic_error("KVCacheManager: no evictable block");
    BlockId id = m_head;
    if (m_blocks[id].hashed) {
        dropHash(id);  // while still listed, so the cached counter drops with it
        ++m_evictions;
    }
    removeEvictable(id);
    return id;
}

void KVCacheManager::dropHash(BlockId id) {
    Block& b = m_blocks[id];
    if (!b.hashed) return;
    auto it = m_hashToBlock.find(b.hash);
    if (it != m_hashToBlock.end() && it->second == id) m_hashToBlock.erase(it);
    b.hashed = false;
    if (b.refCount == 0 && b.onList) --m_cachedBlocks;
}

void KVCacheManager::pushEvictable(BlockId id) {
    Block& b = m_blocks[id];
    b.prev = m_tail;
    b.next = -1;
    if (m_tail >= 0) m_blocks[m_tail].next = id; else m_head = id;
    m_tail = id;
    b.onList = true;
    ++m_listSize;
}

void KVCacheManager::removeEvictable(BlockId id) {
    Block& b = m_blocks[id];
    if (!b.onList) return;
    if (b.prev >= 0) m_blocks[b.prev].next = b.next; else m_head = b.next;
    if (b.next >= 0) m_blocks[b.next].prev = b.prev; else m_tail = b.prev;
    b.prev = b.next = -1;
    b.onList = false;
    --m_listSize;
}

KvStatistics KVCacheManager::statistics() const {
    KvStatistics s;
    s.totalBlocks = m_config.numBlocks;
    s.usedBlocks = m_usedBlocks;
    s.cachedBlocks = m_cachedBlocks;
    s.freeBlocks = freeBlocks();
    s.prefixQueries = m_queries;
    s.prefixHits = m_hits;
    s.evictions = m_evictions;
    return s;
}

void KVCacheManager::resetCounters() { m_queries = m_hits = m_evictions = 0; }

std::vector<KvBlockView> KVCacheManager::blockViews() const {
    std::vector<KvBlockView> views(m_blocks.size());
    for (std::size_t i = 0; i < m_blocks.size(); ++i) {
        const Block& b = m_blocks[i];
        views[i].refCount = static_cast<std::uint16_t>(std::min(b.refCount, 65535));
        views[i].owner = b.owner;
        views[i].state = b.refCount > 0 ? KvBlockView::State::Owned
                         : b.hashed     ? KvBlockView::State::Cached
                                        : KvBlockView::State::Free;
    }
    return views;
}

std::vector<BlockId> KVCacheManager::evictionOrder() const {
    std::vector<BlockId> order;
    for (BlockId id = m_head; id >= 0; id = m_blocks[id].next) order.push_back(id);
    return order;
}

std::optional<std::string> KVCacheManager::checkInvariants() const {
    std::vector<std::int32_t> refs(m_blocks.size(), 0);
    for (const auto& [rid, seq] : m_sequences)
        for (std::size_t i = 0; i < seq.table.size(); ++i) {
            const BlockId b = seq.table[i];
            if (b == kReleasedBlock && std::int32_t(i) < seq.releasedBlocks) continue;
            if (b < 0 || b >= m_config.numBlocks) return "block id out of range in a table";
            ++refs[b];
        }
    std::int32_t used = 0, cached = 0, listed = 0;
    for (std::size_t i = 0; i < m_blocks.size(); ++i) {
        const Block& b = m_blocks[i];
        std::ostringstream where;
        where << "block " << i << ": ";
        if (b.refCount != refs[i]) return where.str() + "refCount does not match block tables";
        if (b.refCount > 0 && b.onList) return where.str() + "owned block on the evictable list";
        if (b.refCount == 0 && !b.onList) return where.str() + "unowned block leaked (not evictable)";
        if (b.hashed) {
            auto it = m_hashToBlock.find(b.hash);
            if (it == m_hashToBlock.end() || it->second != BlockId(i))
                return where.str() + "hashed block missing from the hash map";
        }
        used += b.refCount > 0;
        cached += (b.refCount == 0 && b.hashed);
    }
    for (BlockId id = m_head; id >= 0; id = m_blocks[id].next) {
        if (++listed > m_config.numBlocks) return "evictable list has a cycle";
    }
    if (listed != m_listSize) return "evictable list size mismatch";
    if (used != m_usedBlocks) return "used-block counter mismatch";
    if (cached != m_cachedBlocks) return "cached-block counter mismatch";
    if (used + listed != m_config.numBlocks) return "free + cached + owned != total";
    return std::nullopt;
}

}  // namespace batchscope::engine
