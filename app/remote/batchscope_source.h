// A remote `batchscope serve` watched over its WebSocket API (docs/websocket-api.md): telemetry
// (steps, metrics), the request list polled from the server's snapshots, and the window's
// submissions, cancels and priority changes sent as API messages.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QHash>
#include <QSet>
#include <QTimer>
#include <QUrl>
#include <QWebSocket>
#include <vector>

#include "app/remote/remote_source.h"

namespace batchscope::app::remote {

/// GUI thread only (QWebSocket is asynchronous: nothing here blocks). The token goes in the
/// Authorization header. A lost or refused connection is retried with exponential backoff;
/// a refused token (error `unauthorized`, close code 1008) is not retried. Requests in flight
/// when the connection drops finish as `error` ("connection lost"): the server cancels a
/// disconnected client's requests.
class BatchscopeSource : public RemoteSource {
    Q_OBJECT
public:
    BatchscopeSource(const QUrl& url, const QString& token, QObject* parent = nullptr);
    ~BatchscopeSource() override;

    QString displayName() const override;
    QString kindName() const override { return QStringLiteral("batchscope"); }
    QList<std::pair<SourcePanel, QString>> unavailablePanels() const override;

    void start() override;
    void stop() override;
    void submit(const QString& prompt, const engine::GenerationOptions& options, int count) override;
    void cancel(engine::RequestId id) override;
    void setPriority(engine::RequestId id, engine::Priority priority) override;

    /// Requests submitted through this connection and not yet done.
    int ownActiveCount() const { return int(m_own.size()); }
    void setPollIntervalMs(int ms) { m_pollTimer.setInterval(ms); }

protected:
    void reconnect() override { openSocket(); }

private:
    void openSocket();
    void onConnected();
    void onDisconnected();
    void onMessage(const QString& text);
    void onRequests(const QJsonObject& o);
    void onAccepted(const QJsonObject& o);
    void onError(const QJsonObject& o);
    void onDone(const QJsonObject& o);
    void failInFlight(const QString& why);
    void send(const QJsonObject& message);
    void finishSubmitBatch(int batch);
    void flushTokens();

    QWebSocket m_socket;
    QTimer m_pollTimer, m_tokenFlush;
    bool m_listPending = false;
    bool m_unauthorized = false;
    qint64 m_nextMessageId = 1;
    // Submissions: client message id -> (batch, copy); batch -> ids so far and copies left.
    struct PendingCopy { int batch = 0; };
    struct Batch { QList<engine::RequestId> ids; QString error; int left = 0; };
    QHash<QString, PendingCopy> m_pendingCopies;
    QHash<int, Batch> m_batches;
    int m_nextBatch = 1;
    QSet<engine::RequestId> m_own;           ///< this connection's requests not yet done
    QVector<engine::TokenEvent> m_tokens;    ///< coalesced until the next event-loop turn
    std::vector<engine::StepRecord> m_steps; ///< since the last emitted snapshot
    engine::SchedulerSnapshot m_stats;       ///< from the last `metrics` event
    double m_lastMetricsTime = -1;
    std::int64_t m_lastPreemptions = 0;
    engine::ModelInfo m_model;
    std::vector<engine::KvBlockView> m_blocks;  ///< from the last `kv_blocks` event
    std::int32_t m_blockSize = 16;
    bool m_blocksRefused = false;               ///< an older server without the kv_blocks topic
};

}  // namespace batchscope::app::remote
