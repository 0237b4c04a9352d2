// SPDX-License-Identifier: GPL-3.0-or-later
#include <atomic>
#include "engine/model/cpu/cpu_isa.h"

#include <algorithm>
#include <cstdlib>

namespace batchscope::engine::cpu {

CpuIsa detectCpuIsa() {
    static const CpuIsa isa = [] {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        // F16C has no __builtin_cpu_supports name in g++ 12; every AVX2 CPU shipped has it.
        const bool avx512 = __builtin_cpu_supports("avx512f") &&
                            __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
        if (avx2 && avx512) return CpuIsa::Avx512;
        if (avx2) return CpuIsa::Avx2;
#endif
        return CpuIsa::Scalar;
    }();
    return isa;
}

bool cpuHasVnni() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool vnni = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512vnni") != 0;
    }();
    return vnni;
#else
    return false;
#endif
}

namespace {
std::atomic<bool>& kquantAvx512Flag() {
    static std::atomic<bool> flag{[] {
        const char* env = std::getenv("BATCHSCOPE_KQUANT_AVX512");
        return env != nullptr && std::string_view(env) == "1";
    }()};
    return flag;
}
std::atomic<bool>& quantGemvFlag() {
    static std::atomic<bool> flag{[] {
        const char* env = std::getenv("BATCHSCOPE_QUANT_GEMV");
        return env == nullptr || std::string_view(env) != "0";
    }()};
    return flag;
}
}  // namespace

bool kquantAvx512Enabled() { return kquantAvx512Flag().load(std::memory_order_relaxed); }
void setKQuantAvx512Enabled(bool enabled) { kquantAvx512Flag().store(enabled, std::memory_order_relaxed); }
bool quantGemvEnabled() { return quantGemvFlag().load(std::memory_order_relaxed); }
void setQuantGemvEnabled(bool enabled) { quantGemvFlag().store(enabled, std::memory_order_relaxed); }

CpuIsa activeCpuIsa() {
    static const CpuIsa isa = [] {
        const CpuIsa best = detectCpuIsa();
        if (const char* env = std::getenv("BATCHSCOPE_CPU_ISA")) {
            if (auto forced = parseCpuIsa(env)) return std::min(*forced, best);
        }
        return best;
    }();
    return isa;
}

std::string_view cpuIsaName(CpuIsa isa) {
    switch (isa) {
    case CpuIsa::Scalar: return "scalar";
    case CpuIsa::Avx2: return "avx2";
    case CpuIsa::Avx512: return "avx512";
    }
    return "scalar";
}

std::optional<CpuIsa> parseCpuIsa(std::string_view name) {
    if (name == "scalar") return CpuIsa::Scalar;
    if (name == "avx2") return CpuIsa::Avx2;
    if (name == "avx512") return CpuIsa::Avx512;
    return std::nullopt;
}

}  // namespace batchscope::engine::cpu
