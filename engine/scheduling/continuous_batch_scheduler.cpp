// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/scheduling/continuous_batch_scheduler.h"

#include <algorithm>
#include <exception>
#include <limits>

#include <spdlog/spdlog.h>

namespace batchscope::engine {

namespace {
constexpr std::size_t kMaxEvents = 256;

std::string preview(const std::string& text) {
    std::string p = text.substr(0, 80);
    std::replace(p.begin(), p.end(), '\n', ' ');
    // Do not cut a UTF-8 character in half.
    p.resize(completeUtf8Prefix(p));
    return p;
}
}  // namespace

ContinuousBatchScheduler::ContinuousBatchScheduler(RequestQueue& queue, BatchManager& batchManager,
                                                   CompletionDetector& completionDetector,
                                                   CapacityManager& capacityManager, ModelExecutor& executor,
                                                   SchedulerMetricsCollector& metrics,
                                                   const SchedulerConfiguration& config)
    : m_queue(queue), m_batch(batchManager), m_kv(batchManager.kvCache()), m_completion(completionDetector),
      m_capacity(capacityManager), m_executor(executor), m_metrics(metrics), m_config(config),
      m_clock(config.clock ? config.clock : SteadySchedulerClock::shared()),
      m_modelInfo(executor.modelInfo()), m_epoch(m_clock->now()) {
    const auto blockBytes = std::int64_t(executor.kvBytesPerBlock(m_kv.blockSize()));
    m_batch.setKvBytesPerBlock(blockBytes);
    m_batch.setCapacityManager(&capacityManager);
    m_executor.configureKvCache(m_kv.numBlocks(), m_kv.blockSize());
    m_modelInfo.kvCacheBytes = std::uint64_t(blockBytes) * std::uint64_t(m_kv.numBlocks());
    // The longest sequence: the model's context, the batch limit, and what the KV pool holds.
    std::int32_t limit = executor.maxContextLength();
    const auto& bc = m_batch.constraints();
    if (bc.maxSequenceLength > 0) limit = std::min(limit, bc.maxSequenceLength);
    if (m_completion.config().maxSequenceLength > 0) limit = std::min(limit, m_completion.config().maxSequenceLength);
    const std::int64_t memBlocks = std::min(bc.maxMemoryBytes, capacityManager.constraints().maxMemoryBytes) / std::max<std::int64_t>(blockBytes, 1);
    std::int64_t poolTokens = std::min<std::int64_t>(m_kv.numBlocks(), memBlocks) * m_kv.blockSize();
    // A model whose every layer slides holds at most the window plus the blocks being filled,
    // so a pool with room for that limits no sequence's length.
    if (m_kv.slidingWindow() > 0 && poolTokens >= std::int64_t(m_kv.slidingWindow()) + 2 * m_kv.blockSize())
        poolTokens = std::numeric_limits<std::int32_t>::max();
    m_maxSequenceLength = std::int32_t(std::min<std::int64_t>(limit, poolTokens));
    m_settings.maxBatchSize = bc.maxBatchSize;
    m_settings.tokenBudget = bc.tokenBudget;
    m_settings.memoryPolicy = bc.memoryPolicy;
    m_settings.prefixCaching = m_kv.prefixCachingEnabled();
    m_pendingSettings = m_settings;
}

ContinuousBatchScheduler::~ContinuousBatchScheduler() {
    stop();
    cancelEverything();
}

void ContinuousBatchScheduler::start() {
    std::lock_guard life(m_lifecycleMutex);
    if (m_thread.joinable()) return;
    {
        std::lock_guard lock(m_inboxMutex);
        m_stopRequested = false;
    }
    m_running = true;
    m_thread = std::thread([this] { loop(); });
}

void ContinuousBatchScheduler::stop() {
    std::lock_guard life(m_lifecycleMutex);
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_inboxMutex);
            m_stopRequested = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
    m_running = false;
    cancelEverything();
}

std::future<void> ContinuousBatchScheduler::stopAsync() {
    return std::async(std::launch::async, [this] { stop(); });
}

