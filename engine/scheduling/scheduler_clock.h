// Where the scheduler reads the time: the steady clock in a live engine, a virtual clock in
// replay (what-if runs advance it by a modelled step cost and never sleep).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace batchscope::engine {

/// The scheduler's time source. Every time the scheduler and its metrics use (arrival, aging,
/// minBatchWait, deadlines, step start/duration, latencies) is read through now().
/// Threading: now() may be called from any thread.
class SchedulerClock {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    virtual ~SchedulerClock() = default;
    virtual TimePoint now() const = 0;
    /// True for the wall (steady) clock: the threaded loop may sleep until a time it read.
    virtual bool isReal() const { return false; }
};

/// std::chrono::steady_clock. Stateless; shared() is the one every live engine uses.
class SteadySchedulerClock final : public SchedulerClock {
public:
    TimePoint now() const override { return std::chrono::steady_clock::now(); }
    bool isReal() const override { return true; }
    static std::shared_ptr<SchedulerClock> shared() {
        static const auto clock = std::make_shared<SteadySchedulerClock>();
        return clock;
    }
};

/// A clock that moves only when told to. Starts at steady_clock's epoch plus `start`; set()
/// never goes backwards (an earlier time is ignored), so time stays monotonic as the steady
/// clock's does. Threading: now/set/advance are atomic (one 64-bit counter, nanoseconds).
class VirtualClock final : public SchedulerClock {
public:
    explicit VirtualClock(std::chrono::nanoseconds start = std::chrono::hours(1)) : m_ns(start.count()) {}
    TimePoint now() const override { return TimePoint(std::chrono::nanoseconds(m_ns.load(std::memory_order_acquire))); }
    void set(TimePoint t) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
        auto cur = m_ns.load(std::memory_order_relaxed);
        while (ns > cur && !m_ns.compare_exchange_weak(cur, ns, std::memory_order_acq_rel)) {}
    }
    void advance(std::chrono::nanoseconds d) {
        if (d.count() > 0) m_ns.fetch_add(d.count(), std::memory_order_acq_rel);
    }

private:
    std::atomic<std::int64_t> m_ns;
};

}  // namespace batchscope::engine
