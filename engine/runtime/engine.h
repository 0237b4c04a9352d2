// The engine façade: builds the scheduler's components around one executor and exposes the
// thread-safe operations the application needs (submit, cancel, reprioritise, settings,
// snapshots). The app's Qt bridge, the bench and the headless server all use it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/chat/chat_template.h"
#include "engine/core/result.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/model/model_executor.h"
#include "engine/scheduling/generation.h"
#include "engine/scheduling/scheduler_clock.h"
#include "engine/trace/trace_recorder.h"

namespace batchscope::engine {

class ContinuousBatchScheduler;
class SchedulerClient;
struct EngineParts;
class SchedulerMetricsCollector;

/// How to size and run the scheduler. Plain value.
struct EngineConfig {
    SchedulerSettings settings;
    std::int32_t blockSize = 16;              ///< tokens per KV block
    /// KV pool size. numKvBlocks > 0 wins; else kvMemoryBytes / executor.kvBytesPerBlock().
    std::int32_t numKvBlocks = 0;
    std::int64_t kvMemoryBytes = 256LL << 20;
    std::int32_t queueCapacity = 1024;        ///< waiting requests at most
    std::int64_t maxQueuedTokens = 0;         ///< prompt tokens waiting at most; 0 = unbounded
    std::int32_t maxSequenceLength = 0;       ///< 0 = the model's context length
    std::int32_t minBatchSize = 1;
    std::int32_t stepRetries = 2;             ///< retries of a failed step before failing requests
    std::int32_t stepHistory = 4096;          ///< step records kept for snapshots
    bool staticBatching = false;              ///< request-level batching (benchmark baseline)
    /// The scheduler's and the metrics' time source; null = the steady clock. Replay passes a
    /// VirtualClock and drives the scheduler with ContinuousBatchScheduler::runOnce().
    std::shared_ptr<SchedulerClock> clock;
};

/// Owns the scheduler and its components. All public methods are thread-safe.
/// Destruction stops the scheduler; every unfinished request finishes as Cancelled.
class Engine {
public:
    static Result<std::unique_ptr<Engine>> create(const EngineConfig& config,
                                                  std::unique_ptr<ModelExecutor> executor);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void start();
    /// Blocks until the loop has stopped; unfinished requests finish as Cancelled.
    void stop();
    bool isRunning() const;

    /// Tokenizes and queues a prompt. Errors: QueueFull, PromptTooLong, InvalidArgument.
    Result<RequestId> submit(const std::string& prompt, const GenerationOptions& options,
                             RequestCallbacks callbacks);
    /// Renders `messages` with the model's chat template (ModelInfo::chatTemplate), encodes
    /// it (special tokens only where the template wrote them) and queues it. Errors:
    /// InvalidArgument (bad messages, template failure), PromptTooLong, QueueFull.
    Result<RequestId> submitChat(const std::vector<ChatMessage>& messages, const GenerationOptions& options,
                                 RequestCallbacks callbacks);
    /// Replaces the chat template (--chat-template FILE, a file chosen in the GUI); `source`
    /// is reported as ModelInfo::chatTemplateSource. InvalidFormat when it does not parse
    /// (the template in use stays). Thread-safe, also while running: chat requests submitted
    /// after it returns use the new template, queued ones keep the prompt they were given.
    Status setChatTemplate(const std::string& text, const std::string& source);
    /// Back to the template the model was loaded with (its own, or the built-in format chosen
    /// for it). Thread-safe.
    void resetChatTemplate();
    /// Cancels a waiting or running request; false if unknown or already finished.
    bool cancel(RequestId id);
    /// Changes a request's priority (a waiting one moves in the queue); false if unknown.
    bool setPriority(RequestId id, Priority priority);
    void applySettings(const SchedulerSettings& settings);
    SchedulerSettings settings() const;
    void resetStatistics();

    /// A copy of the current state; steps with index > afterStep (bounded history).
    SchedulerSnapshot snapshot(std::int64_t afterStep = -1) const;
    /// The engine thread's latest published snapshot (no steps); cheap, for periodic readers.
    std::shared_ptr<const SchedulerSnapshot> latestSnapshot() const;
    /// Step records with index > afterStep (bounded history).
    std::vector<StepRecord> stepsAfter(std::int64_t afterStep) const;
    SchedulerMetricsCollector& metrics();

    /// Starts recording the run into a SQLite trace at `path` (docs/replay.md), replacing a
    /// recording in progress; requests already queued are not in it. The engine thread only
    /// queues rows: a background writer commits them. Errors: the file cannot be created.
    Status startRecording(const std::string& path, TraceRecorderOptions options = {});
    /// Writes what is queued, commits and closes the trace; no-op when not recording.
    void stopRecording();
    /// The trace file being recorded, empty when none.
    std::string recordingPath() const;

    /// A copy (the chat template can change while running). Thread-safe.
    ModelInfo modelInfo() const;
    const Tokenizer& tokenizer() const;
    std::int32_t maxSequenceLength() const;
    const EngineConfig& config() const { return m_config; }

    ContinuousBatchScheduler& scheduler();
    SchedulerClient& client();

private:
    Engine(const EngineConfig& config, std::unique_ptr<EngineParts> parts);
    std::shared_ptr<const ModelInfo> currentInfo() const;

    EngineConfig m_config;
    std::unique_ptr<EngineParts> m_parts;
    /// Replaced whole (never modified) when the chat template changes; guarded by m_infoMutex.
    std::shared_ptr<const ModelInfo> m_modelInfo;
    mutable std::mutex m_infoMutex;
};

}  // namespace batchscope::engine
