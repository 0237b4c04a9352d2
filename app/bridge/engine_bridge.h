// The only code that touches both the engine and QObject: hosts an engine::Engine (whose step
// loop runs on its own thread), turns engine callbacks into queued Qt signals, and publishes
// snapshots at a bounded rate for the UI and the API.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QObject>
#include <QString>
#include <QThreadPool>
#include <QTimer>
#include <QVector>
#include <algorithm>
#include <functional>
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
/// The two engine calls that can take long — stopping (joining) an engine and tokenizing a
/// submission — run on the bridge's own worker thread (one thread, so jobs keep their order);
/// results come back to the GUI thread through queued invocations only.
class EngineBridge : public QObject {
    Q_OBJECT
public:
    /// GUI thread: the ids accepted (in order) and, when the engine refused one, its message
    /// (the remaining copies are then not submitted).
    using SubmitDone = std::function<void(const QList<engine::RequestId>& ids, const QString& error)>;

    /// The outcome of submitChatAsync, delivered on the GUI thread.
    struct ChatSubmitted {
        bool ok = false;
        engine::RequestId id = engine::kInvalidRequestId;
        int dropped = 0;                          ///< oldest messages left out to fit the context
        std::vector<engine::ChatMessage> sent;    ///< the messages rendered (after dropping)
        engine::ErrorCode code = engine::ErrorCode::Internal;
        QString error;                            ///< when !ok
        /// The engine it went to was replaced meanwhile (its requests are cancelled with it).
        bool stale = false;
    };
    using ChatSubmitDone = std::function<void(const ChatSubmitted& result)>;

    explicit EngineBridge(QObject* parent = nullptr);
    /// Waits for the worker (a running switch or submission), then stops the engine; every
    /// request finishes as cancelled.
    ~EngineBridge() override;

    /// Replaces the running engine. With none running the new one starts at once. Otherwise the
    /// old one is stopped and destroyed on the worker thread (its requests finish as cancelled)
    /// while isSwitching() is true and hasEngine() false; the new one starts when that is done.
    /// switchingChanged(true/false) brackets the switch; modelChanged is emitted when the new
    /// engine starts. A second call during a switch replaces the engine still waiting.
    void setEngine(std::unique_ptr<engine::Engine> engine);
    bool hasEngine() const { return m_engine != nullptr; }
    bool isSwitching() const { return m_switching; }
    engine::Engine* engine() const { return m_engine.get(); }

    /// Thread-safe submit on the calling thread (it tokenizes there: the GUI uses submitAsync);
    /// the id or the engine's error (QueueFull, PromptTooLong, ...). `tap`, when set, also
    /// receives this request's token and finish events, on the engine thread, right after they
    /// are queued for this bridge's signals: for a consumer on another thread (the HTTP API's
    /// handlers) that must not wait for this thread's event loop. A tap must be quick and must
    /// never block on this thread.
    engine::Result<engine::RequestId> submit(const QString& prompt, const engine::GenerationOptions& options,
                                             engine::RequestCallbacks tap = {});
    /// Thread-safe chat submit on the calling thread (the API; the Chat tab uses
    /// submitChatAsync): the messages rendered with the model's chat template. `tap` as for
    /// submit.
    engine::Result<engine::RequestId> submitChat(const std::vector<engine::ChatMessage>& messages,
                                                 const engine::GenerationOptions& options,
                                                 engine::RequestCallbacks tap = {});
    /// A chat turn rendered with the model's chat template and tokenized on the worker thread,
    /// never on the GUI thread. While the engine answers PromptTooLong, the oldest message
    /// after the first `keepLeading` ones (a system prompt) is dropped and it tries again, as
    /// long as more than one message would remain. `done` runs on the GUI thread (not at all
    /// if the bridge is destroyed first). False, and nothing happens, when no engine runs.
    /// Token events of the request may be emitted before `done` runs.
    bool submitChatAsync(std::vector<engine::ChatMessage> messages, int keepLeading,
                         const engine::GenerationOptions& options, ChatSubmitDone done);
    /// `messages` rendered with the running model's chat template and tokenized on the worker
    /// thread (engine::buildChatPrompt, as submitChat does), for showing the prompt; `done`
    /// runs on the GUI thread (ok, the text and token count, or the error). False, and
    /// nothing happens, when no engine runs.
    using RenderDone = std::function<void(bool ok, const QString& text, int tokens, const QString& error)>;
    bool renderChatAsync(std::vector<engine::ChatMessage> messages, RenderDone done);
    /// The chat template of the running engine (see engine::Engine::setChatTemplate): errors
    /// when no engine runs or the text does not parse. Emits chatTemplateChanged on success.
    engine::Status setChatTemplate(const std::string& text, const std::string& source);
    /// Back to the model's own template; emits chatTemplateChanged. No-op without an engine.
    void resetChatTemplate();
    /// Counts engines installed so far (a submission made before a switch is stale after it).
    int engineGeneration() const { return m_generation; }
    /// Submits `count` copies (the sampling seed + i for copy i) on the worker thread and calls
    /// `done` on the GUI thread (not at all if the bridge is destroyed first). False, and
    /// nothing happens, when no engine is running (none loaded, or a switch in progress).
    bool submitAsync(const QString& prompt, const engine::GenerationOptions& options, int count,
                     SubmitDone done);
    bool cancel(engine::RequestId id);
    bool setPriority(engine::RequestId id, engine::Priority priority);
    void applySettings(const engine::SchedulerSettings& settings);
    void resetStatistics();
    /// Records the running engine's run into a SQLite trace (the app's record toggle; see
    /// engine::Engine::startRecording). Errors: no engine, or the file cannot be created. A
    /// model switch ends the recording with the old engine.
    engine::Status startRecording(const QString& path);
    void stopRecording();
    /// The trace being recorded, empty when none.
    QString recordingPath() const;

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
    /// True when a switch starts stopping the old engine; false once the new one runs.
    void switchingChanged(bool switching);
    /// The running engine's chat template changed (info.chatTemplateSource says which).
    void chatTemplateChanged(const batchscope::engine::ModelInfo& info);

private:
    /// Callbacks that queue the engine thread's events for flushEvents on this thread, then
    /// pass them to `tap` (see submit).
    engine::RequestCallbacks makeCallbacks(engine::RequestCallbacks tap = {});
    void flushEvents();
    /// Timer: the engine thread's latest published snapshot plus the new step records; reads
    /// never take the scheduler's state lock.
    void publishLatestSnapshot();
    void emitSnapshot(std::shared_ptr<engine::SchedulerSnapshot> snapshot);
    void installPendingEngine();
    void onOldEngineRetired();

    // shared_ptr: a submission job on the worker keeps the engine it was given alive.
    std::shared_ptr<engine::Engine> m_engine;
    std::shared_ptr<engine::Engine> m_pending;  ///< waits for the old engine to stop
    bool m_switching = false;
    int m_generation = 0;
    QThreadPool m_worker;  ///< one thread: switches and submissions in order
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
