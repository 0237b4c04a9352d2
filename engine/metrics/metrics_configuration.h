// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

namespace batchscope::engine {

/// Sizes of SchedulerMetricsCollector's fixed-size state. Memory does not grow with requests.
struct MetricsConfiguration {
    std::int32_t stepHistory = 4096;        ///< step records kept (ring)
    std::int32_t recentSamples = 2048;      ///< latest samples exposed for histogram charts (ring)
    std::int32_t windowSeconds = 10;        ///< the "recent" latency summaries cover this long
    std::int32_t windowSlots = 10;          ///< sub-histograms the window rotates through
    double relativeAccuracy = 0.005;        ///< percentile relative error bound of the histograms
    static MetricsConfiguration Default() { return {}; }
};

}  // namespace batchscope::engine
