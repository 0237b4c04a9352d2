// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/scheduling/request_queue.h"

#include <algorithm>

namespace batchscope::engine {

RequestQueue::RequestQueue(std::int32_t capacity) : RequestQueue(RequestQueueConfig{capacity}) {}

RequestQueue::RequestQueue(const RequestQueueConfig& config) : m_config(config) {
    if (m_config.capacity < 1) m_config.capacity = 1;
}

Status RequestQueue::push(SequencePtr seq) {
    std::lock_guard lock(m_mutex);
    if (m_size >= m_config.capacity)
        return makeError(ErrorCode::QueueFull, "request queue is full (" +
                         std::to_string(m_config.capacity) + " waiting requests)");
    const auto tokens = std::int64_t(seq->tokens.size());
    if (m_config.maxQueuedTokens > 0 && m_tokens + tokens > m_config.maxQueuedTokens)
        return makeError(ErrorCode::QueueFull, "request queue holds too many prompt tokens (limit " +
                         std::to_string(m_config.maxQueuedTokens) + ")");
    auto& fifo = m_fifos[int(seq->priority)];
    insertByArrival(fifo, std::move(seq));
    ++m_size;
    m_tokens += tokens;
    return Ok{};
}

void RequestQueue::pushFront(SequencePtr seq) {
    std::lock_guard lock(m_mutex);
    m_tokens += std::int64_t(seq->tokens.size());
    auto& fifo = m_fifos[int(seq->priority)];
    insertByArrival(fifo, std::move(seq));
    ++m_size;
}

void RequestQueue::insertByArrival(Fifo& fifo, SequencePtr seq) {
    // Usually appended at the back (newest) or the front (preempted, oldest): both O(1).
    auto pos = std::upper_bound(fifo.begin(), fifo.end(), seq->arrivalOrder,
        [](std::uint64_t order, const SequencePtr& s) { return order < s->arrivalOrder; });
    fifo.insert(pos, std::move(seq));
}

Priority RequestQueue::effectivePriority(const Sequence& seq, TimePoint now) const {
    if (m_config.agingInterval.count() <= 0) return seq.priority;
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - seq.arrival);
    const auto levels = std::max<std::int64_t>(0, waited.count() / m_config.agingInterval.count());
    return static_cast<Priority>(std::min<std::int64_t>(int(seq.priority) + levels, kPriorityCount - 1));
}

SequencePtr RequestQueue::peekLocked(TimePoint now, int* fifoIndex) const {
    SequencePtr best;
    int bestFifo = -1;
    int bestPriority = -1;
    for (int f = kPriorityCount - 1; f >= 0; --f) {
        if (m_fifos[f].empty()) continue;
        const SequencePtr& head = m_fifos[f].front();
        const int prio = m_config.policy == QueuePolicy::Fcfs ? 0 : int(effectivePriority(*head, now));
        if (!best || prio > bestPriority ||
            (prio == bestPriority && head->arrivalOrder < best->arrivalOrder)) {
            best = head;
            bestFifo = f;
            bestPriority = prio;
        }
    }
    if (fifoIndex) *fifoIndex = bestFifo;
    return best;
}

SequencePtr RequestQueue::peek(TimePoint now) const {
    std::lock_guard lock(m_mutex);
    return peekLocked(now, nullptr);
}

SequencePtr RequestQueue::pop(TimePoint now) {
    std::lock_guard lock(m_mutex);
    int fifo = -1;
    SequencePtr seq = peekLocked(now, &fifo);
    if (!seq) return nullptr;
    m_fifos[fifo].pop_front();
    --m_size;
    m_tokens -= std::int64_t(seq->tokens.size());
    return seq;
}

SequencePtr RequestQueue::remove(RequestId id) {
    auto removed = removeIf([id](const Sequence& s) { return s.id == id; });
    return removed.empty() ? nullptr : removed.front();
}

std::vector<SequencePtr> RequestQueue::removeIf(const std::function<bool(const Sequence&)>& pred) {
    std::lock_guard lock(m_mutex);
    std::vector<SequencePtr> out;
    for (auto& fifo : m_fifos) {
        for (auto it = fifo.begin(); it != fifo.end();) {
            if (pred(**it)) {
                m_tokens -= std::int64_t((*it)->tokens.size());
                out.push_back(std::move(*it));
                it = fifo.erase(it);
                --m_size;
            } else {
                ++it;
            }
        }
    }
    return out;
}

std::vector<SequencePtr> RequestQueue::drain() {
    return removeIf([](const Sequence&) { return true; });
}

bool RequestQueue::setPriority(RequestId id, Priority priority) {
    std::lock_guard lock(m_mutex);
    for (auto& fifo : m_fifos) {
        auto it = std::find_if(fifo.begin(), fifo.end(), [id](const SequencePtr& s) { return s->id == id; });
        if (it == fifo.end()) continue;
        SequencePtr seq = std::move(*it);
        fifo.erase(it);
        seq->priority = priority;
        insertByArrival(m_fifos[int(priority)], std::move(seq));
        return true;
    }
    return false;
}

std::vector<SequencePtr> RequestQueue::ordered(TimePoint now) const {
    std::lock_guard lock(m_mutex);
    std::vector<SequencePtr> all;
    all.reserve(std::size_t(m_size));
    for (const auto& fifo : m_fifos) all.insert(all.end(), fifo.begin(), fifo.end());
    std::stable_sort(all.begin(), all.end(), [&](const SequencePtr& a, const SequencePtr& b) {
        const int pa = m_config.policy == QueuePolicy::Fcfs ? 0 : int(effectivePriority(*a, now));
        const int pb = m_config.policy == QueuePolicy::Fcfs ? 0 : int(effectivePriority(*b, now));
        return pa != pb ? pa > pb : a->arrivalOrder < b->arrivalOrder;
    });
    return all;
}

std::vector<SequencePtr> RequestQueue::orderedPrefix(TimePoint now, std::size_t limit) const {
    std::lock_guard lock(m_mutex);
    std::vector<SequencePtr> out;
    out.reserve(std::min(limit, std::size_t(m_size)));
    std::array<std::size_t, kPriorityCount> next{};
    const auto key = [&](const SequencePtr& s) {
        return m_config.policy == QueuePolicy::Fcfs ? 0 : int(effectivePriority(*s, now));
    };
    while (out.size() < limit) {
        int best = -1;
        for (int f = 0; f < kPriorityCount; ++f) {
            if (next[std::size_t(f)] >= m_fifos[std::size_t(f)].size()) continue;
            if (best < 0) {
                best = f;
                continue;
            }
            const SequencePtr& a = m_fifos[std::size_t(f)][next[std::size_t(f)]];
            const SequencePtr& b = m_fifos[std::size_t(best)][next[std::size_t(best)]];
            const int pa = key(a), pb = key(b);
            if (pa != pb ? pa > pb : a->arrivalOrder < b->arrivalOrder) best = f;
        }
        if (best < 0) break;
        out.push_back(m_fifos[std::size_t(best)][next[std::size_t(best)]++]);
    }
    return out;
}

std::int32_t RequestQueue::size() const {
    std::lock_guard lock(m_mutex);
    return m_size;
}

std::int64_t RequestQueue::queuedTokens() const {
    std::lock_guard lock(m_mutex);
    return m_tokens;
}

void RequestQueue::setPolicy(QueuePolicy policy, std::chrono::milliseconds agingInterval) {
    std::lock_guard lock(m_mutex);
    m_config.policy = policy;
    m_config.agingInterval = agingInterval;
}

}  // namespace batchscope::engine
