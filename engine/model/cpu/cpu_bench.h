// Micro benchmark of the CPU runtime: drives the executor directly the way the scheduler does.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/core/result.h"
#include "engine/model/cpu/vec_ops.h"
#include "engine/runtime/executor_factory.h"
#include "engine/model/gguf_types.h"

namespace batchscope::engine::cpu {

struct CpuBenchOptions {
    std::string shape = "small";             ///< tiny | small | medium | tinyllama (random weights)
    std::string architecture = "llama";      ///< of the random model: llama, llama3, qwen2, qwen3, phi3, gemma2, gemma3
    std::string modelPath;                   ///< a GGUF file instead of a random model
    GgmlType weightType = GgmlType::F32;     ///< for random models
    /// A llama.cpp quantisation preset ("Q4_K_M", "Q8_0", ...; model_quantizer.h) applied to the
    /// random model, generated in F16 for it: the per-tensor type mix of a downloaded file. Empty:
    /// every matrix in weightType.
    std::string preset;
    std::vector<int> concurrency{1, 4, 16, 32};
    int promptTokens = 128;
    int generatedTokens = 64;                ///< exactly this many per sequence (EOS ignored)
    int prefillTokenBudget = 2048;           ///< tokens per prefill step
    int blockSize = 16;
    int threads = 2;
    KvCacheType kvCache = KvCacheType::Auto;  ///< Auto follows the weight type
    int repeats = 3;                         ///< figures are medians over repeats
    std::size_t probeBufferBytes = std::size_t{256} << 20;  ///< MachineProbe's streamed buffer
    std::uint64_t seed = 1;
};

/// Figures of one concurrency level (medians over repeats). Times in milliseconds.
struct CpuBenchResult {
    int sequences = 0;
    double promptTokensPerSec = 0;   ///< prompt tokens / prefill-phase time
    double decodeTokensPerSec = 0;   ///< tokens generated in decode steps / decode-phase time
    double totalTokensPerSec = 0;    ///< (prompt + generated) / whole run
    double ttftMsMean = 0;           ///< start of run to a sequence's first token, mean
    double tokenLatencyP50Ms = 0;    ///< decode step duration (per-token latency), p50
    double tokenLatencyP99Ms = 0;
    double decodeGflops = 0;         ///< useful FLOP/s in the decode phase (matmuls + attention)
    double decodeGBps = 0;           ///< weight + KV bytes read per decode step / step time
    double promptGflops = 0;         ///< useful FLOP/s in the prefill phase
    double wallSeconds = 0;
    // Against a MachineProbe taken just before each run (fractions in [0, 1], medians of runs):
    double machineReadGBps = 0;      ///< memory read bandwidth measured on the same threads
    double machinePeakGflops = 0;    ///< F32 FMA peak of the same threads and ISA level
    double decodeBandwidthFraction = 0;  ///< decodeGBps / machineReadGBps
    double decodePeakFraction = 0;       ///< decodeGflops / machinePeakGflops
    double promptPeakFraction = 0;       ///< promptGflops / machinePeakGflops
};

/// Runs every concurrency level. `log` (optional) receives progress lines. Errors: bad shape,
/// unreadable model.
Result<std::vector<CpuBenchResult>> runCpuBench(const CpuBenchOptions& options,
                                                const std::function<void(const std::string&)>& log = {});

/// A Markdown table of the results.
std::string formatCpuBenchTable(const std::vector<CpuBenchResult>& results);

}  // namespace batchscope::engine::cpu
