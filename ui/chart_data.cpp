// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/chart_data.h"

#include <algorithm>
#include <cmath>

#include "engine/metrics/percentile.h"

namespace batchscope::ui {

TimeSeriesBuffer::TimeSeriesBuffer(int seriesCount, double windowSeconds, int maxSamples)
    : m_window(windowSeconds), m_maxSamples(maxSamples), m_series(size_t(seriesCount)) {}

void TimeSeriesBuffer::append(double t, const std::vector<double>& values) {
    if (!m_t.empty() && t < m_t.back()) clear();
    m_t.push_back(t);
    for (size_t i = 0; i < m_series.size(); ++i)
        m_series[i].push_back(i < values.size() ? values[i] : 0.0);
    trim();
}

void TimeSeriesBuffer::clear() {
    m_t.clear();
    for (auto& s : m_series) s.clear();
}

void TimeSeriesBuffer::setWindowSeconds(double seconds) {
    m_window = seconds;
    trim();
}

void TimeSeriesBuffer::trim() {
    if (m_t.empty()) return;
    const double oldest = m_t.back() - m_window;
    while (!m_t.empty() && (m_t.front() < oldest || int(m_t.size()) > m_maxSamples)) {
        m_t.pop_front();
        for (auto& s : m_series) s.pop_front();
    }
}

void thinMinMax(const std::deque<double>& x, const std::deque<double>& y, int maxPoints,
                QVector<double>& outX, QVector<double>& outY) {
    outX.clear();
    outY.clear();
    const size_t n = std::min(x.size(), y.size());
    if (int(n) <= maxPoints || maxPoints < 2) {
        outX.reserve(qsizetype(n));
        outY.reserve(qsizetype(n));
        for (size_t i = 0; i < n; ++i) {
            outX << x[i];
            outY << y[i];
        }
        return;
    }
    const size_t buckets = size_t(maxPoints / 2);
    outX.reserve(maxPoints);
    outY.reserve(maxPoints);
    for (size_t b = 0; b < buckets; ++b) {
        const size_t lo = b * n / buckets, hi = (b + 1) * n / buckets;
        if (lo >= hi) continue;
        size_t iMin = lo, iMax = lo;
        for (size_t i = lo; i < hi; ++i) {
            if (y[i] < y[iMin]) iMin = i;
            if (y[i] > y[iMax]) iMax = i;
        }
        const size_t first = std::min(iMin, iMax), second = std::max(iMin, iMax);
        outX << x[first];
        outY << y[first];
        if (second != first) {
            outX << x[second];
            outY << y[second];
        }
    }
}

void histogram(const std::vector<double>& samples, int bins, QVector<double>& centres,
               QVector<double>& counts, double& binWidth) {
    centres.clear();
    counts.clear();
    binWidth = 0;
    if (samples.empty() || bins <= 0) return;
    const double top = *std::max_element(samples.begin(), samples.end());
    binWidth = top > 0 ? top / bins : 1.0;
    centres.resize(bins);
    counts.fill(0.0, bins);
    for (int i = 0; i < bins; ++i) centres[i] = (i + 0.5) * binWidth;
    for (double s : samples) {
        int bin = int(std::floor(std::max(0.0, s) / binWidth));
        counts[std::clamp(bin, 0, bins - 1)] += 1;
    }
}

double percentile(std::vector<double> samples, double q) { return engine::percentileOf(std::move(samples), q); }

}  // namespace batchscope::ui
