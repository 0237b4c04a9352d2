// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/runtime/engine.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "engine/chat/chat_prompt.h"
#include "engine/scheduling/scheduler_client.h"

namespace batchscope::engine {

/// The components, in construction order (the scheduler refers to all the others).
struct EngineParts {
    std::mutex recorderMutex;                 // recorder (the pointer)
    std::shared_ptr<TraceRecorder> recorder;  // first: outlives the scheduler's last events
    std::unique_ptr<ModelExecutor> executor;
    std::unique_ptr<RequestQueue> queue;
    std::unique_ptr<KVCacheManager> kv;
    std::unique_ptr<CapacityManager> capacity;
    std::unique_ptr<CompletionDetector> completion;
    std::unique_ptr<BatchManager> batch;
    std::unique_ptr<SchedulerMetricsCollector> metrics;
    std::unique_ptr<ContinuousBatchScheduler> scheduler;
    std::unique_ptr<SchedulerClient> client;
};

Result<std::unique_ptr<Engine>> Engine::create(const EngineConfig& config, std::unique_ptr<ModelExecutor> executor) {
    if (!executor) return makeError(ErrorCode::InvalidArgument, "no model executor");
    if (config.blockSize < 1 || config.blockSize > 1024)
        return makeError(ErrorCode::InvalidArgument, "block size must be in [1, 1024]");
    if (config.settings.maxBatchSize < 1 || config.settings.tokenBudget < 1)
        return makeError(ErrorCode::InvalidArgument, "max batch size and token budget must be positive");
    const auto bytesPerBlock = std::int64_t(executor->kvBytesPerBlock(config.blockSize));
    std::int64_t numBlocks = config.numKvBlocks;
    if (numBlocks <= 0) numBlocks = config.kvMemoryBytes / std::max<std::int64_t>(1, bytesPerBlock);
    if (numBlocks < 1)
        return makeError(ErrorCode::InvalidArgument, "KV memory of " + std::to_string(config.kvMemoryBytes) +
                         " bytes holds no block of " + std::to_string(bytesPerBlock) + " bytes");
    if (auto deviceLimit = executor->maxKvBlocks(config.blockSize)) numBlocks = std::min<std::int64_t>(numBlocks, *deviceLimit);
    numBlocks = std::min<std::int64_t>(numBlocks, 1 << 22);
    if (numBlocks < 1) return makeError(ErrorCode::InvalidArgument, "the device has no room for a KV block");

    auto parts = std::make_unique<EngineParts>();
    parts->executor = std::move(executor);
    RequestQueueConfig qc;
    qc.capacity = config.queueCapacity;
    qc.maxQueuedTokens = config.maxQueuedTokens;
    qc.policy = config.settings.queuePolicy;
    qc.agingInterval = std::chrono::milliseconds(config.settings.agingIntervalMs);
    parts->queue = std::make_unique<RequestQueue>(qc);
    parts->kv = std::make_unique<KVCacheManager>(KVCacheConfig{std::int32_t(numBlocks), config.blockSize,
                                                               config.settings.prefixCaching,
                                                               parts->executor->kvSlidingWindow()});
    CapacityConstraints cc;
    cc.maxMemoryBytes = numBlocks * std::max<std::int64_t>(1, bytesPerBlock);
    cc.maxSequences = 1 << 20;
    cc.maxBatchedTokens = 1 << 20;
    parts->capacity = std::make_unique<CapacityManager>(cc);
    const std::int32_t maxLen = config.maxSequenceLength > 0 ? config.maxSequenceLength
                                                             : parts->executor->maxContextLength();
    parts->completion = std::make_unique<CompletionDetector>(CompletionConfiguration{{}, maxLen},
                                                             parts->executor->tokenizer());
    BatchConstraints bc;
    bc.maxBatchSize = config.settings.maxBatchSize;
    bc.maxMemoryBytes = cc.maxMemoryBytes;
    bc.minBatchSize = config.minBatchSize;
    bc.maxSequenceLength = maxLen;
    bc.tokenBudget = config.settings.tokenBudget;
    bc.memoryPolicy = config.settings.memoryPolicy;
    bc.staticBatching = config.staticBatching;
    parts->batch = std::make_unique<BatchManager>(*parts->queue, *parts->kv, bc);
    MetricsConfiguration mc;
    mc.stepHistory = config.stepHistory;
    SchedulerMetricsCollector::ClockFunction metricsClock;
    if (config.clock) metricsClock = [clock = config.clock] { return clock->now(); };
    parts->metrics = std::make_unique<SchedulerMetricsCollector>(mc, std::move(metricsClock));
    SchedulerConfiguration sc;
    sc.stepRetries = config.stepRetries;
    sc.clock = config.clock;
    parts->scheduler = std::make_unique<ContinuousBatchScheduler>(*parts->queue, *parts->batch, *parts->completion,
                                                                  *parts->capacity, *parts->executor,
                                                                  *parts->metrics, sc);
    parts->scheduler->applySettings(config.settings);
    parts->client = std::make_unique<SchedulerClient>(*parts->scheduler, parts->executor->tokenizer());
    return std::unique_ptr<Engine>(new Engine(config, std::move(parts)));
}

Engine::Engine(const EngineConfig& config, std::unique_ptr<EngineParts> parts)
    : m_config(config), m_parts(std::move(parts)), m_modelInfo(std::make_shared<const ModelInfo>(m_parts->scheduler->modelInfo())) {}

std::shared_ptr<const ModelInfo> Engine::currentInfo() const {
    std::lock_guard lock(m_infoMutex);
    return m_modelInfo;
}

Engine::~Engine() {
    if (m_parts && m_parts->scheduler) m_parts->scheduler->stop();
    stopRecording();   // after stop(): the requests cancelled there are in the trace
}

Status Engine::startRecording(const std::string& path, TraceRecorderOptions options) {
    stopRecording();
    const EngineParts& p = *m_parts;
    options.blockSize = p.kv->blockSize();
    const auto& bc = p.batch->constraints();
    const std::map<std::string, std::string> meta{
        {"batchscope_version", BATCHSCOPE_VERSION},
        {"created_unix", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count())},
        {"model", currentInfo()->name},
        {"backend", currentInfo()->backend},
        {"clock", m_config.clock && !m_config.clock->isReal() ? "virtual" : "steady"},
        {"block_size", std::to_string(p.kv->blockSize())},
        {"num_kv_blocks", std::to_string(p.kv->numBlocks())},
        {"max_sequence_length", std::to_string(p.scheduler->maxSequenceLength())},
        {"min_batch_size", std::to_string(bc.minBatchSize)},
        {"min_batch_wait_ms", std::to_string(bc.minBatchWait.count())},
        {"queue_capacity", std::to_string(m_config.queueCapacity)},
        {"static_batching", bc.staticBatching ? "1" : "0"},
    };
    auto recorder = TraceRecorder::open(path, meta, options);
    if (!recorder) return recorder.error();
    std::lock_guard lock(m_parts->recorderMutex);
    m_parts->recorder = recorder.value();
    m_parts->scheduler->setTraceSink(m_parts->recorder);
    return Ok{};
}

