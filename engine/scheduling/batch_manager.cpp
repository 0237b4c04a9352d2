// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/scheduling/batch_manager.h"

#include <algorithm>

namespace batchscope::engine {

namespace {
bool runsBefore(const SequencePtr& a, const SequencePtr& b) {
    return a->priority != b->priority ? a->priority > b->priority : a->arrivalOrder < b->arrivalOrder;
}
}  // namespace

BatchManager::BatchManager(RequestQueue& queue, KVCacheManager& kvCache, const BatchConstraints& constraints)
    : m_queue(queue), m_kv(kvCache), m_constraints(constraints) {}

std::int32_t BatchManager::allocatableBlocks() const {
    std::int64_t limitBytes = m_constraints.maxMemoryBytes;
    if (m_capacity) limitBytes = std::min(limitBytes, m_capacity->constraints().maxMemoryBytes);
    const std::int64_t byMemory = limitBytes / m_bytesPerBlock - m_kv.usedBlocks();
    return std::int32_t(std::max<std::int64_t>(0, std::min<std::int64_t>(m_kv.availableBlocks(), byMemory)));
}

void BatchManager::sortRunning() {
    if (!m_orderDirty) return;
    std::stable_sort(m_running.begin(), m_running.end(), runsBefore);
    m_orderDirty = false;
}

ScheduleOutput BatchManager::schedule(TimePoint now) {
    ScheduleOutput out;
    sortRunning();
    std::int32_t budget = m_constraints.tokenBudget;
    if (m_capacity) budget = std::min(budget, m_capacity->tokenLimit());
    const std::int32_t stepBudget = budget;
    m_block = {};
    // Sliding-window models: blocks every layer has stopped reading go back to the pool first,
    // so this step's growth and admissions see them (no-op for other models).
    for (const SequencePtr& seq : m_running) m_kv.releaseOutsideWindow(seq->id, seq->numComputed);
    scheduleDecodes(out, budget);
    schedulePrefills(out, budget);
    // After a preemption, memory is short: admitting would only thrash.
    if (out.preempted.empty() && out.exhausted.empty()) {
        admitWaiting(out, budget, stepBudget, now);
    } else if (SequencePtr head = m_queue.peek(now)) {
        // Not tried: memory ran short this step. Needs at least its first chunk (without
        // counting prefix-cache reuse, which the real admission would look up).
        const auto chunk = std::min(std::int32_t(head->tokens.size()), std::max(1, budget));
        const std::int32_t target = m_constraints.memoryPolicy == MemoryPolicy::Reserve
                                        ? std::max(reserveTarget(*head), chunk) : chunk;
        block(head, WaitReason::NoKvBlocks, kvDetail(m_kv.blocksNeededForNew(PrefixMatch{}, target)));
    }
    for (const auto& s : out.scheduled) out.numTokens += s.numNewTokens;
    return out;
}

void BatchManager::preempt(const SequencePtr& seq, ScheduleOutput& out) {
    m_kv.free(seq->id);
    seq->numComputed = 0;
    seq->state = RequestState::Preempted;
    seq->waitReason = WaitReason::NoKvBlocks;
    ++seq->preemptions;
    m_running.erase(std::find(m_running.begin(), m_running.end(), seq));
    m_queue.pushFront(seq);
    out.preempted.push_back(seq);
}

void BatchManager::scheduleDecodes(ScheduleOutput& out, std::int32_t& budget) {
    for (std::size_t i = 0; i < m_running.size(); ++i) {
        SequencePtr seq = m_running[i];
        if (seq->numComputed < seq->promptLength || seq->pendingTokens() != 1) continue;  // prefill
        if (budget <= 0) {
            seq->waitReason = WaitReason::TokenBudget;
            continue;
        }
        const std::int32_t total = seq->numComputed + 1;
        bool preemptedSelf = false;
        while (m_kv.blocksNeeded(seq->id, total) > allocatableBlocks()) {
            // Victim: the lowest-priority, latest-arrived running sequence (the back).
            SequencePtr victim = m_running.back();
            if (victim == seq) {
                if (i == 0) {
                    // Alone and still short: the sequence has outgrown the whole KV pool.
                    m_kv.free(seq->id);
                    m_running.erase(m_running.begin() + std::ptrdiff_t(i));
                    out.exhausted.push_back(seq);
                } else {
                    preempt(seq, out);
                }
                preemptedSelf = true;
                break;
            }
            preempt(victim, out);
        }
        if (preemptedSelf) break;  // it was the last one left to serve
        m_kv.appendSlots(seq->id, total);
        seq->waitReason = WaitReason::None;
        out.scheduled.push_back({seq, 1, false});
        --budget;
    }
}

void BatchManager::schedulePrefills(ScheduleOutput& out, std::int32_t& budget) {
    const std::int32_t bs = m_kv.blockSize();
    for (const SequencePtr& seq : m_running) {
        if (!(seq->numComputed < seq->promptLength || seq->pendingTokens() > 1)) continue;
        if (budget <= 0) {
            seq->waitReason = WaitReason::TokenBudget;
            continue;
        }
        // Slots already in the table plus what may still be allocated.
        const auto tableTokens = std::int32_t(m_kv.blockTable(seq->id).size()) * bs;
        const std::int32_t room = tableTokens - seq->numComputed + allocatableBlocks() * bs;
        const std::int32_t n = std::min({seq->pendingTokens(), budget, room});
        if (n <= 0) {
            seq->waitReason = WaitReason::NoKvBlocks;
            continue;
        }
        m_kv.appendSlots(seq->id, seq->numComputed + n);
        seq->waitReason = WaitReason::None;
        out.scheduled.push_back({seq, n, false});
        budget -= n;
    }
}

std::int32_t BatchManager::reserveTarget(const Sequence& seq) const {
    // Reserve policy: room for every token the request may ever hold. A sliding-window model's
    // sequences may outgrow the pool (their old blocks are released), so at most a pool's worth.
    const std::int32_t target = std::min(seq.maxLength, seq.promptLength + seq.options.maxTokens);
    if (m_kv.slidingWindow() > 0) return std::min(target, m_kv.numBlocks() * m_kv.blockSize());
    return target;
}

void BatchManager::block(const SequencePtr& head, WaitReason reason, WaitDetail detail) {
    head->waitReason = reason;
    m_block = {reason, detail, head->id};
}

WaitDetail BatchManager::kvDetail(std::int32_t needed) const {
    WaitDetail d;
    d.kvBlocksNeeded = needed;
    const std::int32_t allocatable = allocatableBlocks();
    d.kvBlocksFree = std::min(allocatable, m_kv.freeBlocks());
    d.kvBlocksReclaimable = allocatable - d.kvBlocksFree;
    return d;
}

std::pair<WaitReason, WaitDetail> BatchManager::queuedWait(const Sequence& seq, std::int32_t position,
                                                           bool paused) const {
    if (paused) return {WaitReason::Paused, {}};
    if (seq.state == RequestState::Preempted) return {WaitReason::Preempted, {}};
    switch (m_block.reason) {
    case WaitReason::None: return {WaitReason::None, {}};
    case WaitReason::NoKvBlocks:
        if (position == 0 || seq.id == m_block.head) return {m_block.reason, m_block.detail};
        return {WaitReason::BehindRequests, WaitDetail{.ahead = position}};
    default: return {m_block.reason, m_block.detail};   // the limit holds for every queued request
    }
}

void BatchManager::admitWaiting(ScheduleOutput& out, std::int32_t& budget, std::int32_t stepBudget, TimePoint now) {
    const bool batchOpen = !m_constraints.staticBatching || m_running.empty();
    std::size_t admittedBefore = 0;
    for (const auto& s : out.scheduled) admittedBefore += s.admitted ? 1 : 0;
    const auto runningDetail = [this] {
        return WaitDetail{.have = std::int32_t(m_running.size()), .limit = m_constraints.maxBatchSize};
    };
    if (!batchOpen && admittedBefore == 0) {
        if (auto head = m_queue.peek(now)) block(head, WaitReason::BatchFull, runningDetail());
        return;
    }
    while (true) {
        SequencePtr head = m_queue.peek(now);
        if (!head) return;
        const auto running = std::int32_t(m_running.size());
        if (running >= m_constraints.maxBatchSize || (m_capacity && !m_capacity->canRunSequences(running + 1))) {
            block(head, WaitReason::BatchFull, runningDetail());
            return;
        }
        if (budget <= 0) {
            block(head, WaitReason::TokenBudget, WaitDetail{.have = stepBudget - budget, .limit = stepBudget});
            return;
        }
        if (m_running.empty() && out.scheduled.empty() && m_queue.size() < m_constraints.minBatchSize &&
            now - head->arrival < m_constraints.minBatchWait) {
            block(head, WaitReason::WaitingForBatch, WaitDetail{.have = m_queue.size(), .limit = m_constraints.minBatchSize});
            out.wakeAt = head->arrival + m_constraints.minBatchWait;
            return;
        }
        PrefixMatch prefix = m_kv.findCachedPrefix(head->tokens, /*countStats=*/false);
        const std::int32_t n = std::min(std::int32_t(head->tokens.size()) - prefix.tokens, budget);
        const std::int32_t target = m_constraints.memoryPolicy == MemoryPolicy::Reserve
                                        ? std::max(reserveTarget(*head), prefix.tokens + n)
                                        : prefix.tokens + n;
        if (const std::int32_t needed = m_kv.blocksNeededForNew(prefix, target); needed > allocatableBlocks()) {
            block(head, WaitReason::NoKvBlocks, kvDetail(needed));
            return;
        }
        m_queue.pop(now);
        m_kv.recordPrefixLookup(head->tokens, prefix);
        m_kv.allocate(head->id, prefix, target);
        head->numComputed = prefix.tokens;
        if (!head->firstScheduled) head->cachedPromptTokens = std::min(prefix.tokens, head->promptLength);
        head->state = RequestState::Prefilling;
        head->waitReason = WaitReason::None;
        m_running.insert(std::upper_bound(m_running.begin(), m_running.end(), head, runsBefore), head);
        out.scheduled.push_back({head, n, true});
        budget -= n;
    }
}

bool BatchManager::removeRunning(RequestId id) {
    auto it = std::find_if(m_running.begin(), m_running.end(), [id](const SequencePtr& s) { return s->id == id; });
    if (it == m_running.end()) return false;
    m_kv.free(id);
    m_running.erase(it);
    return true;
}

}  // namespace batchscope::engine
