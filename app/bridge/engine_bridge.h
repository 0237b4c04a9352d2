// The only code that touches both the engine and QObject: hosts an engine::Engine (whose step
// loop runs on its own thread), turns engine callbacks into queued Qt signals, and publishes
// snapshots at a bounded rate for the UI and the API.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QObject>
#include <QString>
#include <QTimer>
#include <QVector>
#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/runtime/engine.h"
#include "engine/scheduling/generation.h"

namespace batchscope::app {

using SnapshotPtr = std::shared_ptr<const engine::SchedulerSnapshot>;

/// Lives on the GUI thread. Engine callbacks (engine thread) only append to a mutex-protected
/// buffer and post one queued flush; they never block on the GUI. Snapshots are pulled by a
/// timer (default 30 Hz), never pushed per token.
class EngineBridge : public QObject {
    Q_OBJECT
public:
    explicit EngineBridge(QObject* parent = nullptr);
    ~EngineBridge() override;  ///< stops the engine; every request finishes as cancelled

    /// Replaces the running engine (the old one is stopped, its requests cancelled) and starts
    /// the new one. Emits modelChanged.
    void setEngine(std::unique_ptr<engine::Engine> engine);
    bool hasEngine() const { return m_engine != nullptr; }
    engine::Engine* engine() const { return m_engine.get(); }

    /// Thread-safe submit; the id or the engine's error (QueueFull, PromptTooLong, ...).
    engine::Result<engine::RequestId> submit(const QString& prompt,
                                             const engine::GenerationOptions& options);
    /// Thread-safe chat submit: the messages rendered with the model's chat template.
    engine::Result<engine::RequestId> submitChat(const std::vector<engine::ChatMessage>& messages,
                                                 const engine::GenerationOptions& options);
    bool cancel(engine::RequestId id);
    bool setPriority(engine::RequestId id, engine::Priority priority);
    void applySettings(const engine::SchedulerSettings& settings);
    void resetStatistics();

    /// The last published snapshot (nullptr before the first).
    SnapshotPtr latestSnapshot() const { return m_latest; }
    void setSnapshotRateHz(int hz);
    /// Publishes a snapshot built now, consistent with everything before the call (tests, the
    /// API's first query). The timer publishes the engine's latest published one instead.
    void publishSnapshot();

signals:
    /// Tokens produced since the last flush, in order (batched per engine step or flush).
    void tokensGenerated(const QVector<batchscope::engine::TokenEvent>& events);
    void requestFinished(const batchscope::engine::GenerationResult& result);
    /// steps in the snapshot are those after the previous snapshot's last step.
    void snapshotUpdated(const batchscope::app::SnapshotPtr& snapshot);
    void modelChanged(const batchscope::engine::ModelInfo& info);

private:
    /// Callbacks that queue the engine thread's events for flushEvents on this thread.
    engine::RequestCallbacks makeCallbacks();
    void flushEvents();
    /// Timer: the engine thread's latest published snapshot plus the new step records; reads
    /// never take the scheduler's state lock.
    void publishLatestSnapshot();
    void emitSnapshot(std::shared_ptr<engine::SchedulerSnapshot> snapshot);

    std::unique_ptr<engine::Engine> m_engine;
    QTimer m_snapshotTimer;
    SnapshotPtr m_latest;
    std::int64_t m_lastStep = -1;

    // Shared with the engine thread.
    struct Inbox {
        std::mutex mutex;
        std::vector<engine::TokenEvent> tokens;
        std::vector<engine::GenerationResult> finished;
        bool flushPosted = false;
    };
    std::shared_ptr<Inbox> m_inbox;
};

}  // namespace batchscope::app

Q_DECLARE_METATYPE(batchscope::engine::TokenEvent)
Q_DECLARE_METATYPE(batchscope::engine::GenerationResult)
Q_DECLARE_METATYPE(batchscope::engine::ModelInfo)
Q_DECLARE_METATYPE(batchscope::app::SnapshotPtr)