void Engine::stopRecording() {
    std::shared_ptr<TraceRecorder> recorder;
    {
        std::lock_guard lock(m_parts->recorderMutex);
        recorder.swap(m_parts->recorder);
        if (recorder) m_parts->scheduler->setTraceSink(nullptr);
    }
    if (recorder) recorder->close();
}

std::string Engine::recordingPath() const {
    std::lock_guard lock(m_parts->recorderMutex);
    return m_parts->recorder ? m_parts->recorder->path() : std::string();
}

void Engine::start() { m_parts->scheduler->start(); }
void Engine::stop() { m_parts->scheduler->stop(); }
bool Engine::isRunning() const { return m_parts->scheduler->isRunning(); }

Result<RequestId> Engine::submit(const std::string& prompt, const GenerationOptions& options, RequestCallbacks callbacks) {
    return m_parts->client->generateStreaming(prompt, options, std::move(callbacks));
}

Result<RequestId> Engine::submitChat(const std::vector<ChatMessage>& messages, const GenerationOptions& options,
                                     RequestCallbacks callbacks) {
    const std::shared_ptr<const ModelInfo> info = currentInfo();  // a template set meanwhile applies next time
    auto prompt = buildChatPrompt(info->chatTemplate, messages, *info, tokenizer());
    if (!prompt) return prompt.error();
    return m_parts->client->generateStreamingTokens(std::move(prompt->tokens), prompt->rendered.text, options,
                                                    std::move(callbacks));
}

Status Engine::setChatTemplate(const std::string& text, const std::string& source) {
    auto parsed = ChatTemplate::parse(text);
    if (!parsed) return parsed.error();
    std::lock_guard lock(m_infoMutex);
    auto info = std::make_shared<ModelInfo>(*m_modelInfo);
    info->chatTemplate = text;
    info->chatTemplateSource = source;
    m_modelInfo = std::move(info);
    return Ok{};
}

void Engine::resetChatTemplate() {
    const ModelInfo& loaded = m_parts->scheduler->modelInfo();
    std::lock_guard lock(m_infoMutex);
    auto info = std::make_shared<ModelInfo>(*m_modelInfo);
    info->chatTemplate = loaded.chatTemplate;
    info->chatTemplateSource = loaded.chatTemplateSource;
    m_modelInfo = std::move(info);
}

bool Engine::cancel(RequestId id) { return m_parts->scheduler->cancel(id); }
bool Engine::setPriority(RequestId id, Priority priority) { return m_parts->scheduler->setPriority(id, priority); }
void Engine::applySettings(const SchedulerSettings& settings) { m_parts->scheduler->applySettings(settings); }
SchedulerSettings Engine::settings() const { return m_parts->scheduler->settings(); }
void Engine::resetStatistics() { m_parts->scheduler->resetStatistics(); }
SchedulerSnapshot Engine::snapshot(std::int64_t afterStep) const { return m_parts->scheduler->snapshot(afterStep); }
std::shared_ptr<const SchedulerSnapshot> Engine::latestSnapshot() const { return m_parts->scheduler->latestSnapshot(); }
std::vector<StepRecord> Engine::stepsAfter(std::int64_t afterStep) const { return m_parts->scheduler->stepsAfter(afterStep); }
SchedulerMetricsCollector& Engine::metrics() { return *m_parts->metrics; }
ModelInfo Engine::modelInfo() const { return *currentInfo(); }
const Tokenizer& Engine::tokenizer() const { return m_parts->executor->tokenizer(); }
std::int32_t Engine::maxSequenceLength() const { return m_parts->scheduler->maxSequenceLength(); }
ContinuousBatchScheduler& Engine::scheduler() { return *m_parts->scheduler; }
SchedulerClient& Engine::client() { return *m_parts->client; }

}  // namespace batchscope::engine
