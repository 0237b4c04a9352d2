// One request of a workload to replay or drive a live engine with: what arrives when, how long
// its prompt and output are, and which prefix blocks it shares with others.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace batchscope::engine {

/// A request as a workload sees it: no text, only the shape the scheduler reacts to.
/// Produced by trace importers (Azure, BurstGPT CSV), arrival generators and recorded traces;
/// consumed by `batchscope replay` and `batchscope load`. Plain value type, no invariants
/// beyond the field comments; any thread.
struct WorkloadRequest {
    /// Seconds since the start of the workload (>= 0); requests are sorted by it.
    double arrivalSeconds = 0.0;
    /// Prompt length in tokens (>= 1).
    int promptTokens = 1;
    /// Tokens the request generates before it finishes (>= 1); replay uses it as both the
    /// request's maxTokens and its actual output length.
    int outputTokens = 1;
    /// engine::Priority as an integer: 0 Low, 1 Normal, 2 High, 3 Critical.
    int priority = 1;
    /// Seconds after arrival at which the client cancels it; empty = never.
    std::optional<double> cancelAfterSeconds;
    /// Hash chain of the prompt's full KV blocks (KVCacheManager block hashes, each covering
    /// the block's tokens and every earlier block); equal prefixes give equal leading hashes.
    /// Empty = no prefix shared with any other request.
    std::vector<std::uint64_t> prefixBlockHashes;
    /// Who sent it (client name, trace column); free text, may be empty.
    std::string client;
};

}  // namespace batchscope::engine
