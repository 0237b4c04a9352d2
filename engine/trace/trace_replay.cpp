// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/trace_replay.h"

#include <algorithm>
#include <chrono>
#include <numeric>

#include "engine/metrics/percentile.h"
#include "engine/metrics/scheduler_metrics_collector.h"
#include "engine/runtime/engine.h"
#include "engine/scheduling/scheduler_client.h"
#include "engine/tokenizer/byte_tokenizer.h"
#include "engine/trace/prefix_hash.h"

namespace batchscope::engine {

namespace {

constexpr std::int32_t kVocab = 4096;
constexpr TokenId kFirstPromptToken = 258;   // past the byte tokenizer's bytes, BOS and EOS
constexpr TokenId kGeneratedToken = 300;     // never EOS: output lengths come from maxTokens

using Nanos = std::chrono::nanoseconds;

Nanos fromSeconds(double s) { return Nanos(std::int64_t(s * 1e9)); }

LatencyPercentiles percentiles(std::vector<double> v) {
    LatencyPercentiles p;
    if (v.empty()) return p;
    std::sort(v.begin(), v.end());
    p.count = std::int64_t(v.size());
    p.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
    p.p50 = percentileOfSorted(v, 50);
    p.p90 = percentileOfSorted(v, 90);
    p.p99 = percentileOfSorted(v, 99);
    return p;
}

/// The workload's timed events (arrivals, cancels, priority changes) fed to the scheduler as
/// the virtual clock passes them.
class ReplayDriver {
public:
    ReplayDriver(const ReplayWorkload& w, VirtualClock& clock, TimePoint origin) : m_w(w), m_clock(clock), m_origin(origin) {
        m_order.resize(w.requests.size());
        std::iota(m_order.begin(), m_order.end(), std::size_t(0));
        std::stable_sort(m_order.begin(), m_order.end(), [&](std::size_t a, std::size_t b) {
            return w.requests[a].arrivalSeconds < w.requests[b].arrivalSeconds;
        });
        for (std::size_t i = 0; i < w.requests.size(); ++i)
            if (w.requests[i].cancelAfterSeconds)
                m_cancels.push_back({at(w.requests[i].arrivalSeconds + std::max(0.0, *w.requests[i].cancelAfterSeconds)), i});
        std::sort(m_cancels.begin(), m_cancels.end());
        m_ids.assign(w.requests.size(), kInvalidRequestId);
        outcomes.resize(w.requests.size());
    }

    void attach(Engine& engine) { m_engine = &engine; }
    TimePoint at(double seconds) const { return m_origin + fromSeconds(seconds); }

    std::optional<TimePoint> nextEventTime() const {
        std::optional<TimePoint> t;
        const auto consider = [&](TimePoint c) { if (!t || c < *t) t = c; };
        if (m_nextArrival < m_order.size()) consider(at(m_w.requests[m_order[m_nextArrival]].arrivalSeconds));
        if (m_nextCancel < m_cancels.size()) consider(m_cancels[m_nextCancel].first);
        if (m_nextPriority < m_w.priorityChanges.size()) consider(at(m_w.priorityChanges[m_nextPriority].atSeconds));
        return t;
    }

    /// Applies every event up to `until` in time order, the clock at each event's time, then
    /// leaves the clock at `until`. Called from the executor (mid-step arrivals queue while the
    /// step "runs", as in a live engine) and from the idle loop.
    void advanceTo(TimePoint until) {
        while (true) {
            const auto next = nextEventTime();
            if (!next || *next > until) break;
            m_clock.set(*next);
            if (m_nextArrival < m_order.size() && at(m_w.requests[m_order[m_nextArrival]].arrivalSeconds) == *next) {
                submit(m_order[m_nextArrival++]);
            } else if (m_nextCancel < m_cancels.size() && m_cancels[m_nextCancel].first == *next) {
                const RequestId id = m_ids[m_cancels[m_nextCancel++].second];
                if (id != kInvalidRequestId) m_engine->cancel(id);
            } else {
                const auto& c = m_w.priorityChanges[m_nextPriority++];
                if (c.request < m_ids.size() && m_ids[c.request] != kInvalidRequestId)
                    m_engine->setPriority(m_ids[c.request], Priority(std::clamp(c.priority, 0, kPriorityCount - 1)));
            }
        }
        m_clock.set(until);
    }

