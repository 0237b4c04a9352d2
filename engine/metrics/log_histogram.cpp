// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/metrics/log_histogram.h"

#include <algorithm>
#include <cmath>

#include "engine/metrics/percentile.h"

namespace batchscope::engine {

LogHistogram::LogHistogram(double relativeAccuracy, double minValue, double maxValue)
    : m_accuracy(std::clamp(relativeAccuracy, 1e-4, 0.5)), m_minValue(minValue > 0 ? minValue : kDefaultMinValue),
      m_maxValue(std::max(maxValue, m_minValue * 2)) {
    m_gamma = (1 + m_accuracy) / (1 - m_accuracy);
    m_logGamma = std::log(m_gamma);
    const auto logBuckets = std::size_t(std::ceil(std::log(m_maxValue / m_minValue) / m_logGamma));
    m_counts.assign(logBuckets + 2, 0);
    m_lo = m_counts.size();
    m_hi = 0;
}

std::size_t LogHistogram::bucketOf(double value) const {
    if (!(value >= m_minValue)) return 0;
    if (value > m_maxValue) return m_counts.size() - 1;
    const double i = std::ceil(std::log(value / m_minValue) / m_logGamma);
    return std::clamp<std::size_t>(std::size_t(std::max(i, 1.0)), 1, m_counts.size() - 2);
}

double LogHistogram::representative(std::size_t bucket) const {
    if (bucket == 0) return m_min;
    if (bucket == m_counts.size() - 1) return m_max;
    const double v = 2 * m_minValue * std::pow(m_gamma, double(bucket)) / (m_gamma + 1);
    return std::clamp(v, m_min, m_max);   // the exact extremes bound every sample
}

void LogHistogram::record(double value) {
    if (std::isnan(value)) return;
    const std::size_t b = bucketOf(value);
    ++m_counts[b];
    m_lo = std::min(m_lo, b);
    m_hi = std::max(m_hi, b);
    if (m_count == 0) {
        m_min = m_max = value;
    } else {
        m_min = std::min(m_min, value);
        m_max = std::max(m_max, value);
    }
    ++m_count;
    m_sum += value;
}

bool LogHistogram::merge(const LogHistogram& other) {
    if (other.m_counts.size() != m_counts.size() || other.m_accuracy != m_accuracy ||
        other.m_minValue != m_minValue)
        return false;
    if (other.m_count == 0) return true;
    for (std::size_t b = other.m_lo; b <= other.m_hi; ++b) m_counts[b] += other.m_counts[b];
    m_lo = std::min(m_lo, other.m_lo);
    m_hi = std::max(m_hi, other.m_hi);
    m_min = m_count ? std::min(m_min, other.m_min) : other.m_min;
    m_max = m_count ? std::max(m_max, other.m_max) : other.m_max;
    m_count += other.m_count;
    m_sum += other.m_sum;
    return true;
}

void LogHistogram::clear() {
    if (m_count) std::fill(m_counts.begin() + std::ptrdiff_t(m_lo), m_counts.begin() + std::ptrdiff_t(m_hi) + 1, 0);
    m_lo = m_counts.size();
    m_hi = 0;
    m_count = 0;
    m_sum = m_min = m_max = 0;
}

std::pair<double, double> LogHistogram::valuesAtRanks(std::int64_t k) const {
    const std::int64_t k2 = std::min(k + 1, m_count - 1);
    double lower = m_max, upper = m_max;
    bool haveLower = false;
    std::uint64_t seen = 0;
    for (std::size_t b = m_lo; b <= m_hi; ++b) {
        seen += m_counts[b];
        if (!haveLower && seen > std::uint64_t(k)) {
            lower = representative(b);
            haveLower = true;
        }
        if (seen > std::uint64_t(k2)) {
            upper = representative(b);
            break;
        }
    }
    return {lower, upper};
}

double LogHistogram::quantile(double q) const {
    if (m_count == 0) return 0;
    const double rank = std::clamp(q, 0.0, 100.0) / 100.0 * double(m_count - 1);
    if (rank <= 0) return m_min;
    if (rank >= double(m_count - 1)) return m_max;
    const auto [lower, upper] = valuesAtRanks(std::int64_t(rank));
    return interpolateRank(lower, upper, rank);
}

LatencySummary LogHistogram::summary() const {
    LatencySummary s;
    s.count = m_count;
    s.sum = m_sum;
    s.mean = mean();
    s.min = min();
    s.max = max();
    s.p50 = quantile(50);
    s.p95 = quantile(95);
    s.p99 = quantile(99);
    return s;
}

WindowedHistogram::WindowedHistogram(std::chrono::milliseconds window, std::int32_t slots, double relativeAccuracy)
    : m_slotWidth(std::max<std::int64_t>(1, window.count() / std::max(1, slots))), m_all(relativeAccuracy) {
    m_slots.resize(std::size_t(std::max(1, slots)), Slot{-1, LogHistogram(relativeAccuracy)});
}

std::int64_t WindowedHistogram::epochOf(Clock::time_point t) const {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
    return ms.count() >= 0 ? ms.count() / m_slotWidth.count() : 0;
}

void WindowedHistogram::record(double value, Clock::time_point at) {
    m_all.record(value);
    const std::int64_t epoch = epochOf(at);
    Slot& slot = m_slots[std::size_t(epoch % std::int64_t(m_slots.size()))];
    if (slot.epoch > epoch) return;   // older than the window already: all-time only
    if (slot.epoch != epoch) {
        slot.histogram.clear();
        slot.epoch = epoch;
    }
    slot.histogram.record(value);
}

LogHistogram WindowedHistogram::window(Clock::time_point now) const {
    LogHistogram out(m_all.relativeAccuracy());
    const std::int64_t current = epochOf(now);
    const auto slots = std::int64_t(m_slots.size());
    for (const Slot& slot : m_slots)
        if (slot.epoch >= 0 && slot.epoch <= current && slot.epoch > current - slots) out.merge(slot.histogram);
    return out;
}

void WindowedHistogram::clear() {
    m_all.clear();
    for (Slot& slot : m_slots) {
        slot.histogram.clear();
        slot.epoch = -1;
    }
}

std::size_t WindowedHistogram::memoryBytes() const {
    std::size_t bytes = m_all.memoryBytes();
    for (const Slot& slot : m_slots) bytes += slot.histogram.memoryBytes();
    return bytes;
}

}  // namespace batchscope::engine
