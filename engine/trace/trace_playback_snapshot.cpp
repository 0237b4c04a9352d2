// SPDX-License-Identifier: GPL-3.0-or-later
// TracePlayback::snapshotAt: the SchedulerSnapshot of a recorded run at a time.
#include <algorithm>
#include <cmath>

#include "engine/metrics/percentile.h"
#include "engine/trace/trace_playback.h"

namespace batchscope::engine {

namespace {

constexpr std::size_t kStatisticsWindow = 4096;   // latest finished requests the percentiles cover
constexpr std::size_t kHistogramSamples = 2000;   // latest finished requests the histograms get

std::string preview(const RecordedRequest& r) {
    std::string text = std::to_string(r.promptTokens) + "-token prompt (recorded)";
    return r.client.empty() ? text : "[" + r.client + "] " + text;
}

}  // namespace

RequestSnapshot TracePlayback::describe(std::uint32_t index, double t, std::int64_t k, const Progress* p) const {
    const RecordedRequest& r = m_trace.requests[index];
    RequestSnapshot s;
    s.id = r.id;
    s.priority = Priority(r.priority);
    for (const auto& [atMs, prio] : r.priorityChanges)
        if (atMs <= t) s.priority = Priority(prio);
    s.promptPreview = preview(r);
    s.promptTokens = r.promptTokens;
    s.maxTokens = r.maxTokens;
    s.arrivalMs = r.arrivalMs;
    s.events.push_back({RequestEvent::Kind::Queued, r.arrivalMs, 0});
    const bool finished = r.finished && r.finishMs <= t;
    const double stepStart = k >= 0 ? m_trace.steps[std::size_t(k)].startMs : -1e300;
    if (r.firstScheduledMs && *r.firstScheduledMs <= stepStart)
        s.events.push_back({RequestEvent::Kind::Scheduled, *r.firstScheduledMs, 0});
    if (r.firstTokenMs && *r.firstTokenMs <= t) {
        s.timeToFirstTokenMs = *r.firstTokenMs - r.arrivalMs;
        s.events.push_back({RequestEvent::Kind::FirstToken, *r.firstTokenMs, 0});
    }
    bool preempted = false;
    for (const Preemption& pre : m_preemptions[index]) {
        if (k < 0 || pre.step > m_trace.steps[std::size_t(k)].index) break;
        s.events.push_back({RequestEvent::Kind::Preempted, pre.timeMs, 0});
        preempted = !(pre.resumedMs >= 0 && pre.resumedMs <= stepStart);
        if (!preempted) s.events.push_back({RequestEvent::Kind::Resumed, pre.resumedMs, 0});
    }
    const double end = finished ? r.finishMs : t;
    if (finished) {
        s.state = terminalStateFor(r.finishReason);
        s.finishReason = r.finishReason;
        s.generatedTokens = r.outputTokens;
        s.cachedPromptTokens = r.cachedPromptTokens;
        s.events.push_back({RequestEvent::Kind::Finished, r.finishMs, 0});
    } else if (p) {
        s.generatedTokens = p->generated;
        s.cachedPromptTokens = r.cachedPromptTokens;
        if (preempted) {
            s.state = RequestState::Preempted;
        } else {
            s.computedTokens = p->context;
            s.kvBlocks = (p->context + m_trace.setup.blockSize - 1) / m_trace.setup.blockSize;
            const bool decoding = p->generated > 0 && p->context >= r.promptTokens + p->generated - 1;
            s.state = decoding ? RequestState::Decoding : RequestState::Prefilling;
        }
    } else {
        s.state = RequestState::Queued;
    }
    const bool scheduled = s.state != RequestState::Queued && r.firstScheduledMs && *r.firstScheduledMs <= end;
    s.queueMs = (scheduled ? *r.firstScheduledMs : end) - r.arrivalMs;
    if (r.firstTokenMs && *r.firstTokenMs <= t && s.generatedTokens > 1 && end > *r.firstTokenMs)
        s.tokensPerSecond = 1000.0 * (s.generatedTokens - 1) / (end - *r.firstTokenMs);
    return s;
}

SchedulerSnapshot TracePlayback::snapshotAt(const PlaybackQuery& q) const {
    const double t = q.timeMs;
    const std::int64_t k = lastStepEndedBy(t);
    SchedulerSnapshot s;
    s.timeMs = t;
    s.running = t < m_endMs;
    s.settings = m_trace.setup.settings;
    s.blockSize = m_trace.setup.blockSize;
    const auto progress = progressAfter(k);
    // Running requests, then the queue (in its policy's order), then the recently finished.
    std::vector<std::uint32_t> queued;
    const auto arrived = std::size_t(std::upper_bound(m_trace.requests.begin(), m_trace.requests.end(), t,
                                                      [](double v, const RecordedRequest& r) { return v < r.arrivalMs; }) -
                                     m_trace.requests.begin());
    for (std::uint32_t i = 0; i < arrived; ++i) {
        if (i % kAliveBlock == 0 && m_blockLastFinish[i / kAliveBlock] <= t) {   // all finished by t
            i += std::uint32_t(kAliveBlock - 1);
            continue;
        }
        const RecordedRequest& r = m_trace.requests[i];
        if (r.finished && r.finishMs <= t) continue;
        auto it = progress.find(i);
        if (it == progress.end()) {
            queued.push_back(i);
            continue;
        }
        RequestSnapshot d = describe(i, t, k, &it->second);
        if (d.state == RequestState::Preempted) {
            queued.push_back(i);
            continue;
        }
        s.requests.push_back(std::move(d));
    }
    s.runningCount = std::int32_t(s.requests.size());
    s.queueDepth = std::int32_t(queued.size());
    if (s.settings.queuePolicy == QueuePolicy::Priority)
        std::stable_sort(queued.begin(), queued.end(), [&](std::uint32_t a, std::uint32_t b) {
            return m_trace.requests[a].priority > m_trace.requests[b].priority;
        });
    for (std::size_t i = 0; i < queued.size() && std::int32_t(i) < q.maxQueued; ++i) {
        auto it = progress.find(queued[i]);
        s.requests.push_back(describe(queued[i], t, k, it == progress.end() ? nullptr : &it->second));
    }
    const auto finishedBy = std::size_t(std::upper_bound(m_byFinish.begin(), m_byFinish.end(), t,
                                                         [&](double v, std::uint32_t i) {
                                                             return v < m_trace.requests[i].finishMs;
                                                         }) - m_byFinish.begin());
    std::int32_t recent = 0, older = 0;
    for (std::size_t i = finishedBy; i-- > 0;) {
        const bool isRecent = m_trace.requests[m_byFinish[i]].finishMs > q.finishedAfterMs;
        if (isRecent ? recent++ >= q.maxFinished : older++ >= q.history) {
            if (!isRecent) break;
            continue;
        }
        s.requests.push_back(describe(m_byFinish[i], t, k, nullptr));
    }
    for (std::int64_t i = std::max<std::int64_t>(q.afterStep + 1, k - q.maxSteps + 1); i <= k; ++i)
        s.steps.push_back(stepRecord(std::size_t(i)));
    fillStatistics(s, t, k);
    fillBlocks(s, k);
    s.model.name = (m_trace.meta.count("model") ? m_trace.meta.at("model") : std::string("unknown model")) + " (trace)";
    s.model.backend = m_trace.meta.count("backend") ? m_trace.meta.at("backend") : std::string();
    s.model.architecture = "recorded trace";
    return s;
}

void TracePlayback::fillStatistics(SchedulerSnapshot& s, double t, std::int64_t k) const {
    const auto arrived = std::upper_bound(m_trace.requests.begin(), m_trace.requests.end(), t,
                                          [](double v, const RecordedRequest& r) { return v < r.arrivalMs; }) -
                         m_trace.requests.begin();
    const auto finishedBy = std::size_t(std::upper_bound(m_byFinish.begin(), m_byFinish.end(), t,
                                                         [&](double v, std::uint32_t i) {
                                                             return v < m_trace.requests[i].finishMs;
                                                         }) - m_byFinish.begin());
    RequestStatistics& rs = s.requestStats;
    rs.submitted = arrived;
    rs.completed = std::int64_t(finishedBy);
    for (std::size_t reason = 0; reason < kFinishReasons; ++reason)
        if (const std::int32_t n = m_cumReasons[finishedBy][reason]) rs.finishReasons[FinishReason(reason)] = n;
    const double prompt = m_cumFinishedPrompt[finishedBy], cached = m_cumFinishedCached[finishedBy];
    std::vector<double> ttft, tpot, e2e, queue;
    for (std::size_t n = finishedBy - std::min(finishedBy, kStatisticsWindow); n < finishedBy; ++n) {
        const RecordedRequest& r = m_trace.requests[m_byFinish[n]];
        if (r.firstTokenMs) ttft.push_back(*r.firstTokenMs - r.arrivalMs);
        if (r.firstScheduledMs) queue.push_back(*r.firstScheduledMs - r.arrivalMs);
        if (r.firstTokenMs && r.outputTokens > 1) tpot.push_back((r.finishMs - *r.firstTokenMs) / (r.outputTokens - 1));
        if (r.finishReason != FinishReason::Cancelled && r.finishReason != FinishReason::Error &&
            r.finishReason != FinishReason::Timeout)
            e2e.push_back(r.finishMs - r.arrivalMs);
    }
    const auto tail = [](const std::vector<double>& v) {
        return std::vector<double>(v.end() - std::ptrdiff_t(std::min(v.size(), kHistogramSamples)), v.end());
    };
    s.recentTtftMs = tail(ttft);
    s.recentTpotMs = tail(tpot);
    s.recentEndToEndMs = tail(e2e);
    rs.timeToFirstToken = summarizeSamples(std::move(ttft));
    rs.timePerOutputToken = summarizeSamples(std::move(tpot));
    rs.endToEnd = summarizeSamples(std::move(e2e));
    rs.queueTime = summarizeSamples(std::move(queue));
    const double span = (t - m_startMs) / 1000.0;
    rs.requestsPerSecond = span > 0 ? double(finishedBy) / span : 0;
    const std::size_t steps = std::size_t(k + 1);
    rs.promptTokens = std::int64_t(m_cumPrompt[steps]);
    rs.generatedTokens = std::int64_t(m_cumGenerated[steps]);
    BatchStatistics& b = s.batchStats;
    b.steps = std::int64_t(steps);
    b.preemptions = m_cumPreempted[steps];
    if (steps > 0) {
        b.averageBatchSize = double(m_cumSequences[steps]) / double(steps);
        b.averageTokensPerStep = (m_cumPrompt[steps] + double(m_cumSequences[steps])) / double(steps);
        b.averageStepMs = (m_stepEnd[steps - 1] - m_trace.steps.front().startMs) / double(steps);
        if (s.settings.maxBatchSize > 0) b.averageUtilization = 100.0 * b.averageBatchSize / s.settings.maxBatchSize;
    }
    const PlaybackSample sample = sampleAt(t);
    s.promptTokensPerSecond = sample.promptTokensPerSecond;
    s.generatedTokensPerSecond = sample.generatedTokensPerSecond;
    KvStatistics& kv = s.kv;
    kv.totalBlocks = m_trace.setup.numKvBlocks;
    kv.usedBlocks = sample.kvUsed;
    kv.cachedBlocks = sample.kvCached;
    kv.freeBlocks = sample.kvFree;
    // Blocks looked up and found, from the finished requests' prompt and cached tokens.
    kv.prefixQueries = std::int64_t(prompt) / m_trace.setup.blockSize;
    kv.prefixHits = std::int64_t(cached) / m_trace.setup.blockSize;
}

void TracePlayback::fillBlocks(SchedulerSnapshot& s, std::int64_t k) const {
    const std::int32_t total = std::max(0, m_trace.setup.numKvBlocks);
    s.blocks.assign(std::size_t(total), KvBlockView{});
    if (k < 0) return;
    // The trace has block counts, not block ids: owned blocks are laid out by request (running
    // order), then the cached ones; the rest are free.
    std::int32_t next = 0;
    const std::int32_t used = std::min(total, s.kv.usedBlocks);
    for (std::int32_t i = 0; i < s.runningCount && next < used; ++i) {
        const RequestSnapshot& r = s.requests[std::size_t(i)];
        for (std::int32_t b = 0; b < r.kvBlocks && next < used; ++b)
            s.blocks[std::size_t(next++)] = {KvBlockView::State::Owned, 1, r.id};
    }
    while (next < used) s.blocks[std::size_t(next++)] = {KvBlockView::State::Owned, 1, kInvalidRequestId};
    for (std::int32_t c = 0; c < s.kv.cachedBlocks && next < total; ++c)
        s.blocks[std::size_t(next++)].state = KvBlockView::State::Cached;
}

}  // namespace batchscope::engine
