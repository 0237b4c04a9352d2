// "A server the window watches": the local engine or a remote one. The main window is fed the
// same engine value types (SchedulerSnapshot, TokenEvent, GenerationResult, ModelInfo) from
// any source; what a kind of server cannot provide is named per panel.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QObject>
#include <QString>
#include <QVector>
#include <utility>

#include "app/bridge/engine_bridge.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/scheduling/generation.h"
#include "ui/server_metrics.h"

namespace batchscope::app::remote {

enum class ConnectionState {
    Local,         ///< the in-process engine
    Connecting,    ///< first attempt
    Connected,
    Reconnecting,  ///< lost or refused; the next attempt is scheduled (exponential backoff)
    Unauthorized,  ///< the server refused the token; no retry until the token changes
    CertificateError,  ///< TLS: the server's certificate is not trusted; no retry
    Stopped,
};
QString connectionStateName(ConnectionState state);

/// Panels of the main window, so that a source can say which it cannot feed and why.
enum class SourcePanel { BatchComposition, KvMemory, KvBlockMap, Throughput, Latency, Scheduler,
                         Model, ServerMetrics };

/// Lives on the GUI thread; every signal is emitted there. Implementations never block it:
/// network I/O is asynchronous (Qt Network / Qt WebSockets), the engine is reached through
/// EngineBridge's worker.
class ServerSource : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    ~ServerSource() override = default;

    virtual QString displayName() const = 0;   ///< tab title, e.g. "vllm @ 10.0.0.5:8000"
    virtual QString kindName() const = 0;      ///< "local", "batchscope", "openai"
    /// Panels this kind of server cannot feed, each with the sentence the panel shows.
    virtual QList<std::pair<SourcePanel, QString>> unavailablePanels() const = 0;
    virtual bool canChangeSettings() const { return false; }

    virtual void start() = 0;  ///< connect (remote) / nothing (local)
    virtual void stop() = 0;   ///< disconnect; no reconnection

    /// Submits `count` copies (seed + i for copy i); submitted() reports the ids.
    virtual void submit(const QString& prompt, const engine::GenerationOptions& options, int count) = 0;
    virtual void cancel(engine::RequestId id) = 0;
    virtual void setPriority(engine::RequestId id, engine::Priority priority) = 0;
    virtual void applySettings(const engine::SchedulerSettings&) {}
    virtual void resetStatistics() {}

    ConnectionState state() const { return m_state; }
    QString stateMessage() const { return m_stateMessage; }

signals:
    void snapshotUpdated(const batchscope::app::SnapshotPtr& snapshot);
    void tokensGenerated(const QVector<batchscope::engine::TokenEvent>& events);
    void requestFinished(const batchscope::engine::GenerationResult& result);
    void modelChanged(const batchscope::engine::ModelInfo& info);
    void serverMetrics(const batchscope::ui::ServerMetricsSample& sample);
    void stateChanged(batchscope::app::remote::ConnectionState state, const QString& message);
    /// The outcome of one submit(): the ids accepted and the server's refusal, if any.
    void submitted(const QList<batchscope::engine::RequestId>& ids, const QString& error);
    /// Something the user should read in the status bar (a refused cancel, ...).
    void notice(const QString& message);
    /// A panel turned out not to be feedable after all (e.g. an older server refused a topic).
    void panelUnavailable(batchscope::app::remote::SourcePanel panel, const QString& reason);

protected:
    void setState(ConnectionState state, const QString& message) {
        if (state == m_state && message == m_stateMessage) return;
        m_state = state;
        m_stateMessage = message;
        emit stateChanged(state, message);
    }

private:
    ConnectionState m_state = ConnectionState::Stopped;
    QString m_stateMessage;
};

/// Delays between reconnection attempts: initial, doubled each failure, capped; reset on success.
class ReconnectBackoff {
public:
    ReconnectBackoff(int initialMs = 500, int maxMs = 15000) : m_initial(initialMs), m_max(maxMs) {}
    int nextDelayMs() {
        const int d = m_next;
        m_next = std::min(m_max, m_next * 2);
        return d;
    }
    void reset() { m_next = m_initial; }
    void setLimits(int initialMs, int maxMs) {
        m_initial = m_next = initialMs;
        m_max = maxMs;
    }

private:
    int m_initial, m_max;
    int m_next = m_initial;
};

}  // namespace batchscope::app::remote

Q_DECLARE_METATYPE(batchscope::ui::ServerMetricsSample)
