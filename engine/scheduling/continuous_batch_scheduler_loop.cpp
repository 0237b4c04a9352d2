// The step loop of ContinuousBatchScheduler: drain commands, schedule, execute, update.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

#include "engine/scheduling/continuous_batch_scheduler.h"

namespace batchscope::engine {

void ContinuousBatchScheduler::loop() {
    std::vector<Notification> notes;
    while (true) {
        {
            std::lock_guard lock(m_inboxMutex);
            if (m_stopRequested) break;
        }
        std::optional<TimePoint> wakeAt;
        if (iterate(notes, wakeAt)) continue;
        // The wait is on the wall clock; a minBatchSize wake-up time only converts to it when
        // the scheduler's clock is the steady clock (a virtual clock is driven by runOnce).
        TimePoint until = SteadyClock::now() + m_config.idleWait;
        if (wakeAt && m_clock->isReal()) until = std::min(until, *wakeAt);
        std::unique_lock lock(m_inboxMutex);
        m_wake.wait_until(lock, until, [this] { return m_stopRequested || !m_inbox.empty() || m_submitted; });
        m_submitted = false;
    }
    m_running = false;
}

bool ContinuousBatchScheduler::iterate(std::vector<Notification>& notes, std::optional<TimePoint>& wakeAt) {
    std::vector<Command> commands;
    {
        std::lock_guard lock(m_inboxMutex);
        commands.swap(m_inbox);
        m_submitted = false;
    }
    if (!commands.empty()) {
        // Cancels and priority changes take effect before the next schedule.
        std::lock_guard lock(m_stateMutex);
        applyCommands(commands, notes);
    }
    notify(notes);
    const bool worked = runOneStep(notes, wakeAt);
    notify(notes);
    publishIfWanted();   // at the end of a step, or each idle wake-up (<= idleWait)
    return worked;
}

bool ContinuousBatchScheduler::runOnce(std::optional<TimePoint>* wakeAt) {
    std::vector<Notification> notes;
    std::optional<TimePoint> wake;
    const bool worked = iterate(notes, wake);
    if (wakeAt) *wakeAt = wake;
    return worked;
}

void ContinuousBatchScheduler::applyCommands(std::vector<Command>& commands, std::vector<Notification>& notes) {
    for (const Command& c : commands) {
        switch (c.kind) {
        case Command::Kind::Cancel:
            if (auto it = m_active.find(c.id); it != m_active.end())
                finishSequence(it->second, FinishReason::Cancelled, "", notes);
            break;
        case Command::Kind::SetPriority:
            if (auto it = m_active.find(c.id); it != m_active.end()) {
                if (!m_queue.setPriority(c.id, c.priority)) {
                    it->second->priority = c.priority;  // running: affects preemption order
                    m_batch.markOrderDirty();
                }
                if (m_traceSink) m_traceSink->onPriorityChanged(c.id, msSinceEpoch(m_clock->now()), c.priority);
            }
            break;
        case Command::Kind::Settings: applySettingsLocked(c.settings); break;
        case Command::Kind::ResetStats:
            m_metrics.reset();
            m_kv.resetCounters();
            break;
        }
    }
    commands.clear();
}

void ContinuousBatchScheduler::applySettingsLocked(const SchedulerSettings& s) {
    BatchConstraints bc = m_batch.constraints();
    bc.maxBatchSize = std::max(1, s.maxBatchSize);
    bc.tokenBudget = std::max(1, s.tokenBudget);
    bc.memoryPolicy = s.memoryPolicy;
    m_batch.setConstraints(bc);
    m_queue.setPolicy(s.queuePolicy, std::chrono::milliseconds(std::max<std::int64_t>(0, s.agingIntervalMs)));
    if (s.prefixCaching != m_kv.prefixCachingEnabled()) m_kv.setPrefixCaching(s.prefixCaching);
    m_settings = s;
    m_settings.maxBatchSize = bc.maxBatchSize;
    m_settings.tokenBudget = bc.tokenBudget;
    if (m_traceSink) m_traceSink->onSettings(m_settings, msSinceEpoch(m_clock->now()));
}

void ContinuousBatchScheduler::expireDeadlines(TimePoint now, std::vector<Notification>& notes) {
    if (m_deadlines == 0) return;
    std::vector<SequencePtr> expired;
    for (const auto& [id, seq] : m_active) {
        if (!seq->deadline || now < *seq->deadline) continue;
        // maxQueueTime bounds only the wait; the request's own timeout bounds everything.
        const bool queued = seq->state == RequestState::Queued || seq->state == RequestState::Preempted;
        const bool ownTimeout = seq->options.timeout && now >= seq->arrival + *seq->options.timeout;
        if (queued || ownTimeout) expired.push_back(seq);
    }
    for (const auto& seq : expired) finishSequence(seq, FinishReason::Timeout, "", notes);
}

bool ContinuousBatchScheduler::runOneStep(std::vector<Notification>& notes, std::optional<TimePoint>& wakeAt) {
    const TimePoint scheduleStart = m_clock->now();
    ScheduleOutput out;
    ModelBatch batch;
    std::vector<std::int32_t> startPositions;
    {
        std::lock_guard lock(m_stateMutex);
        expireDeadlines(scheduleStart, notes);
        if (m_settings.paused) return false;
        out = m_batch.schedule(scheduleStart);
        wakeAt = out.wakeAt;
        for (const auto& seq : out.exhausted) {
            const bool generated = seq->generatedCount() > 0;
            finishSequence(seq, generated ? FinishReason::MaxLength : FinishReason::Error,
                           generated ? "" : "the prompt does not fit in the KV cache", notes);
        }
        for (const auto& seq : out.preempted) addEvent(*seq, RequestEvent::Kind::Preempted, scheduleStart);
        if (out.empty()) {
            m_capacity.update(m_batch.usedMemoryBytes(), std::int32_t(m_batch.running().size()), 0);
            return false;
        }
        batch.stepIndex = m_stepIndex.load();
        batch.blockSize = m_kv.blockSize();
        batch.sequences.reserve(out.scheduled.size());
        for (const auto& s : out.scheduled) {
            const Sequence& seq = *s.seq;
            SequenceStep step;
            step.requestId = seq.id;
            step.startPosition = seq.numComputed;
            step.tokens = std::span<const TokenId>(seq.tokens).subspan(std::size_t(seq.numComputed), std::size_t(s.numNewTokens));
            step.blockTable = m_kv.blockTable(seq.id);
            step.needsNextToken = seq.numComputed + s.numNewTokens == std::int32_t(seq.tokens.size());
            step.sampling = seq.options.sampling;
            step.sampleIndex = seq.generatedCount();
            step.history = seq.tokens;
            batch.sequences.push_back(step);
        }
        m_capacity.update(m_batch.usedMemoryBytes(), std::int32_t(m_batch.running().size()), out.numTokens);
    }
    notify(notes);

    const TimePoint execStart = m_clock->now();
    StepResult result;
    std::string failure;
    try {
        result = m_executor.execute(batch);
        if (result.nextTokens.size() != batch.sequences.size())
            failure = "executor returned " + std::to_string(result.nextTokens.size()) + " results for " +
                      std::to_string(batch.sequences.size()) + " sequences";
    } catch (const std::exception& e) {
        failure = e.what();
    } catch (...) {
        failure = "unknown exception";
    }
    const TimePoint execEnd = m_clock->now();

    StepRecord record;
    record.index = batch.stepIndex;
    record.startMs = msSinceEpoch(execStart);
    record.durationMs = std::chrono::duration<double, std::milli>(execEnd - execStart).count();
    record.preempted = std::int32_t(out.preempted.size());
    std::function<void(const StepRecord&)> observer;
    {
        std::lock_guard lock(m_stateMutex);
        for (const auto& s : out.scheduled) {
            const bool prefill = s.seq->numComputed < s.seq->promptLength || s.numNewTokens > 1;
            record.entries.push_back({s.seq->id, prefill ? s.numNewTokens : 0, prefill ? 0 : s.numNewTokens,
                                      s.seq->numComputed + s.numNewTokens});
            (prefill ? record.prefillTokens : record.decodeTokens) += s.numNewTokens;
        }
        if (failure.empty()) {
            applyStepResult(out, result, execStart, notes, record);
        } else {
            record.failed = true;
            handleStepFailure(out, failure, notes);
        }
        record.kvUsedBlocks = m_kv.usedBlocks();
        record.kvCachedBlocks = m_kv.cachedBlocks();
        record.kvFreeBlocks = m_kv.freeBlocks();
        record.tokenBudget = m_batch.constraints().tokenBudget;
        record.maxBatchSize = m_batch.constraints().maxBatchSize;
        record.queueDepth = m_queue.size();
        record.scheduleUs = std::chrono::duration<double, std::micro>((execStart - scheduleStart) +
                                                                      (m_clock->now() - execEnd)).count();
        m_metrics.recordStep(record, record.maxBatchSize);
        m_metrics.recordKv(m_kv.statistics());
        m_capacity.update(m_batch.usedMemoryBytes(), std::int32_t(m_batch.running().size()), out.numTokens);
        observer = m_stepObserver;
        if (m_traceSink) {
            std::vector<RequestId> preempted;
            preempted.reserve(out.preempted.size());
            for (const auto& seq : out.preempted) preempted.push_back(seq->id);
            m_traceSink->onStep(record, preempted);
        }
    }
    m_stepIndex.fetch_add(1);
    notify(notes);
    if (observer) observer(record);
    return true;
}

void ContinuousBatchScheduler::handleStepFailure(const ScheduleOutput& out, const std::string& what,
                                                 std::vector<Notification>& notes) {
    spdlog::warn("step failed: {}", what);
    m_metrics.recordError("step_exception", true);
    for (const auto& s : out.scheduled) {
        const SequencePtr& seq = s.seq;
        if (++seq->stepFailures > m_config.stepRetries) {
            finishSequence(seq, FinishReason::Error,
                           "model step failed " + std::to_string(seq->stepFailures) + " times: " + what, notes);
        }
    }
}

void ContinuousBatchScheduler::applyStepResult(const ScheduleOutput& out, const StepResult& result,
                                               TimePoint stepStart, std::vector<Notification>& notes,
                                               StepRecord& record) {
    const TimePoint now = m_clock->now();
    for (std::size_t i = 0; i < out.scheduled.size(); ++i) {
        const SequencePtr& seq = out.scheduled[i].seq;
        const std::int32_t n = out.scheduled[i].numNewTokens;
        if (i < result.sequenceErrors.size() && !result.sequenceErrors[i].empty()) {
            finishSequence(seq, FinishReason::Error, result.sequenceErrors[i], notes, "sequence_error");
            continue;
        }
        const bool wasPrefill = seq->numComputed < seq->promptLength || n > 1;
        if (!seq->firstScheduled) {
            seq->firstScheduled = stepStart;
            addEvent(*seq, RequestEvent::Kind::Scheduled, stepStart);
        } else if (out.scheduled[i].admitted && seq->preemptions > 0) {
            addEvent(*seq, RequestEvent::Kind::Resumed, stepStart);
        }
        if (wasPrefill) addEvent(*seq, RequestEvent::Kind::PrefillChunk, stepStart, n);
        seq->numComputed += n;
        m_kv.commitComputed(seq->id, seq->tokens, seq->numComputed);
        seq->stepFailures = 0;
        const auto& next = result.nextTokens[i];
        if (!next) {
            seq->state = RequestState::Prefilling;
            continue;
        }
        ++record.generatedTokens;
        seq->tokens.push_back(*next);
        seq->state = RequestState::Decoding;
        if (!seq->firstToken) {
            seq->firstToken = now;
            addEvent(*seq, RequestEvent::Kind::FirstToken, now);
        }
        CompletionDetector::Verdict verdict = m_completion.onToken(*seq, *next);
        if (verdict.reason != FinishReason::Eos) emitToken(seq, *next, std::move(verdict.textDelta), notes);
        if (verdict.reason != FinishReason::None) finishSequence(seq, verdict.reason, "", notes);
    }
}

void ContinuousBatchScheduler::emitToken(const SequencePtr& seq, TokenId token, std::string delta,
                                         std::vector<Notification>& notes) {
    if (!seq->callbacks.onToken) return;
    TokenEvent ev{seq->id, token, seq->generatedCount() - 1, std::move(delta)};
    notes.push_back([cb = seq->callbacks.onToken, ev = std::move(ev)] { cb(ev); });
}

}  // namespace batchscope::engine
