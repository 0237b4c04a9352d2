// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/scheduling/capacity_manager.h"

#include <algorithm>

namespace batchscope::engine {

namespace {
double percent(double used, double limit) {
    if (limit <= 0) return 0;
    // Not clamped above: the BatchManager enforces the limits, and a value over 100 must show.
    return std::max(0.0, 100.0 * used / limit);
}
}  // namespace

CapacityManager::CapacityManager(const CapacityConstraints& constraints) : m_constraints(constraints) {}

void CapacityManager::update(std::int64_t memoryBytes, std::int32_t sequences, std::int32_t stepTokens) {
    m_memoryBytes.store(memoryBytes, std::memory_order_relaxed);
    m_sequences.store(sequences, std::memory_order_relaxed);
    m_stepTokens.store(stepTokens, std::memory_order_relaxed);
}

Utilization CapacityManager::utilization() const {
    Utilization u;
    u.memoryUtilization = percent(double(m_memoryBytes.load(std::memory_order_relaxed)),
                                  double(m_constraints.maxMemoryBytes));
    u.sequenceUtilization = percent(m_sequences.load(std::memory_order_relaxed), m_constraints.maxSequences);
    u.tokenUtilization = percent(m_stepTokens.load(std::memory_order_relaxed), m_constraints.maxBatchedTokens);
    return u;
}

}  // namespace batchscope::engine
