// Bounded, priority-ordered queue of waiting requests with anti-starvation aging.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "engine/core/result.h"
#include "engine/scheduling/sequence.h"

namespace batchscope::engine {

struct RequestQueueConfig {
    std::int32_t capacity = 1024;          ///< waiting requests at most
    std::int64_t maxQueuedTokens = 0;      ///< prompt tokens waiting at most; 0 = unbounded
    QueuePolicy policy = QueuePolicy::Priority;
    /// Aging: a waiting request's effective priority rises one level per interval; 0 = strict.
    std::chrono::milliseconds agingInterval{2000};
};

/// Waiting requests in one FIFO per priority. The next request is the head with the highest
/// effective priority (base + waited / agingInterval, capped at Critical), ties broken by
/// arrival; within one FIFO the head is the oldest, so it also has the highest effective
/// priority there, which keeps selection O(priorities). Preempted requests go back to the
/// front of their FIFO (they keep their original arrival order).
///
/// Thread-safe: every method locks an internal mutex (submitters push from any thread, the
/// engine thread pops).
class RequestQueue {
public:
    explicit RequestQueue(std::int32_t capacity);
    explicit RequestQueue(const RequestQueueConfig& config);

    /// Adds a new request. Error QueueFull when at capacity or over the token bound.
    Status push(SequencePtr seq);
    /// Puts a preempted request back at the head of its priority, ignoring capacity (it was
    /// admitted once; dropping it would lose it).
    void pushFront(SequencePtr seq);
    /// The request that would be popped next, or nullptr.
    SequencePtr peek(TimePoint now) const;
    SequencePtr pop(TimePoint now);
    /// Removes a request by id (cancel); nullptr if not waiting.
    SequencePtr remove(RequestId id);
    /// Moves a waiting request to another priority FIFO, keeping arrival order there.
    bool setPriority(RequestId id, Priority priority);
    /// Removes every request that satisfies pred.
    std::vector<SequencePtr> removeIf(const std::function<bool(const Sequence&)>& pred);
    std::vector<SequencePtr> drain();

    /// All waiting requests in the order they would be popped now.
    std::vector<SequencePtr> ordered(TimePoint now) const;
    /// The first `limit` of them, by merging the per-priority FIFOs (each already in pop order):
    /// O(limit x priorities), not O(size log size).
    std::vector<SequencePtr> orderedPrefix(TimePoint now, std::size_t limit) const;
    std::int32_t size() const;
    bool empty() const { return size() == 0; }
    std::int64_t queuedTokens() const;
    std::int32_t capacity() const { return m_config.capacity; }

    void setPolicy(QueuePolicy policy, std::chrono::milliseconds agingInterval);
    Priority effectivePriority(const Sequence& seq, TimePoint now) const;

private:
    using Fifo = std::deque<SequencePtr>;
    SequencePtr peekLocked(TimePoint now, int* fifo) const;
    static void insertByArrival(Fifo& fifo, SequencePtr seq);

    RequestQueueConfig m_config;
    mutable std::mutex m_mutex;
    std::array<Fifo, kPriorityCount> m_fifos;
    std::int32_t m_size = 0;
    std::int64_t m_tokens = 0;
};

}  // namespace batchscope::engine
