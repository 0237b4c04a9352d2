// Bounded sample buffers and data thinning for the live charts (pure, no widgets).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QVector>
#include <deque>
#include <vector>

namespace batchscope::ui {

/// Samples of several series on a shared time axis (seconds). Keeps only samples newer than
/// `windowSeconds` before the newest one and at most `maxSamples`. Not thread-safe.
class TimeSeriesBuffer {
public:
    TimeSeriesBuffer(int seriesCount, double windowSeconds, int maxSamples = 20000);

    /// t must not decrease; a sample with an older t than the newest resets the buffer
    /// (the engine was replaced and its clock restarted).
    void append(double t, const std::vector<double>& values);
    void clear();
    void setWindowSeconds(double seconds);
    double windowSeconds() const { return m_window; }
    int size() const { return int(m_t.size()); }
    int seriesCount() const { return int(m_series.size()); }
    double firstTime() const { return m_t.empty() ? 0 : m_t.front(); }
    double lastTime() const { return m_t.empty() ? 0 : m_t.back(); }
    const std::deque<double>& times() const { return m_t; }
    const std::deque<double>& series(int i) const { return m_series[size_t(i)]; }

private:
    void trim();
    double m_window;
    int m_maxSamples;
    std::deque<double> m_t;
    std::vector<std::deque<double>> m_series;
};

/// Reduces (x, y) to at most maxPoints points, keeping each bucket's minimum and maximum in
/// x order so that peaks stay visible. Input with <= maxPoints points is copied unchanged.
void thinMinMax(const std::deque<double>& x, const std::deque<double>& y, int maxPoints,
                QVector<double>& outX, QVector<double>& outY);

/// Histogram of samples into `bins` equal bins over [0, max(samples)]; returns bin centres and
/// counts; binWidth receives the width (0 when there are no samples).
void histogram(const std::vector<double>& samples, int bins, QVector<double>& centres,
               QVector<double>& counts, double& binWidth);

/// Linear-interpolated percentile (q in [0, 100]) of unsorted samples; 0 for none.
double percentile(std::vector<double> samples, double q);

}  // namespace batchscope::ui
