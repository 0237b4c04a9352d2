// Streaming log-bucketed histogram (DDSketch-style) for latency percentiles, and its windowed
// form: constant memory, O(1) per sample, bounded relative error.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <chrono>
#include <cstdint>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"

namespace batchscope::engine {

/// Counts of non-negative values (milliseconds in this project) in logarithmic buckets:
/// bucket i covers (minValue * g^(i-1), minValue * g^i] with g = (1 + a) / (1 - a), and reports
/// 2 * minValue * g^i / (g + 1), which is within relative error a of every value in it. So each
/// percentile (docs/metrics.md convention) is within a of the exact one. Values below
/// minValue (zero included) fall in one bucket reported as the exact minimum (absolute error
/// < minValue), values above maxValue in one reported as the exact maximum. count, sum, min
/// and max are exact. Memory is fixed at construction (one 8-byte counter per bucket:
/// ~2,300 buckets for the defaults). Not thread-safe: the owner locks.
class LogHistogram {
public:
    static constexpr double kDefaultAccuracy = 0.005;
    static constexpr double kDefaultMinValue = 1e-3;   ///< 1 microsecond, in ms
    static constexpr double kDefaultMaxValue = 1e7;    ///< ~2.8 hours, in ms

    explicit LogHistogram(double relativeAccuracy = kDefaultAccuracy, double minValue = kDefaultMinValue,
                          double maxValue = kDefaultMaxValue);

    /// O(1). NaN is ignored; negative values count as below minValue.
    void record(double value);
    /// Adds another histogram's counts. Both must have the same accuracy and range (false if not).
    bool merge(const LogHistogram& other);
    void clear();

    std::int64_t count() const { return m_count; }
    double sum() const { return m_sum; }
    double min() const { return m_count ? m_min : 0; }
    double max() const { return m_count ? m_max : 0; }
    double mean() const { return m_count ? m_sum / double(m_count) : 0; }
    /// Percentile q in 0..100 (interpolated between ranks as in percentile.h); 0 when empty.
    /// O(buckets in use).
    double quantile(double q) const;
    /// count/sum/mean/min/max exact, p50/p95/p99 from the buckets.
    LatencySummary summary() const;

    double relativeAccuracy() const { return m_accuracy; }
    std::size_t bucketCount() const { return m_counts.size(); }
    /// Heap bytes held; constant for the histogram's life.
    std::size_t memoryBytes() const { return m_counts.capacity() * sizeof(std::uint64_t); }

private:
    std::size_t bucketOf(double value) const;
    double representative(std::size_t bucket) const;
    /// Values at ranks k and k + 1 (0-based, k + 1 clamped to count - 1).
    std::pair<double, double> valuesAtRanks(std::int64_t k) const;

    double m_accuracy, m_minValue, m_maxValue, m_gamma, m_logGamma;
    std::vector<std::uint64_t> m_counts;   // [0] below minValue, [last] above maxValue
    std::size_t m_lo, m_hi;                // buckets in use lie in [m_lo, m_hi] (empty: lo > hi)
    std::int64_t m_count = 0;
    double m_sum = 0, m_min = 0, m_max = 0;
};

/// A LogHistogram for all time plus one for the last `window`, kept as `slots` sub-histograms
/// of window/slots each: a sample leaves the window between window - window/slots and window
/// after it was recorded. Time comes from the caller (injectable clocks in tests). Memory is
/// (slots + 1) histograms, fixed. Not thread-safe: the owner locks.
class WindowedHistogram {
public:
    using Clock = std::chrono::steady_clock;
    WindowedHistogram(std::chrono::milliseconds window, std::int32_t slots,
                      double relativeAccuracy = LogHistogram::kDefaultAccuracy);

    void record(double value, Clock::time_point at);
    const LogHistogram& allTime() const { return m_all; }
    /// The samples recorded within the window ending at `now`. O(slots x buckets in use).
    LogHistogram window(Clock::time_point now) const;
    std::chrono::milliseconds windowLength() const { return m_slotWidth * std::int64_t(m_slots.size()); }
    void clear();
    std::size_t memoryBytes() const;

private:
    struct Slot {
        std::int64_t epoch = -1;   // time / slot width of the samples it holds; -1 = unused
        LogHistogram histogram;
    };
    std::int64_t epochOf(Clock::time_point t) const;

    std::chrono::milliseconds m_slotWidth;
    LogHistogram m_all;
    std::vector<Slot> m_slots;
};

}  // namespace batchscope::engine
