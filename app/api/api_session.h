// One client connection of the WebSocket API: authentication, rate limiting, message dispatch,
// its requests in flight and its telemetry subscriptions.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QElapsedTimer>
#include <QHash>
#include <QJsonObject>
#include <QJsonValue>
#include <QObject>
#include <QTimer>
#include <QWebSocketProtocol>

#include "app/api/protocol.h"
#include "app/api/protocol_encode.h"

class QWebSocket;

namespace batchscope::app::api {

class ApiServer;

/// Lives on the server's thread; owns its QWebSocket. Created only after the handshake passed
/// the Origin check. A bad message gets an error reply and never closes the connection, except
/// before authentication, where anything but a valid `hello` closes it.
class ApiSession : public QObject {
    Q_OBJECT
public:
    ApiSession(ApiServer& server, QWebSocket* socket, QObject* parent = nullptr);
    ~ApiSession() override;

    bool isAuthenticated() const { return m_authenticated; }
    bool owns(engine::RequestId id) const { return m_requests.contains(id); }
    QList<engine::RequestId> requestIds() const { return m_requests.keys(); }

    /// Routed here by the server for this session's requests.
    void deliverToken(const engine::TokenEvent& event);
    void deliverFinished(const engine::GenerationResult& result);
    /// Sends a telemetry event if subscribed to `topic`; dropped (and counted) when the client
    /// has more than sendBufferLimit bytes unread. The next delivered event says how many
    /// were dropped in its `dropped` field.
    void deliverTelemetry(int topic, const QJsonObject& event);
    bool wantsTopic(int topic) const { return (m_topics & topic) != 0; }

    /// Closes the connection with a close code (requests are cancelled by the server).
    void closeWith(QWebSocketProtocol::CloseCode code, const QString& reason);
    /// Forgets every request without replying (the server cancels them).
    void dropRequests() { m_requests.clear(); }

private:
    struct ActiveRequest {
        QJsonValue clientId;
        bool stream = true;
    };

    void checkHandshake();
    void onText(const QString& text);
    void onBinary(const QByteArray& data);
    void onUnauthenticated(const DecodeResult& decoded);
    void dispatch(const ClientMessage& message);
    void handleHello(const ClientMessage& message);
    void handleGenerate(const ClientMessage& message);
    void handleCancel(const ClientMessage& message);
    void handleSetPriority(const ClientMessage& message);
    void handleSnapshotQuery(const ClientMessage& message);
    void handleSubscribe(const ClientMessage& message, bool subscribe);
    void sendMetrics();
    bool takeRateToken();
    void send(const QJsonObject& message);
    void sendError(const QJsonValue& id, ApiErrorCode code, const QString& message);

    ApiServer& m_server;
    QWebSocket* m_socket;
    bool m_authenticated = false;
    bool m_closing = false;
    int m_badHellos = 0;
    QHash<engine::RequestId, ActiveRequest> m_requests;
    int m_topics = 0;
    qint64 m_dropped = 0;
    QTimer m_metricsTimer;
    QTimer m_authTimer;
    double m_bucket = 0;
    QElapsedTimer m_bucketClock;
};

}  // namespace batchscope::app::api