    bool done() const { return m_nextArrival == m_order.size() && finished == submitted; }

    std::vector<RequestOutcome> outcomes;
    std::int64_t submitted = 0, finished = 0, rejected = 0;

private:
    void submit(std::size_t i) {
        const WorkloadRequest& r = m_w.requests[i];
        const std::int32_t block = m_engine->config().blockSize;
        auto tokens = promptFromPrefixHashes(r.prefixBlockHashes, std::max(1, r.promptTokens), block, i + 1,
                                             kFirstPromptToken, kVocab - kFirstPromptToken);
        GenerationOptions o;
        o.maxTokens = std::max(1, r.outputTokens);
        o.priority = Priority(std::clamp(r.priority, 0, kPriorityCount - 1));
        o.ignoreEos = true;
        o.addBos = false;
        o.client = r.client;
        RequestOutcome& out = outcomes[i];
        out.arrivalMs = r.arrivalSeconds * 1000.0;
        out.promptTokens = std::int32_t(tokens.size());
        RequestCallbacks cb;
        cb.onFinished = [this, i](const GenerationResult& g) {
            RequestOutcome& o = outcomes[i];
            o.finishReason = g.finishReason;
            o.outputTokens = g.usage.completionTokens;
            o.cachedPromptTokens = g.usage.cachedPromptTokens;
            o.finishMs = o.arrivalMs + g.timings.totalMs;
            if (g.usage.completionTokens > 0) {
                o.firstScheduledMs = o.arrivalMs + g.timings.queueMs;
                o.firstTokenMs = o.arrivalMs + g.timings.timeToFirstTokenMs;
            }
            ++finished;
        };
        auto id = m_engine->client().generateStreamingTokens(std::move(tokens), {}, o, std::move(cb));
        if (!id) {
            ++rejected;
            out.finishReason = FinishReason::Error;
            return;
        }
        m_ids[i] = id.value();
        ++submitted;
    }

