// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/bridge/engine_bridge.h"

#include <QMetaObject>

#include "engine/chat/chat_prompt.h"
#include <QPointer>
#include <utility>

namespace batchscope::app {

namespace {
void registerMetaTypes() {
    static const bool done = [] {
        qRegisterMetaType<engine::TokenEvent>();
        qRegisterMetaType<QVector<engine::TokenEvent>>();
        qRegisterMetaType<engine::GenerationResult>();
        qRegisterMetaType<engine::ModelInfo>();
        qRegisterMetaType<SnapshotPtr>();
        return true;
    }();
    (void)done;
}
}  // namespace

EngineBridge::EngineBridge(QObject* parent) : QObject(parent), m_inbox(std::make_shared<Inbox>()) {
    registerMetaTypes();
    m_worker.setMaxThreadCount(1);
    setSnapshotRateHz(30);
    connect(&m_snapshotTimer, &QTimer::timeout, this, &EngineBridge::publishLatestSnapshot);
}

EngineBridge::~EngineBridge() {
    m_snapshotTimer.stop();
    m_worker.waitForDone();  // a switch or submissions in flight; their queued replies are dropped
    if (m_engine) m_engine->stop();  // finishes every request as cancelled
    flushEvents();
}

void EngineBridge::setEngine(std::unique_ptr<engine::Engine> engine) {
    std::shared_ptr<engine::Engine> replaced = std::exchange(m_pending, std::move(engine));
    if (replaced)  // an engine that never started, superseded during a switch: freed off-thread
        m_worker.start([doomed = std::move(replaced)]() mutable { doomed.reset(); });
    if (m_switching) return;  // installed when the old engine has stopped
    if (!m_engine) {
        installPendingEngine();
        return;
    }
    m_switching = true;
    m_snapshotTimer.stop();
    m_latest.reset();
    emit switchingChanged(true);
    // Stopping joins the engine's step loop (up to a step, plus cancelling every request), and
    // destroying it frees the model: both on the worker, never on the GUI thread. Queued
    // submissions for the old engine ran before this job (one worker thread, FIFO).
    m_worker.start([this, old = std::exchange(m_engine, nullptr)]() mutable {
        std::shared_ptr<engine::Engine> retiring = std::move(old);
        retiring->stop();
        retiring.reset();
        // `this` is alive: the destructor waits for the worker before anything is destroyed.
        QMetaObject::invokeMethod(this, &EngineBridge::onOldEngineRetired, Qt::QueuedConnection);
    });
}

void EngineBridge::onOldEngineRetired() {
    flushEvents();  // the old engine's cancellations, before the new model clears the views
    m_switching = false;
    installPendingEngine();
    emit switchingChanged(false);
}

void EngineBridge::installPendingEngine() {
    m_engine = std::move(m_pending);
    ++m_generation;
    m_lastStep = -1;
    m_latest.reset();
    if (!m_engine) {
        m_snapshotTimer.stop();
        return;
    }
    m_engine->start();  // spawns the step loop; does not wait for it
    m_snapshotTimer.start();
    emit modelChanged(m_engine->modelInfo());
    publishSnapshot();
}

engine::Result<engine::RequestId> EngineBridge::submitChat(const std::vector<engine::ChatMessage>& messages,
                                                           const engine::GenerationOptions& options,
                                                           engine::RequestCallbacks tap) {
    if (!m_engine)
        return engine::makeError(engine::ErrorCode::Internal,
                                 m_switching ? "the model is being switched" : "no model is loaded");
    return m_engine->submitChat(messages, options, makeCallbacks(std::move(tap)));
}

bool EngineBridge::submitChatAsync(std::vector<engine::ChatMessage> messages, int keepLeading,
                                   const engine::GenerationOptions& options, ChatSubmitDone done) {
    if (!m_engine) return false;
    const int generation = m_generation;
    m_worker.start([this, engine = m_engine, messages = std::move(messages), keepLeading, options,
                    callbacks = makeCallbacks(), generation, done = std::move(done)]() mutable {
        // Worker thread: render + tokenize (Engine::submitChat), dropping the oldest turns
        // while the conversation does not fit the context.
        ChatSubmitted out;
        const std::size_t keep = std::size_t(std::max(0, keepLeading));
        while (true) {
            auto id = engine->submitChat(messages, options, callbacks);
            if (id) {
                out.ok = true;
                out.id = id.value();
                break;
            }
            out.code = id.error().code;
            out.error = QString::fromStdString(id.error().message);
            if (out.code != engine::ErrorCode::PromptTooLong || messages.size() <= keep + 1) break;
            messages.erase(messages.begin() + std::ptrdiff_t(keep));
            ++out.dropped;
        }
        if (out.ok) {
            out.error.clear();
            out.sent = std::move(messages);
        }
        // `this` is alive: the destructor waits for the worker before anything is destroyed.
        QMetaObject::invokeMethod(
            this,
            [this, out = std::move(out), generation, done = std::move(done)]() mutable {
                out.stale = generation != m_generation;
                if (done) done(out);
            },
            Qt::QueuedConnection);
    });
    return true;
}

bool EngineBridge::renderChatAsync(std::vector<engine::ChatMessage> messages, RenderDone done) {
    if (!m_engine) return false;
    m_worker.start([this, engine = m_engine, messages = std::move(messages), done = std::move(done)] {
        const engine::ModelInfo info = engine->modelInfo();
        auto prompt = engine::buildChatPrompt(info.chatTemplate, messages, info, engine->tokenizer());
        const bool ok = prompt.ok();
        const QString text = ok ? QString::fromStdString(prompt->rendered.text) : QString();
        const int tokens = ok ? int(prompt->tokens.size()) : 0;
        const QString error = ok ? QString() : QString::fromStdString(prompt.error().message);
        QMetaObject::invokeMethod(
            this, [done, ok, text, tokens, error] { if (done) done(ok, text, tokens, error); },
            Qt::QueuedConnection);
    });
    return true;
}

engine::Status EngineBridge::setChatTemplate(const std::string& text, const std::string& source) {
    if (!m_engine)
        return engine::makeError(engine::ErrorCode::InvalidArgument,
                                 m_switching ? "the model is being switched" : "no model is loaded");
    if (auto set = m_engine->setChatTemplate(text, source); !set) return set;
    emit chatTemplateChanged(m_engine->modelInfo());
    return engine::Ok{};
}

void EngineBridge::resetChatTemplate() {
    if (!m_engine) return;
    m_engine->resetChatTemplate();
    emit chatTemplateChanged(m_engine->modelInfo());
}

engine::RequestCallbacks EngineBridge::makeCallbacks(engine::RequestCallbacks tap) {
    engine::RequestCallbacks callbacks;
    // Engine thread: append under a short lock and post at most one flush. Never blocks on the GUI.
    QPointer<EngineBridge> self(this);
    std::weak_ptr<Inbox> weakInbox = m_inbox;
    auto post = [self, weakInbox](std::shared_ptr<Inbox>& inbox, std::unique_lock<std::mutex>& lock) {
        if (inbox->flushPosted) return;
        inbox->flushPosted = true;
        lock.unlock();
        if (self) QMetaObject::invokeMethod(self.data(), [self] { if (self) self->flushEvents(); }, Qt::QueuedConnection);
    };
    // The inbox first, then the tap: whoever the tap wakes (an HTTP client reading "[DONE]")
    // finds this bridge's requestFinished already posted to its thread.
    callbacks.onToken = [weakInbox, post, tap = std::move(tap.onToken)](const engine::TokenEvent& ev) {
        if (auto inbox = weakInbox.lock()) {
            std::unique_lock lock(inbox->mutex);
            inbox->tokens.push_back(ev);
            post(inbox, lock);
        }
        if (tap) tap(ev);
    };
    callbacks.onFinished = [weakInbox, post, tap = std::move(tap.onFinished)](const engine::GenerationResult& r) {
        if (auto inbox = weakInbox.lock()) {
            std::unique_lock lock(inbox->mutex);
            inbox->finished.push_back(r);
            post(inbox, lock);
        }
        if (tap) tap(r);
    };
    return callbacks;
}

engine::Result<engine::RequestId> EngineBridge::submit(const QString& prompt, const engine::GenerationOptions& options,
                                                       engine::RequestCallbacks tap) {
    if (!m_engine)
        return engine::makeError(engine::ErrorCode::Internal,
                                 m_switching ? "the model is being switched" : "no model is loaded");
    return m_engine->submit(prompt.toStdString(), options, makeCallbacks(std::move(tap)));
}

bool EngineBridge::submitAsync(const QString& prompt, const engine::GenerationOptions& options,
                               int count, SubmitDone done) {
    if (!m_engine) return false;
    m_worker.start([this, engine = m_engine, text = prompt.toStdString(), options,
                    count = std::max(1, count), callbacks = makeCallbacks(),
                    done = std::move(done)] {
        QList<engine::RequestId> ids;
        QString error;
        for (int i = 0; i < count; ++i) {
            engine::GenerationOptions copy = options;
            copy.sampling.seed += std::uint64_t(i);
            auto result = engine->submit(text, copy, callbacks);  // tokenizes here
            if (!result) {
                error = QString::fromStdString(result.error().message);
                break;
            }
            ids << result.value();
        }
        QMetaObject::invokeMethod(
            this, [done, ids, error] { if (done) done(ids, error); }, Qt::QueuedConnection);
    });
    return true;
}

void EngineBridge::flushEvents() {
    std::vector<engine::TokenEvent> tokens;
    std::vector<engine::GenerationResult> finished;
    {
        std::lock_guard lock(m_inbox->mutex);
        tokens.swap(m_inbox->tokens);
        finished.swap(m_inbox->finished);
        m_inbox->flushPosted = false;
    }
    if (!tokens.empty()) emit tokensGenerated(QVector<engine::TokenEvent>(tokens.begin(), tokens.end()));
    for (const auto& r : finished) emit requestFinished(r);
}

bool EngineBridge::cancel(engine::RequestId id) { return m_engine && m_engine->cancel(id); }

bool EngineBridge::setPriority(engine::RequestId id, engine::Priority priority) {
    return m_engine && m_engine->setPriority(id, priority);
}

engine::Status EngineBridge::startRecording(const QString& path) {
    if (!m_engine) return engine::makeError(engine::ErrorCode::InvalidArgument, "no engine is running to record");
    return m_engine->startRecording(path.toStdString());
}

void EngineBridge::stopRecording() {
    if (m_engine) m_engine->stopRecording();
}

QString EngineBridge::recordingPath() const {
    return m_engine ? QString::fromStdString(m_engine->recordingPath()) : QString();
}

void EngineBridge::applySettings(const engine::SchedulerSettings& settings) {
    if (m_engine) m_engine->applySettings(settings);
}

void EngineBridge::resetStatistics() {
    if (m_engine) m_engine->resetStatistics();
}

void EngineBridge::setSnapshotRateHz(int hz) {
    hz = std::clamp(hz, 1, 120);
    m_snapshotTimer.setInterval(1000 / hz);
}

void EngineBridge::publishSnapshot() {
    if (!m_engine) return;
    emitSnapshot(std::make_shared<engine::SchedulerSnapshot>(m_engine->snapshot(m_lastStep)));
}

void EngineBridge::publishLatestSnapshot() {
    if (!m_engine) return;
    const auto published = m_engine->latestSnapshot();
    // The published snapshot is shared and immutable: copy it (GUI thread, no engine lock) to
    // attach this viewer's new steps.
    auto snap = std::make_shared<engine::SchedulerSnapshot>(*published);
    snap->steps = m_engine->stepsAfter(m_lastStep);
    emitSnapshot(std::move(snap));
}

void EngineBridge::emitSnapshot(std::shared_ptr<engine::SchedulerSnapshot> snap) {
    if (!snap->steps.empty()) m_lastStep = snap->steps.back().index;
    m_latest = std::move(snap);
    emit snapshotUpdated(m_latest);
}

}  // namespace batchscope::app
