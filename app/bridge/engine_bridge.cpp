// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/bridge/engine_bridge.h"

#include <QMetaObject>
#include <QPointer>

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
    setSnapshotRateHz(30);
    connect(&m_snapshotTimer, &QTimer::timeout, this, &EngineBridge::publishLatestSnapshot);
}

EngineBridge::~EngineBridge() {
    m_snapshotTimer.stop();
    if (m_engine) m_engine->stop();  // finishes every request as cancelled
    flushEvents();
}

void EngineBridge::setEngine(std::unique_ptr<engine::Engine> engine) {
    if (m_engine) {
        m_engine->stop();
        flushEvents();
    }
    m_engine = std::move(engine);
    m_lastStep = -1;
    m_latest.reset();
    if (!m_engine) {
        m_snapshotTimer.stop();
        return;
    }
    m_engine->start();
    m_snapshotTimer.start();
    emit modelChanged(m_engine->modelInfo());
    publishSnapshot();
}

engine::Result<engine::RequestId> EngineBridge::submit(const QString& prompt, const engine::GenerationOptions& options) {
    if (!m_engine) return engine::makeError(engine::ErrorCode::Internal, "no model is loaded");
    return m_engine->submit(prompt.toStdString(), options, makeCallbacks());
}

engine::Result<engine::RequestId> EngineBridge::submitChat(const std::vector<engine::ChatMessage>& messages,
                                                           const engine::GenerationOptions& options) {
    if (!m_engine) return engine::makeError(engine::ErrorCode::Internal, "no model is loaded");
    return m_engine->submitChat(messages, options, makeCallbacks());
}

engine::RequestCallbacks EngineBridge::makeCallbacks() {
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
    callbacks.onToken = [weakInbox, post](const engine::TokenEvent& ev) {
        auto inbox = weakInbox.lock();
        if (!inbox) return;
        std::unique_lock lock(inbox->mutex);
        inbox->tokens.push_back(ev);
        post(inbox, lock);
    };
    callbacks.onFinished = [weakInbox, post](const engine::GenerationResult& r) {
        auto inbox = weakInbox.lock();
        if (!inbox) return;
        std::unique_lock lock(inbox->mutex);
        inbox->finished.push_back(r);
        post(inbox, lock);
    };
    return callbacks;
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
