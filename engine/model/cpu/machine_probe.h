// What this machine can do right now, measured in-process: memory read bandwidth and the F32
// FMA peak, so benchmarks can report the fraction of each they reach.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstddef>
#include <vector>

#include "engine/model/cpu/aligned_vector.h"
#include "engine/model/cpu/cpu_isa.h"
#include "engine/model/cpu/thread_pool.h"

namespace batchscope::engine::cpu {

/// Measures on the threads of a pool (the same threads the model runs on). Why in-process:
/// on a shared machine the memory bandwidth available to a VM varies by 2x within minutes
/// (38-80 GB/s seen here), so a fraction is only meaningful against a probe taken next to the
/// run. Threading: one thread uses a probe at a time (it drives the pool).
class MachineProbe {
public:
    /// bufferBytes: size of the buffer streamed by readBandwidthGBps(); it must exceed the
    /// last-level cache several times over (default 256 MiB; allocated and touched here).
    MachineProbe(ThreadPool& pool, CpuIsa isa, std::size_t bufferBytes = std::size_t{256} << 20);

    /// GB/s (1e9 bytes) of reading the buffer once with every pool thread, best of `passes`.
    double readBandwidthGBps(int passes = 3);
    /// GFLOP/s of independent F32 FMA chains held in registers (no memory traffic) on every
    /// pool thread at this ISA level's vector width, best of `passes`: the compute ceiling.
    double fmaPeakGflops(int passes = 3);

private:
    ThreadPool& m_pool;
    CpuIsa m_isa;
    AlignedVector<float> m_buffer;
};

}  // namespace batchscope::engine::cpu
