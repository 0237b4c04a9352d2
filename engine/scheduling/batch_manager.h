// Builds each step's batch: running decodes first, then prefill chunks, then admissions from
// the queue, within the token budget, the batch size and the KV memory; preempts on exhaustion.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "engine/kv/kv_cache_manager.h"
#include "engine/scheduling/capacity_manager.h"
#include "engine/scheduling/request_queue.h"
#include "engine/scheduling/sequence.h"

namespace batchscope::engine {

struct BatchConstraints {
    std::int32_t maxBatchSize = 8;                ///< running sequences at most
    std::int64_t maxMemoryBytes = 1LL << 30;      ///< KV bytes in use at most
    std::int32_t minBatchSize = 1;                ///< wait briefly for this many before starting
    std::int32_t maxSequenceLength = 1024;        ///< prompt + generated tokens at most
    std::int32_t tokenBudget = 512;               ///< tokens (prefill + decode) per step
    MemoryPolicy memoryPolicy = MemoryPolicy::Preempt;
    /// How long an idle scheduler waits for minBatchSize requests before starting anyway.
    std::chrono::milliseconds minBatchWait{5};
    /// Request-level (static) batching, the baseline continuous batching is measured against:
    /// new requests are admitted only when the whole previous batch has finished.
    bool staticBatching = false;
};

/// One sequence's share of the next step.
struct ScheduledSequence {
    SequencePtr seq;
    std::int32_t numNewTokens = 0;  ///< tokens to compute, from seq->numComputed
    bool admitted = false;          ///< newly taken from the queue this step
};

struct ScheduleOutput {
    std::vector<ScheduledSequence> scheduled;
    std::vector<SequencePtr> preempted;   ///< put back in the queue this step
    std::vector<SequencePtr> exhausted;   ///< cannot grow even alone: KV capacity reached
    std::int32_t numTokens = 0;
    std::optional<TimePoint> wakeAt;      ///< when a minBatchSize wait ends
    bool empty() const { return scheduled.empty(); }
};

/// What stopped admission from the queue in the last schedule(): the reason the request at
/// the head of the queue waits, with its numbers. reason None: nothing was blocked (the queue
/// was emptied, or nothing was queued).
struct AdmissionBlock {
    WaitReason reason = WaitReason::None;
    WaitDetail detail;
    RequestId head = kInvalidRequestId;   ///< the request the rules stopped at
};

/// Owns the running set; the queue owns the waiting set. Not thread-safe: the scheduler's
/// engine thread calls it under the scheduler's state lock.
/// Invariant: every running sequence has a block table in the KV manager covering its
/// numComputed tokens; a sequence is either running or queued, never both.
class BatchManager {
public:
    BatchManager(RequestQueue& queue, KVCacheManager& kvCache, const BatchConstraints& constraints);

    void setCapacityManager(CapacityManager* capacity) { m_capacity = capacity; }
    /// Bytes one KV block takes (from the executor), to apply maxMemoryBytes.
    void setKvBytesPerBlock(std::int64_t bytes) { m_bytesPerBlock = bytes > 0 ? bytes : 1; }
    void setConstraints(const BatchConstraints& constraints) { m_constraints = constraints; }
    const BatchConstraints& constraints() const { return m_constraints; }

    /// Decides the next step. Preempted sequences are already back in the queue, admitted
    /// ones already running with blocks allocated.
    ScheduleOutput schedule(TimePoint now);

    const std::vector<SequencePtr>& running() const { return m_running; }
    KVCacheManager& kvCache() { return m_kv; }
    RequestQueue& queue() { return m_queue; }
    /// Removes a running sequence and frees its blocks; false if it is not running.
    bool removeRunning(RequestId id);
    /// Re-sorts the running set after a priority change.
    void markOrderDirty() { m_orderDirty = true; }

    /// The admission outcome of the last schedule() (see AdmissionBlock).
    const AdmissionBlock& lastAdmissionBlock() const { return m_block; }
    /// Why the queued request at `position` in queue order (0 = next to be admitted) waits,
    /// derived from the last schedule()'s admission outcome without simulating the requests
    /// ahead of it: O(1). Limits that apply to the whole queue (batch size, token budget,
    /// minimum batch, a static batch) give every request that reason; one that applies to the
    /// head alone (KV memory) gives the others "behind `position` requests". A preempted request
    /// reads Preempted; `paused` overrides everything.
    std::pair<WaitReason, WaitDetail> queuedWait(const Sequence& seq, std::int32_t position, bool paused) const;

    std::int64_t usedMemoryBytes() const { return std::int64_t(m_kv.usedBlocks()) * m_bytesPerBlock; }
    /// Blocks that may still be taken under every memory limit.
    std::int32_t allocatableBlocks() const;

private:
    void sortRunning();
    void scheduleDecodes(ScheduleOutput& out, std::int32_t& budget);
    void schedulePrefills(ScheduleOutput& out, std::int32_t& budget);
    void admitWaiting(ScheduleOutput& out, std::int32_t& budget, std::int32_t stepBudget, TimePoint now);
    void preempt(const SequencePtr& seq, ScheduleOutput& out);
    std::int32_t reserveTarget(const Sequence& seq) const;
    void block(const SequencePtr& head, WaitReason reason, WaitDetail detail = {});
    WaitDetail kvDetail(std::int32_t needed) const;

    RequestQueue& m_queue;
    KVCacheManager& m_kv;
    BatchConstraints m_constraints;
    CapacityManager* m_capacity = nullptr;
    std::int64_t m_bytesPerBlock = 1;
    std::vector<SequencePtr> m_running;  // sorted: priority desc, arrival asc
    bool m_orderDirty = false;
    AdmissionBlock m_block;
};

}  // namespace batchscope::engine
