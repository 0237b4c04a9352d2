// Finishing requests and describing the scheduler's state (snapshots).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <tuple>

#include "engine/scheduling/continuous_batch_scheduler.h"

namespace batchscope::engine {

namespace {
double ms(TimePoint a, TimePoint b) { return std::chrono::duration<double, std::milli>(b - a).count(); }
constexpr int kSnapshotFinished = 256;                       // finished requests per snapshot
constexpr auto kSnapshotFinishedAge = std::chrono::seconds(2);  // finished at most this long ago
}  // namespace

void ContinuousBatchScheduler::finishSequence(SequencePtr seq, FinishReason reason, const std::string& error,
                                              std::vector<Notification>& notes, const char* errorKind) {
    if (isTerminal(seq->state)) return;
    if (!m_batch.removeRunning(seq->id)) m_queue.remove(seq->id);
    const TimePoint now = m_clock->now();
    if (reason != FinishReason::StopString) {
        std::string tail = m_completion.finish(*seq);
        if (!tail.empty() && seq->callbacks.onToken) {
            // The held-back text, released at the end: a token-less delta (token -1).
            TokenEvent ev{seq->id, -1, seq->generatedCount(), std::move(tail)};
            notes.push_back([cb = seq->callbacks.onToken, ev = std::move(ev)] { cb(ev); });
        }
    }
    seq->state = terminalStateFor(reason);
    seq->finishReason = reason;
    seq->errorMessage = error;
    seq->finishedAt = now;
    seq->waitReason = WaitReason::None;
    addEvent(*seq, RequestEvent::Kind::Finished, now);

    GenerationResult r;
    r.id = seq->id;
    r.text = seq->detokenizer.text();
    r.tokens.assign(seq->tokens.begin() + seq->promptLength, seq->tokens.end());
    r.finishReason = reason;
    r.errorMessage = error;
    r.usage.promptTokens = seq->promptLength;
    r.usage.completionTokens = seq->generatedCount();
    r.usage.cachedPromptTokens = seq->cachedPromptTokens;
    r.timings.queueMs = ms(seq->arrival, seq->firstScheduled.value_or(now));
    r.timings.timeToFirstTokenMs = seq->firstToken ? ms(seq->arrival, *seq->firstToken) : 0;
    r.timings.totalMs = ms(seq->arrival, now);
    if (seq->firstToken && r.usage.completionTokens > 1) {
        const double decodeMs = ms(*seq->firstToken, now);
        if (decodeMs > 0) r.timings.tokensPerSecond = 1000.0 * (r.usage.completionTokens - 1) / decodeMs;
    }
    if (reason == FinishReason::Error) m_metrics.recordError(errorKind, false);
    if (m_traceSink) m_traceSink->onFinished(*seq, msSinceEpoch(now));
    m_metrics.recordFinished(r, now);

    if (seq->deadline) --m_deadlines;
    m_active.erase(seq->id);
    m_recentFinished.push_back(seq);
    while (std::int32_t(m_recentFinished.size()) > m_config.recentFinished) m_recentFinished.pop_front();
    {
        std::lock_guard lock(m_inboxMutex);
        m_live.erase(seq->id);
    }
    if (seq->callbacks.onFinished)
        notes.push_back([cb = seq->callbacks.onFinished, r = std::move(r)] { cb(r); });
    // Release the caller's stop token hook and callbacks (they may own promises).
    notes.push_back([seq] {
        seq->stopCallback.reset();
        seq->callbacks = {};
    });
}

void ContinuousBatchScheduler::cancelEverything() {
    std::vector<Notification> notes;
    {
        std::lock_guard lock(m_stateMutex);
        std::vector<SequencePtr> all;
        for (const auto& [id, seq] : m_active) all.push_back(seq);
        std::sort(all.begin(), all.end(), [](const SequencePtr& a, const SequencePtr& b) { return a->id < b->id; });
        for (const auto& seq : all) finishSequence(seq, FinishReason::Cancelled, "", notes);
        std::lock_guard inbox(m_inboxMutex);
        m_inbox.clear();
    }
    notify(notes);
}

RequestSnapshot ContinuousBatchScheduler::describe(const Sequence& seq, TimePoint now) const {
    RequestSnapshot r;
    r.id = seq.id;
    r.state = seq.state;
    r.priority = seq.priority;
    r.promptPreview = seq.promptPreview;
    r.promptTokens = seq.promptLength;
    r.generatedTokens = seq.generatedCount();
    r.maxTokens = seq.options.maxTokens;
    r.cachedPromptTokens = seq.cachedPromptTokens;
    r.computedTokens = seq.numComputed;
    r.arrivalMs = msSinceEpoch(seq.arrival);
    const TimePoint end = seq.finishedAt.value_or(now);
    r.queueMs = ms(seq.arrival, seq.firstScheduled.value_or(end));
    if (seq.firstToken) r.timeToFirstTokenMs = ms(seq.arrival, *seq.firstToken);
    if (seq.firstToken && r.generatedTokens > 1) {
        const double decodeMs = ms(*seq.firstToken, end);
        if (decodeMs > 0) r.tokensPerSecond = 1000.0 * (r.generatedTokens - 1) / decodeMs;
    }
    r.finishReason = seq.finishReason;
    r.waitReason = seq.waitReason;
    r.errorMessage = seq.errorMessage;
    r.kvBlocks = m_kv.heldBlocks(seq.id);
    r.events = seq.events;
    return r;
}

SchedulerSnapshot ContinuousBatchScheduler::buildSnapshot(TimePoint now) const {
    SchedulerSnapshot s;
    s.timeMs = msSinceEpoch(now);
    s.running = isRunning();
    s.model = m_modelInfo;
    {
        std::lock_guard lock(m_stateMutex);
        s.settings = m_settings;
        s.blockSize = m_kv.blockSize();
        for (const auto& seq : m_batch.running()) s.requests.push_back(describe(*seq, now));
        s.runningCount = std::int32_t(s.requests.size());
        s.queueDepth = m_queue.size();
        // A bounded prefix of the queue; each reason is O(1) from the last admission outcome
        // (BatchManager::queuedWait), so the cost does not grow with the queue.
        std::int32_t position = 0;
        for (const auto& seq : m_queue.orderedPrefix(now, std::size_t(std::max(0, m_config.snapshotQueued)))) {
            RequestSnapshot r = describe(*seq, now);
            std::tie(r.waitReason, r.waitDetail) = m_batch.queuedWait(*seq, position++, m_settings.paused);
            s.requests.push_back(std::move(r));
        }
        // Only requests finished lately: viewers keep their own history, and a short lock here
        // is a short stall of the engine thread.
        int recent = 0;
        for (auto it = m_recentFinished.rbegin(); it != m_recentFinished.rend() && recent < kSnapshotFinished; ++it, ++recent) {
            if (now - *(*it)->finishedAt > kSnapshotFinishedAge) break;
            s.requests.push_back(describe(**it, now));
        }
        s.blocks = m_kv.blockViews();
        s.kv = m_kv.statistics();
    }
    s.requestStats = m_metrics.getRequestStatistics(now);
    s.batchStats = m_metrics.getBatchStatistics();
    s.errorStats = m_metrics.getErrorStatistics();
    m_metrics.recentLatencies(s.recentTtftMs, s.recentTpotMs, s.recentEndToEndMs);
    m_metrics.recentThroughput(now, s.promptTokensPerSecond, s.generatedTokensPerSecond);
    return s;
}

SchedulerSnapshot ContinuousBatchScheduler::snapshot(std::int64_t afterStep) const {
    SchedulerSnapshot s = buildSnapshot(m_clock->now());
    s.steps = m_metrics.stepsAfter(afterStep);
    return s;
}

std::shared_ptr<const SchedulerSnapshot> ContinuousBatchScheduler::latestSnapshot() const {
    {
        std::lock_guard lock(m_publishedMutex);
        if (m_published && isRunning()) {
            m_snapshotWanted.store(true, std::memory_order_relaxed);
            return m_published;
        }
    }
    // Nothing published yet, or no loop to publish: build one here.
    auto built = std::make_shared<const SchedulerSnapshot>(buildSnapshot(m_clock->now()));
    std::lock_guard lock(m_publishedMutex);
    m_published = built;
    return built;
}

void ContinuousBatchScheduler::publishIfWanted() {
    if (!m_snapshotWanted.exchange(false, std::memory_order_relaxed)) return;
    auto built = std::make_shared<const SchedulerSnapshot>(buildSnapshot(m_clock->now()));
    {
        std::lock_guard lock(m_publishedMutex);
        m_published.swap(built);
    }
    built.reset();   // the previous one, freed here unless a reader still holds it
}

}  // namespace batchscope::engine
