// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>

namespace batchscope::engine {

struct MetricsConfiguration {
    std::int32_t stepHistory = 4096;        ///< step records kept (ring)
    std::int32_t latencySamples = 200000;   ///< per-request latency samples kept for percentiles
    std::int32_t recentSamples = 2048;      ///< latest samples exposed for histograms
    static MetricsConfiguration Default() { return {}; }
};

}  // namespace batchscope::engine