    const ReplayWorkload& m_w;
    VirtualClock& m_clock;
    TimePoint m_origin;
    Engine* m_engine = nullptr;
    std::vector<std::size_t> m_order;
    std::vector<std::pair<TimePoint, std::size_t>> m_cancels;
    std::vector<RequestId> m_ids;
    std::size_t m_nextArrival = 0, m_nextCancel = 0, m_nextPriority = 0;
};

/// The "model" of a replay: each step costs what the cost model predicts, spent by moving the
/// virtual clock (and feeding the driver the events that happen meanwhile). Tokens are never EOS.
class ReplayExecutor final : public ModelExecutor {
public:
    ReplayExecutor(StepCostFunction cost, ReplayDriver& driver, VirtualClock& clock, std::int32_t context)
        : m_cost(std::move(cost)), m_driver(driver), m_clock(clock), m_context(context), m_tokenizer(kVocab) {}
    std::size_t kvBytesPerBlock(std::int32_t) const override { return 1; }
    void configureKvCache(std::int32_t, std::int32_t) override {}
    StepResult execute(const ModelBatch& batch) override {
        StepFeatures f;
        StepResult r;
        r.nextTokens.resize(batch.sequences.size());
        for (std::size_t i = 0; i < batch.sequences.size(); ++i) {
            const SequenceStep& s = batch.sequences[i];
            const double n = double(s.tokens.size());
            // The scheduler's own split (StepRecord): a chunk, or the prompt's last token.
            (s.tokens.size() > 1 || s.sampleIndex == 0 ? f.prefillTokens : f.decodeTokens) += n;
            f.sequences += 1;
            f.attendedContext += n * (double(s.startPosition) + (n + 1) / 2);
            if (s.needsNextToken) r.nextTokens[i] = kGeneratedToken;
        }
        const double startMs = std::chrono::duration<double, std::milli>(m_clock.now() - m_driver.at(0)).count();
        const auto cost = Nanos(std::int64_t(std::max(0.0, m_cost(batch.stepIndex, startMs, f)) * 1e6));
        m_driver.advanceTo(m_clock.now() + cost);
        return r;
    }
    const Tokenizer& tokenizer() const override { return m_tokenizer; }
    ModelInfo modelInfo() const override {
        ModelInfo info;
        info.name = "replay";
        info.architecture = "replay";
        info.backend = "replay (step-cost model)";
        info.contextLength = m_context;
        info.vocabSize = kVocab;
        info.tokenizerKind = "byte";
        return info;
    }
    std::int32_t maxContextLength() const override { return m_context; }

private:
    StepCostFunction m_cost;
    ReplayDriver& m_driver;
    VirtualClock& m_clock;
    std::int32_t m_context;
    ByteTokenizer m_tokenizer;
};

}  // namespace

RunSummary summarizeOutcomes(const std::vector<RequestOutcome>& outcomes, std::int64_t steps) {
    RunSummary s;
    s.steps = steps;
    std::vector<double> ttft, tpot, e2e, queue;
    double first = -1, last = -1, prompt = 0, cached = 0;
    for (const RequestOutcome& o : outcomes) {
        ++s.requests;
        s.preemptions += o.preemptions;
        if (o.finishMs < 0) continue;
        const bool cancelled = o.finishReason == FinishReason::Cancelled;
        const bool failed = o.finishReason == FinishReason::Error || o.finishReason == FinishReason::Timeout;
        s.cancelled += cancelled;
        s.failed += failed;
        s.completed += !cancelled && !failed;
        s.generatedTokens += o.outputTokens;
        prompt += o.promptTokens;
        cached += o.cachedPromptTokens;
        if (first < 0 || o.arrivalMs < first) first = o.arrivalMs;
        last = std::max(last, o.finishMs);
        if (o.outputTokens > 0 && o.firstTokenMs >= 0) {
            ttft.push_back(o.firstTokenMs - o.arrivalMs);
            if (o.firstScheduledMs >= 0) queue.push_back(o.firstScheduledMs - o.arrivalMs);
            if (o.outputTokens > 1) tpot.push_back((o.finishMs - o.firstTokenMs) / (o.outputTokens - 1));
        }
        if (!cancelled && !failed) e2e.push_back(o.finishMs - o.arrivalMs);
    }
    s.ttft = percentiles(std::move(ttft));
    s.tpot = percentiles(std::move(tpot));
    s.endToEnd = percentiles(std::move(e2e));
    s.queue = percentiles(std::move(queue));
    s.durationSeconds = first >= 0 ? std::max(0.0, (last - first) / 1000.0) : 0;
    if (s.durationSeconds > 0) {
        s.generatedTokensPerSecond = double(s.generatedTokens) / s.durationSeconds;
        s.requestsPerSecond = double(s.completed) / s.durationSeconds;
    }
    s.prefixHitRate = prompt > 0 ? cached / prompt : 0;
    return s;
}

std::vector<RequestOutcome> traceOutcomes(const RecordedTrace& trace) {
    std::vector<RequestOutcome> outcomes;
    for (const RecordedRequest& r : trace.requests) {
        if (!r.finished) continue;
        RequestOutcome o;
        o.arrivalMs = r.arrivalMs;
        o.finishMs = r.finishMs;
        o.firstScheduledMs = r.firstScheduledMs.value_or(-1);
        o.firstTokenMs = r.firstTokenMs.value_or(-1);
        o.promptTokens = r.promptTokens;
        o.outputTokens = r.outputTokens;
        o.cachedPromptTokens = r.cachedPromptTokens;
        o.preemptions = r.preemptions;
        o.finishReason = r.finishReason;
        outcomes.push_back(o);
    }
    return outcomes;
}

RunSummary summarizeTrace(const RecordedTrace& trace) {
    RunSummary s = summarizeOutcomes(traceOutcomes(trace), std::int64_t(trace.steps.size()));
    // Preemptions as the steps counted them (a request's own count misses the unfinished ones).
    s.preemptions = 0;
    for (const RecordedStep& st : trace.steps) s.preemptions += st.preempted;
    return s;
}

StepFeatures stepFeatures(const RecordedStep& step) {
    return {double(step.prefillTokens), double(step.decodeTokens), double(step.sequences), step.attendedContext};
}

double stepCycleMs(const RecordedTrace& trace, std::size_t i) {
    const RecordedStep& s = trace.steps[i];
    // Still busy after the step (a sequence holds KV blocks): the loop went straight on to the
    // next step, so the time to its start is this step's whole cost — execute(), the update,
    // the callbacks, the next schedule and whatever the OS took meanwhile.
    if (i + 1 < trace.steps.size() && s.kvUsed > 0 && trace.steps[i + 1].index == s.index + 1 &&
        trace.steps[i + 1].startMs >= s.startMs)
        return trace.steps[i + 1].startMs - s.startMs;
    return s.durationMs + s.scheduleUs / 1000.0;   // idle after it: execute() + scheduling only
}

Result<StepCostModel> fitStepCostModel(const RecordedTrace& trace) {
    std::vector<StepFeatures> features;
    std::vector<double> ms;
    for (std::size_t i = 0; i < trace.steps.size(); ++i) {
        if (trace.steps[i].failed) continue;
        features.push_back(stepFeatures(trace.steps[i]));
        ms.push_back(stepCycleMs(trace, i));
    }
    return StepCostModel::fit(features, ms);
}

Result<ReplayResult> replayWorkload(const ReplayWorkload& workload, const StepCostModel& cost,
                                    const RecordedSetup& setup, const std::string& recordPath,
                                    const std::function<void(Engine&)>& afterStep) {
    return replayWorkload(workload, [cost](std::int64_t, double, const StepFeatures& f) { return cost.predictMs(f); }, setup,
                          recordPath, afterStep);
}

Result<ReplayResult> replayWorkload(const ReplayWorkload& workload, const StepCostFunction& cost,
                                    const RecordedSetup& setup, const std::string& recordPath,
                                    const std::function<void(Engine&)>& afterStep) {
    const auto wallStart = std::chrono::steady_clock::now();
    if (setup.blockSize < 1 || setup.numKvBlocks < 1 || setup.maxSequenceLength < 2)
        return makeError(ErrorCode::InvalidArgument, "replay setup needs a block size, KV blocks and a sequence length");
    auto clock = std::make_shared<VirtualClock>();
    const TimePoint origin = clock->now();
    ReplayDriver driver(workload, *clock, origin);
    EngineConfig config;
    config.settings = setup.settings;
    config.settings.paused = false;
    config.blockSize = setup.blockSize;
    config.numKvBlocks = setup.numKvBlocks;
    config.queueCapacity = 1 << 22;          // the recorded queue never refused what is in the trace
    config.maxSequenceLength = setup.maxSequenceLength;
    config.minBatchSize = std::max(1, setup.minBatchSize);
    config.stepHistory = 16;
    config.clock = clock;
    auto created = Engine::create(config, std::make_unique<ReplayExecutor>(cost, driver, *clock, setup.maxSequenceLength));
    if (!created) return created.error();
    Engine& engine = *created.value();
    driver.attach(engine);
    if (!recordPath.empty())
        if (Status st = engine.startRecording(recordPath); !st) return st.error();
    ContinuousBatchScheduler& scheduler = engine.scheduler();
    while (true) {
        std::optional<TimePoint> wake;
        if (scheduler.runOnce(&wake)) {
            if (afterStep) afterStep(engine);
            continue;
        }
        if (driver.done()) break;
        auto next = driver.nextEventTime();
        if (wake && *wake > clock->now() && (!next || *wake < *next)) next = wake;
        if (!next) {
            return makeError(ErrorCode::Internal, std::to_string(driver.submitted - driver.finished) +
                             " replayed requests could never be scheduled");
        }
        driver.advanceTo(std::max(*next, clock->now()));
    }
    ReplayResult result;
    result.outcomes = std::move(driver.outcomes);
    result.rejected = driver.rejected;
    const BatchStatistics batch = engine.metrics().getBatchStatistics();
    result.summary = summarizeOutcomes(result.outcomes, batch.steps);
    result.summary.preemptions = batch.preemptions;
    engine.stopRecording();
    result.wallSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wallStart).count();
    return result;
}

}  // namespace batchscope::engine
