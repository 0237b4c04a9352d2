// Capacity limits (memory bytes, running sequences, batched tokens) and current utilisation.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <atomic>
#include <cstdint>

namespace batchscope::engine {

struct CapacityConstraints {
    std::int64_t maxMemoryBytes = 1LL << 30;  ///< KV bytes in use at most
    std::int32_t maxSequences = 256;          ///< running sequences at most
    std::int32_t maxBatchedTokens = 8192;     ///< tokens in one step at most
    static CapacityConstraints Default() { return {}; }
};

/// Utilisation in percent, each in [0, 100].
struct Utilization {
    double memoryUtilization = 0;
    double sequenceUtilization = 0;
    double tokenUtilization = 0;
};

/// The limits are enforced by the BatchManager (constraints().maxMemoryBytes caps its KV
/// blocks, canRunSequences() its running set, tokenLimit() its step budget); the usage is
/// reported by the scheduler (update()) after every scheduling decision and step.
/// Threading: the constraints are immutable; update() is called by the engine thread only;
/// the counters are atomics so utilization() can be sampled from any thread while it runs.
/// Each counter is read on its own: a sample may mix two consecutive updates.
class CapacityManager {
public:
    explicit CapacityManager(const CapacityConstraints& constraints = {});

    const CapacityConstraints& constraints() const { return m_constraints; }
    bool canRunSequences(std::int32_t count) const { return count <= m_constraints.maxSequences; }
    std::int32_t tokenLimit() const { return m_constraints.maxBatchedTokens; }

    /// Called by the engine thread after each scheduling decision.
    void update(std::int64_t memoryBytes, std::int32_t sequences, std::int32_t stepTokens);
    Utilization utilization() const;
    /// Spec name.
    Utilization GetUtilization() const { return utilization(); }

private:
    CapacityConstraints m_constraints;
    std::atomic<std::int64_t> m_memoryBytes{0};
    std::atomic<std::int32_t> m_sequences{0};
    std::atomic<std::int32_t> m_stepTokens{0};
};

}  // namespace batchscope::engine
