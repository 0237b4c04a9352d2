// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/replay_bench.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "engine/scheduling/scheduler_client.h"
#include "engine/trace/prefix_hash.h"
#include "engine/trace/trace_import.h"

namespace batchscope::engine {

std::vector<WorkloadRequest> syntheticWorkload(const SyntheticWorkloadOptions& o) {
    std::mt19937_64 rng(o.seed);
    std::exponential_distribution<double> gap(std::max(1e-9, o.ratePerSecond));
    std::uniform_int_distribution<int> prompt(std::max(1, o.minPrompt), std::max(o.minPrompt, o.maxPrompt));
    std::uniform_real_distribution<double> logOut(std::log(double(std::max(1, o.minOutput))),
                                                  std::log(double(std::max(o.minOutput, o.maxOutput))));
    std::uniform_real_distribution<double> unit(0, 1);
    std::uniform_int_distribution<std::uint64_t> word;
    // 8 shared prefixes of 4 blocks each, as hash chains of made-up tokens.
    std::vector<std::vector<std::uint64_t>> shared;
    for (int p = 0; p < 8; ++p) {
        std::vector<TokenId> tokens(std::size_t(4 * o.blockSize));
        for (auto& t : tokens) t = TokenId(300 + word(rng) % 3000);
        shared.push_back(prefixBlockHashes(tokens, o.blockSize));
    }
    std::vector<WorkloadRequest> out;
    double t = 0;
    for (std::int32_t i = 0; i < o.requests; ++i) {
        WorkloadRequest r;
        t += gap(rng);
        r.arrivalSeconds = t;
        r.promptTokens = prompt(rng);
        r.outputTokens = std::max(1, int(std::lround(std::exp(logOut(rng)))));
        const std::int32_t blocks = r.promptTokens / o.blockSize;
        if (unit(rng) < o.sharedPrefixShare && blocks > 0) {
            const auto& p = shared[std::size_t(word(rng) % shared.size())];
            r.prefixBlockHashes.assign(p.begin(), p.begin() + std::min<std::ptrdiff_t>(blocks, std::ptrdiff_t(p.size())));
        }
        // Blocks past the shared prefix are the request's own.
        for (std::int32_t b = std::int32_t(r.prefixBlockHashes.size()); b < blocks; ++b) r.prefixBlockHashes.push_back(word(rng));
        r.client = "synthetic";
        out.push_back(std::move(r));
    }
    return out;
}

Status driveLive(Engine& engine, const std::vector<WorkloadRequest>& workload, TokenId firstToken,
                 std::int32_t tokenRange, const std::function<void(const std::string&)>& progress) {
    std::mutex mutex;
    std::condition_variable done;
    std::size_t finished = 0, submitted = 0;
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < workload.size(); ++i) {
        const WorkloadRequest& r = workload[i];
        std::this_thread::sleep_until(start + std::chrono::nanoseconds(std::int64_t(r.arrivalSeconds * 1e9)));
        auto tokens = promptFromPrefixHashes(r.prefixBlockHashes, r.promptTokens, engine.config().blockSize, i + 1,
                                             firstToken, tokenRange);
        GenerationOptions o;
        o.maxTokens = std::max(1, r.outputTokens);
        o.ignoreEos = true;
        o.addBos = false;
        o.priority = Priority(std::clamp(r.priority, 0, kPriorityCount - 1));
        o.client = r.client;
        o.sampling.temperature = 0;
        RequestCallbacks cb;
        cb.onFinished = [&](const GenerationResult&) {
            std::lock_guard lock(mutex);
            ++finished;
            done.notify_all();
        };
        auto id = engine.client().generateStreamingTokens(std::move(tokens), {}, o, std::move(cb));
        if (!id) {
            // The callbacks of those already queued refer to this frame: wait for them first.
            std::unique_lock lock(mutex);
            done.wait(lock, [&] { return finished == submitted; });
            return id.error();
        }
        std::lock_guard lock(mutex);
        ++submitted;
        if (progress && submitted % 100 == 0)
            progress("submitted " + std::to_string(submitted) + "/" + std::to_string(workload.size()) + ", finished " +
                     std::to_string(finished));
    }
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return finished == submitted; });
    return Ok{};
}

Result<ReplayReport> replayTrace(const std::string& path, const std::vector<ReplayVariant>& variants,
                                 const ReplayWorkload* override, const ReplayProgress& progress) {
    auto trace = readTrace(path);
    if (!trace) return trace.error();
    auto cost = fitStepCostModel(trace.value());
    if (!cost) return cost.error();
    const ReplayWorkload recorded = override ? ReplayWorkload{} : workloadFromTrace(trace.value());
    const ReplayWorkload& workload = override ? *override : recorded;
    ReplayReport report;
    report.tracePath = path;
    report.requests = std::int64_t(workload.requests.size());
    report.leftOut = workload.leftOut;
    report.cost = cost.value();
    if (!override) report.columns.push_back({"recorded", summarizeTrace(trace.value()), 0, 0, traceOutcomes(trace.value())});
    std::vector<ReplayVariant> all{{override ? "workload" : "replay", trace->setup}};
    all.insert(all.end(), variants.begin(), variants.end());
    const int total = int(all.size());
    for (int i = 0; i < total; ++i) {
        const ReplayVariant& v = all[std::size_t(i)];
        if (progress) progress(i, total, v.name);
        auto run = replayWorkload(workload, report.cost, v.setup);
        if (!run) return makeError(run.error().code, v.name + ": " + run.error().message);
        report.columns.push_back({v.name, run->summary, run->wallSeconds, run->rejected, std::move(run->outcomes)});
    }
    if (progress) progress(total, total, {});
    return report;
}

Result<ReplayReport> replayTraceWithSettings(const std::string& path, const std::vector<std::string>& sets,
                                             const std::string& workloadPath, const ReplayProgress& progress) {
    ReplayWorkload imported;
    if (!workloadPath.empty()) {
        auto w = importTrace(workloadPath);
        if (!w) return w.error();
        imported.requests = std::move(w->requests);
        imported.leftOut = std::int32_t(w->skippedZeroTokens);
    }
    auto trace = readTrace(path);
    if (!trace) return trace.error();
    std::vector<ReplayVariant> variants;
    for (const auto& s : sets) {
        auto v = parseReplayVariant(s, trace->setup);
        if (!v) return v.error();
        variants.push_back(std::move(v.value()));
    }
    return replayTrace(path, variants, workloadPath.empty() ? nullptr : &imported, progress);
}

namespace {
double relativeError(double recorded, double replayed) {
    if (recorded == 0) return replayed == 0 ? 0 : 100;
    return 100.0 * std::abs(replayed - recorded) / std::abs(recorded);
}
}  // namespace

double FidelityErrors::worst() const { return std::max({ttftP50, ttftP90, tpotP50, tpotP90, throughput}); }

FidelityErrors fidelityErrors(const RunSummary& a, const RunSummary& b) {
    return {relativeError(a.ttft.p50, b.ttft.p50), relativeError(a.ttft.p90, b.ttft.p90),
            relativeError(a.tpot.p50, b.tpot.p50), relativeError(a.tpot.p90, b.tpot.p90),
            relativeError(a.generatedTokensPerSecond, b.generatedTokensPerSecond)};
}

}  // namespace batchscope::engine
