// SPDX-License-Identifier: GPL-3.0-or-later
// Stand-alone driver of runCpuBench() for measuring (not a test):
//   batchscope_cpu_bench [shape] [F32|F16|BF16|Q8_0|Q4_0|Q4_K|Q6_K|... (any loadable type)] [threads] [repeats] [N...]
//   batchscope_cpu_bench types [shape] [threads] [rounds] [F16,Q8_0,Q4_K_M,...] [N...]  (ratios, see typesBench)
// BATCHSCOPE_BENCH_KV=f16|f32 selects the KV cache type (default: auto, by weight type);
// BATCHSCOPE_BENCH_ARCH=qwen2 (etc.) the random model's architecture (default llama).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <ctime>
#include <vector>

#include "engine/model/cpu/aligned_vector.h"
#include "engine/model/cpu/matmul.h"

#include "engine/model/cpu/cpu_bench.h"
#include "engine/model/cpu/cpu_isa.h"
#include "engine/model/model_quantizer.h"

using namespace batchscope::engine;

namespace {

double threadCpuSeconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Single-thread kernel rates per CPU-second (meaningful on a loaded machine):
//   batchscope_cpu_bench kernel [T...]
int kernelBench(int argc, char** argv) {
    std::vector<int> tokens{1, 4, 16, 32, 64, 128};
    if (argc > 2) {
        tokens.clear();
        for (int i = 2; i < argc; ++i) tokens.push_back(std::atoi(argv[i]));
    }
    // BATCHSCOPE_KBENCH_ROWS / _COLS change the 4096 x 1024 matrix (e.g. a model's shapes).
    const char* rowsEnv = std::getenv("BATCHSCOPE_KBENCH_ROWS");
    const char* colsEnv = std::getenv("BATCHSCOPE_KBENCH_COLS");
    const std::int64_t N = rowsEnv ? std::atoll(rowsEnv) : 4096, K = colsEnv ? std::atoll(colsEnv) : 1024;
    std::vector<float> src(static_cast<std::size_t>(N * K));
    for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    cpu::ThreadPool pool(1);
    // BATCHSCOPE_KBENCH_TYPES=F16,Q4_K,... picks the weight types (default: all with own kernels).
    const char* typesEnv = std::getenv("BATCHSCOPE_KBENCH_TYPES");
    const std::string typeList = typesEnv ? typesEnv : "F32,F16,BF16,Q8_0,Q4_0,Q4_K,Q5_K,Q6_K";
    for (auto type : {cpu::WeightType::F32, cpu::WeightType::F16, cpu::WeightType::BF16, cpu::WeightType::Q8_0,
                      cpu::WeightType::Q4_0, cpu::WeightType::Q4_1, cpu::WeightType::Q5_0, cpu::WeightType::Q5_1,
                      cpu::WeightType::IQ4_NL, cpu::WeightType::Q2_K, cpu::WeightType::Q3_K, cpu::WeightType::Q4_K,
                      cpu::WeightType::Q5_K, cpu::WeightType::Q6_K, cpu::WeightType::IQ4_XS}) {
        if (("," + typeList + ",").find("," + std::string(cpu::weightTypeName(type)) + ",") == std::string::npos) continue;
        const std::size_t rb = cpu::weightRowBytes(type, K);
        std::vector<std::byte> w(rb * static_cast<std::size_t>(N));
        for (std::int64_t n = 0; n < N; ++n) cpu::quantizeRow(type, src.data() + n * K, K, w.data() + n * rb);
        const cpu::WeightMatrix m{type, w.data(), N, K};
        for (int T : tokens) {
            // Aligned like the runtime's activation buffers.
            cpu::AlignedVector<float> x(src.begin(), src.begin() + T * K), y(static_cast<std::size_t>(T * N));
            // Variant 2: the register tiles instead of the T = 1 kernel of the signed 32-block
            // types (cpu::setQuantGemvEnabled), for an old/new ratio in one process.
            const bool gemvType = type == cpu::WeightType::Q8_0 || type == cpu::WeightType::Q4_0 ||
                                  type == cpu::WeightType::Q5_0 || type == cpu::WeightType::IQ4_NL;
            for (int variant : {0, 1, 2}) {
                if (variant == 2 && !gemvType) continue;
                const int blas = variant == 1;
                cpu::setQuantGemvEnabled(variant != 2);
                cpu::Matmul mm(pool, cpu::activeCpuIsa());
                mm.setBlasMinTokens(blas ? 1 : -1);
                mm.run(m, x.data(), T, y.data());
                int reps = 0;
                const double t0 = threadCpuSeconds();
                double t1 = t0;
                while (t1 - t0 < 0.3) {
                    mm.run(m, x.data(), T, y.data());
                    ++reps;
                    t1 = threadCpuSeconds();
                }
                const double s = (t1 - t0) / reps;
                std::printf("%-5s T=%-4d %s: %7.3f ms/call %7.1f GFLOP/s %6.1f GB/s(weights)\n",
                            std::string(cpu::weightTypeName(type)).c_str(), T, variant == 1 ? "blas" : variant == 2 ? "tile" : "own ", s * 1e3,
                            2.0 * N * K * T / s / 1e9, static_cast<double>(w.size()) / s / 1e9);
            }
            cpu::setQuantGemvEnabled(true);
        }
    }
    return 0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Every architecture at one shape in the same process, runs interleaved round by round so
// machine load hits all alike; medians per architecture and the ratio to llama:
//   batchscope_cpu_bench families [shape] [type] [threads] [rounds] [N...]
int familiesBench(int argc, char** argv) {
    cpu::CpuBenchOptions o;
    o.shape = argc > 2 ? argv[2] : "small";
    const std::string t = argc > 3 ? argv[3] : "F32";
    o.weightType = t == "F16" ? GgmlType::F16 : t == "Q8_0" ? GgmlType::Q8_0 : t == "Q4_0" ? GgmlType::Q4_0 : GgmlType::F32;
    o.threads = argc > 4 ? std::atoi(argv[4]) : 2;
    const int rounds = argc > 5 ? std::atoi(argv[5]) : 3;
    o.concurrency = {1};
    if (argc > 6) {
        o.concurrency.clear();
        for (int i = 6; i < argc; ++i) o.concurrency.push_back(std::atoi(argv[i]));
    }
    o.repeats = 1;
    o.probeBufferBytes = std::size_t{16} << 20;
    const std::vector<std::string> archs{"llama", "qwen2", "qwen3", "phi3", "gemma2", "gemma3"};
    // [arch][concurrency index] -> per-round decode / prompt tokens per second
    std::vector<std::vector<std::vector<double>>> decode(archs.size()), prompt(archs.size());
    for (int r = 0; r < rounds; ++r) {
        for (std::size_t a = 0; a < archs.size(); ++a) {
            o.architecture = archs[a];
            auto res = cpu::runCpuBench(o);
            if (!res) {
                std::fprintf(stderr, "%s: %s\n", archs[a].c_str(), res.error().message.c_str());
                return 1;
            }
            decode[a].resize(res->size());
            prompt[a].resize(res->size());
            for (std::size_t i = 0; i < res->size(); ++i) {
                decode[a][i].push_back((*res)[i].decodeTokensPerSec);
                prompt[a][i].push_back((*res)[i].promptTokensPerSec);
            }
            std::fprintf(stderr, "round %d %s: decode %.1f tok/s (N=%d)\n", r + 1, archs[a].c_str(),
                         res->front().decodeTokensPerSec, o.concurrency.front());
        }
    }
    std::printf("| arch | N | decode tok/s | vs llama | prompt tok/s | vs llama |\n|---|---|---|---|---|---|\n");
    for (std::size_t a = 0; a < archs.size(); ++a)
        for (std::size_t i = 0; i < o.concurrency.size(); ++i) {
            const double d = median(decode[a][i]), p = median(prompt[a][i]);
            std::printf("| %s | %d | %.1f | %.2f | %.0f | %.2f |\n", archs[a].c_str(), o.concurrency[i], d,
                        d / median(decode[0][i]), p, p / median(prompt[0][i]));
        }
    return 0;
}

// A weight type name (F16, Q8_0, Q4_0, ...) or a preset name (Q4_K_M, ...) into o.
bool setWeights(cpu::CpuBenchOptions& o, const std::string& t) {
    o.preset.clear();
    if (t.find("_K_") != std::string::npos && quantPresetFromName(t)) {
        o.preset = t;
        return true;
    }
    for (int id = 0; id < 40; ++id) {
        const auto g = static_cast<GgmlType>(id);
        if (cpu::weightTypeFromGgml(g) && ggmlTypeName(g) == t) {
            o.weightType = g;
            return true;
        }
    }
    return false;
}

// Several weight types (or presets) of one shape in the same process, runs interleaved round by
// round so machine load hits all alike; medians per type and ratios to the first type:
//   batchscope_cpu_bench types [shape] [threads] [rounds] [F16,Q8_0,Q4_K_M,...] [N...]
// Also the N = 1 decode's weight+KV read rate as a fraction of the bench's bandwidth probe.
int typesBench(int argc, char** argv) {
    cpu::CpuBenchOptions o;
    o.shape = argc > 2 ? argv[2] : "small";
    o.threads = argc > 3 ? std::atoi(argv[3]) : 2;
    const int rounds = argc > 4 ? std::atoi(argv[4]) : 3;
    std::vector<std::string> types;
    const std::string list = argc > 5 ? argv[5] : "F16,Q8_0,Q4_0,Q4_K_M";
    for (std::size_t a = 0, b; a <= list.size(); a = b + 1) {
        b = std::min(list.find(',', a), list.size());
        if (b > a) types.push_back(list.substr(a, b - a));
    }
    o.concurrency = {1, 16};
    if (argc > 6) {
        o.concurrency.clear();
        for (int i = 6; i < argc; ++i) o.concurrency.push_back(std::atoi(argv[i]));
    }
    o.repeats = 1;
    const std::size_t nc = o.concurrency.size();
    std::vector<std::vector<std::vector<double>>> decode(types.size(), std::vector<std::vector<double>>(nc)), prompt = decode,
                                                   bw = decode;
    for (int r = 0; r < rounds; ++r) {
        for (std::size_t a = 0; a < types.size(); ++a) {
            if (!setWeights(o, types[a])) {
                std::fprintf(stderr, "unknown type or preset '%s'\n", types[a].c_str());
                return 2;
            }
            auto res = cpu::runCpuBench(o);
            if (!res) {  // e.g. a type whose block size does not divide the shape's rows: skip it
                std::fprintf(stderr, "%s: %s (left out)\n", types[a].c_str(), res.error().message.c_str());
                if (a == 0) return 1;  // the baseline
                for (auto* v : {&decode, &prompt, &bw}) v->erase(v->begin() + static_cast<std::ptrdiff_t>(a));
                types.erase(types.begin() + static_cast<std::ptrdiff_t>(a--));
                continue;
            }
            for (std::size_t i = 0; i < nc; ++i) {
                decode[a][i].push_back((*res)[i].decodeTokensPerSec);
                prompt[a][i].push_back((*res)[i].promptTokensPerSec);
                bw[a][i].push_back((*res)[i].decodeBandwidthFraction);
            }
            std::fprintf(stderr, "round %d %s: decode %.1f tok/s, prompt %.0f tok/s (N=%d)\n", r + 1, types[a].c_str(),
                         res->front().decodeTokensPerSec, res->front().promptTokensPerSec, o.concurrency.front());
        }
    }
    std::printf("| type | N | decode tok/s | vs %s | prompt tok/s | vs %s | decode read / probe |\n|---|---|---|---|---|---|---|\n",
                types[0].c_str(), types[0].c_str());
    for (std::size_t a = 0; a < types.size(); ++a)
        for (std::size_t i = 0; i < nc; ++i) {
            const double d = median(decode[a][i]), p = median(prompt[a][i]);
            std::printf("| %s | %d | %.1f | %.2f | %.0f | %.2f | %.0f %% |\n", types[a].c_str(), o.concurrency[i], d,
                        d / median(decode[0][i]), p, p / median(prompt[0][i]), 100.0 * median(bw[a][i]));
        }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "types") return typesBench(argc, argv);
    if (argc > 1 && std::string(argv[1]) == "kernel") return kernelBench(argc, argv);
    if (argc > 1 && std::string(argv[1]) == "families") return familiesBench(argc, argv);
    cpu::CpuBenchOptions o;
    if (argc > 1) o.shape = argv[1];
    if (argc > 2) setWeights(o, argv[2]);  // a type, or a preset (Q4_K_M etc.)
    // BATCHSCOPE_BENCH_MODEL=FILE: a GGUF file instead of a random model (logs load time and
    // resident memory).
    if (const char* model = std::getenv("BATCHSCOPE_BENCH_MODEL")) o.modelPath = model;
    if (argc > 3) o.threads = std::atoi(argv[3]);
    if (argc > 4) o.repeats = std::atoi(argv[4]);
    if (argc > 5) {
        o.concurrency.clear();
        for (int i = 5; i < argc; ++i) o.concurrency.push_back(std::atoi(argv[i]));
    }
    if (const char* arch = std::getenv("BATCHSCOPE_BENCH_ARCH")) o.architecture = arch;
    if (const char* kv = std::getenv("BATCHSCOPE_BENCH_KV"); kv && std::string(kv) == "f16") o.kvCache = KvCacheType::F16;
    if (const char* kv = std::getenv("BATCHSCOPE_BENCH_KV"); kv && std::string(kv) == "f32") o.kvCache = KvCacheType::F32;
    std::printf("kv=%s isa=%s threads=%d shape=%s type=%s\n", o.kvCache == KvCacheType::F16 ? "f16" : o.kvCache == KvCacheType::F32 ? "f32" : "auto",
                std::string(cpu::cpuIsaName(cpu::activeCpuIsa())).c_str(), o.threads, o.shape.c_str(), o.preset.empty() ? std::string(ggmlTypeName(o.weightType)).c_str() : o.preset.c_str());
    auto r = cpu::runCpuBench(o, [](const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); });
    if (!r) {
        std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
        return 1;
    }
    std::printf("%s", cpu::formatCpuBenchTable(*r).c_str());
    return 0;
}