Result<RequestId> ContinuousBatchScheduler::submit(std::vector<TokenId> promptTokens, const std::string& promptText,
                                                   const GenerationOptions& options, RequestCallbacks callbacks) {
    if (promptTokens.empty()) return makeError(ErrorCode::InvalidArgument, "prompt is empty");
    if (options.maxTokens < 1)
        return makeError(ErrorCode::InvalidArgument, "max_tokens must be at least 1 (got " + std::to_string(options.maxTokens) + ")");
    if (std::int64_t(promptTokens.size()) + 1 > m_maxSequenceLength)
        return makeError(ErrorCode::PromptTooLong, "prompt has " + std::to_string(promptTokens.size()) +
                         " tokens but at most " + std::to_string(m_maxSequenceLength - 1) +
                         " fit (sequence limit " + std::to_string(m_maxSequenceLength) + " tokens including one generated)");
    auto seq = std::make_shared<Sequence>();
    seq->id = m_nextId.fetch_add(1);
    seq->arrivalOrder = seq->id;
    seq->priority = options.priority;
    seq->promptLength = std::int32_t(promptTokens.size());
    seq->tokens = std::move(promptTokens);
    seq->maxLength = m_maxSequenceLength;
    seq->options = options;
    seq->callbacks = std::move(callbacks);
    seq->promptPreview = preview(promptText);
    seq->arrival = m_clock->now();
    if (options.timeout) seq->deadline = seq->arrival + *options.timeout;
    if (m_config.maxQueueTime.count() > 0 && (!seq->deadline || *seq->deadline > seq->arrival + m_config.maxQueueTime))
        seq->deadline = seq->arrival + m_config.maxQueueTime;  // checked while queued only, see expireDeadlines
    m_completion.begin(*seq);
    addEvent(*seq, RequestEvent::Kind::Queued, seq->arrival);
    const RequestId id = seq->id;
    // Everything the loop thread may touch (it resets stopCallback when the request finishes)
    // is set before the sequence is published. A stop requested before publication finds the
    // id not yet live (cancel() returns false); the stop_requested() check below catches it.
    if (options.stopToken.stop_possible()) {
        seq->stopCallback = std::make_unique<std::stop_callback<std::function<void()>>>(
            options.stopToken, std::function<void()>([this, id] { cancel(id); }));
    }
    std::shared_ptr<SchedulerTraceSink> sink;
    std::vector<TokenId> recordedPrompt;
    const TimePoint arrival = seq->arrival;
    {
        // Published to the queue, m_active and m_live in one critical section (lock order:
        // state, then inbox, as in finishSequence), so the loop cannot finish the request
        // before its id is live: a finished request never leaves a stale id in m_live.
        std::lock_guard lock(m_stateMutex);
        sink = m_traceSink;
        // The recorder gets its own copy of the prompt, taken before publication: once the
        // sequence is queued the loop thread appends generated tokens to seq->tokens (which
        // may reallocate it), so it must not be read from this thread afterwards.
        if (sink) recordedPrompt = seq->tokens;
        if (Status pushed = m_queue.push(seq); !pushed) return pushed.error();
        m_active.emplace(id, seq);
        if (seq->deadline) ++m_deadlines;
        m_metrics.recordSubmitted(seq->arrival);  // before the loop can record its finish
        std::lock_guard inbox(m_inboxMutex);
        m_live.insert(id);
        m_submitted = true;
    }
    // Outside the lock (hashing the prompt is O(tokens)); the finish may be recorded first.
    if (sink) sink->onSubmitted(id, msSinceEpoch(arrival), recordedPrompt, promptText, options);
    if (options.stopToken.stop_requested()) cancel(id);
    m_wake.notify_all();
    return id;
}

bool ContinuousBatchScheduler::cancel(RequestId id) {
    {
        std::lock_guard lock(m_inboxMutex);
        if (!m_live.count(id)) return false;
        m_inbox.push_back({Command::Kind::Cancel, id});
    }
    m_wake.notify_all();
    return true;
}

bool ContinuousBatchScheduler::setPriority(RequestId id, Priority priority) {
    {
        std::lock_guard lock(m_inboxMutex);
        if (!m_live.count(id)) return false;
        m_inbox.push_back({Command::Kind::SetPriority, id, priority});
    }
    m_wake.notify_all();
    return true;
}

void ContinuousBatchScheduler::applySettings(const SchedulerSettings& settings) {
    {
        std::lock_guard lock(m_inboxMutex);
        m_pendingSettings = settings;
        m_inbox.push_back({Command::Kind::Settings, kInvalidRequestId, Priority::Normal, settings});
    }
    if (!isRunning()) {
        // No loop to drain the inbox: apply now so a stopped scheduler reflects the settings.
        std::lock_guard lock(m_stateMutex);
        applySettingsLocked(settings);
    }
    m_wake.notify_all();
}

SchedulerSettings ContinuousBatchScheduler::settings() const {
    std::lock_guard lock(m_inboxMutex);
    return m_pendingSettings;
}

void ContinuousBatchScheduler::resetStatistics() {
    {
        std::lock_guard lock(m_inboxMutex);
        m_inbox.push_back({Command::Kind::ResetStats});
    }
    m_wake.notify_all();
}

void ContinuousBatchScheduler::setStepObserver(std::function<void(const StepRecord&)> observer) {
    std::lock_guard lock(m_stateMutex);
    m_stepObserver = std::move(observer);
}

void ContinuousBatchScheduler::setTraceSink(std::shared_ptr<SchedulerTraceSink> sink) {
    std::lock_guard lock(m_stateMutex);
    m_traceSink = std::move(sink);
    if (m_traceSink) m_traceSink->onSettings(m_settings, msSinceEpoch(m_clock->now()));
}

std::optional<std::string> ContinuousBatchScheduler::checkInvariants() const {
    std::lock_guard lock(m_stateMutex);
    if (auto err = m_kv.checkInvariants()) return err;
    for (const auto& seq : m_batch.running()) {
        const auto table = m_kv.blockTable(seq->id);
        if (std::int64_t(table.size()) * m_kv.blockSize() < seq->numComputed)
            return "running request " + std::to_string(seq->id) + " has fewer KV slots than computed tokens";
    }
    if (m_batch.running().size() + std::size_t(m_queue.size()) != m_active.size())
        return "running + queued does not match the active requests";
    return std::nullopt;
}

void ContinuousBatchScheduler::notify(std::vector<Notification>& notes) {
    for (auto& n : notes) n();
    notes.clear();
}

double ContinuousBatchScheduler::msSinceEpoch(TimePoint t) const {
    return std::chrono::duration<double, std::milli>(t - m_epoch).count();
}

void ContinuousBatchScheduler::addEvent(Sequence& seq, RequestEvent::Kind kind, TimePoint at, std::int32_t tokens) {
    RequestEvent ev{kind, msSinceEpoch(at), tokens};
    if (seq.events.size() < kMaxEvents) {
        seq.events.push_back(ev);
    } else if (kind != RequestEvent::Kind::PrefillChunk) {
        seq.events.back() = ev;  // keep the timeline's end visible
    }
}

}  // namespace batchscope::engine
