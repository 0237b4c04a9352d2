// The local WebSocket API server: accepts authenticated clients on loopback, routes their
// generations through the EngineBridge and the bridge's events back to them.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QElapsedTimer>
#include <QHash>
#include <QHostAddress>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QUrl>
#include <QVector>

#include "app/api/protocol.h"
#include "app/api/protocol_encode.h"
#include "app/bridge/engine_bridge.h"

class QTcpServer;
class QWebSocket;
class QWebSocketServer;
class QWebSocketCorsAuthenticator;

namespace batchscope::app::api {

class ApiSession;

/// Server settings. Defaults are the secure ones: loopback only, token required, bounded.
struct ApiServerOptions {
    /// Null (default): listen on 127.0.0.1 and ::1. Anything else only when given explicitly;
    /// a non-loopback address logs a warning.
    QHostAddress host;
    quint16 port = 0;                  ///< 0 picks a free port (see port())
    QString token;                     ///< required; empty refuses to listen
    QStringList allowedOrigins;        ///< browser Origins allowed ("http://localhost:3000")
    QStringList allowedHosts;          ///< extra Host header names (DNS-rebinding defence)
    qint64 maxMessageBytes = 1 << 20;  ///< larger text frames get invalid_request
    int maxRequestsPerConnection = 64; ///< generations in flight per connection
    int maxRequestsTotal = 1024;       ///< generations in flight over all connections
    int maxConnections = 512;
    double ratePerSecond = 200;        ///< messages per second per connection (token bucket)
    double burst = 400;                ///< bucket size
    qint64 sendBufferLimit = 1 << 20;  ///< pending bytes above which telemetry is dropped
    qint64 hardSendBufferLimit = 64LL << 20;  ///< pending bytes above which a client is dropped
    /// Time to send the request head, and then hello when there is no Authorization header.
    int authTimeoutMs = 10000;
};

/// Lives on the GUI/main thread (it uses the bridge's signals there). Never touches the engine
/// thread: every engine call goes through EngineBridge.
class ApiServer : public QObject {
    Q_OBJECT
public:
    ApiServer(EngineBridge& bridge, ApiServerOptions options, QObject* parent = nullptr);
    ~ApiServer() override;  ///< closes every connection, cancelling their requests

    /// Starts listening; false with a message in *error (port in use, no token, ...).
    bool listen(QString* error = nullptr);
    void close();
    bool isListening() const;
    /// ws://host:port/ of the first listening address.
    QUrl url() const;
    quint16 port() const;
    const ApiServerOptions& options() const { return m_options; }
    /// Changes the telemetry back-pressure threshold of every session from now on (GUI thread).
    /// A negative limit treats every client as slow (every telemetry event is dropped and
    /// counted), which makes the drop path deterministic in tests.
    void setSendBufferLimit(qint64 bytes) { m_options.sendBufferLimit = bytes; }

    int connectionCount() const { return int(m_sessions.size()); }
    int activeRequestCount() const { return int(m_owners.size()); }
    /// Telemetry events dropped for slow clients since start.
    qint64 droppedEvents() const { return m_droppedEvents; }

    // Used by ApiSession.
    EngineBridge& bridge() { return m_bridge; }
    DecodeLimits decodeLimits() const;
    ServerInfo serverInfo() const;
    /// Submits for a session; the id or the protocol error. Registers the session as owner.
    struct Submitted {
        engine::RequestId id = engine::kInvalidRequestId;
        int queuePosition = 0;
        std::optional<ApiError> error;
    };
    Submitted submit(ApiSession* session, const GenerateMessage& message);
    /// Cancels (bridge.cancel) and forgets every request of a session. Idempotent.
    void cancelRequestsOf(ApiSession* session);
    /// A session's socket disconnected: cancel its requests and delete it later.
    void releaseSession(ApiSession* session);
    void forgetRequest(engine::RequestId id) { m_owners.remove(id); }
    bool checkHost(const QString& hostHeader) const { return hostAllowed(hostHeader, m_options); }
    /// The Host rule against DNS rebinding: loopback names, the --host address, --allow-host.
    static bool hostAllowed(const QString& hostHeader, const ApiServerOptions& options);
    /// The browser rule: no Origin (not a browser) or an Origin on --allow-origin.
    static bool originAllowed(const QString& originHeader, const ApiServerOptions& options);
    void countDropped() { ++m_droppedEvents; }
    /// The next snapshot sends `kv_blocks` to every subscriber even if the map did not change.
    void resendBlocks() {
        m_sentBlocks.clear();
        m_blocksSent.invalidate();
    }

private:
    void onNewConnection(QWebSocketServer* server);
    void onOriginCheck(QWebSocketCorsAuthenticator* authenticator) const;
    void onTokens(const QVector<engine::TokenEvent>& events);
    void onFinished(const engine::GenerationResult& result);
    void onSnapshot(const SnapshotPtr& snapshot);
    bool listenOn(const QHostAddress& address, quint16 port, QString* error);

    EngineBridge& m_bridge;
    ApiServerOptions m_options;
    QList<QTcpServer*> m_servers;  ///< one per address; each owns its QWebSocketServer
    QList<ApiSession*> m_sessions;
    QHash<engine::RequestId, QPointer<ApiSession>> m_owners;
    SnapshotPtr m_previousSnapshot;
    std::vector<engine::KvBlockView> m_sentBlocks;  ///< last block map sent (kv_blocks topic)
    QElapsedTimer m_blocksSent;
    int m_submittedSinceSnapshot = 0;
    qint64 m_droppedEvents = 0;
};

}  // namespace batchscope::app::api
