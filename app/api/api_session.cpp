// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/api_session.h"

#include <QNetworkRequest>
#include <QRandomGenerator>
#include <QWebSocket>
#include <algorithm>

#include "app/api/api_server.h"

namespace batchscope::app::api {

ApiSession::ApiSession(ApiServer& server, QWebSocket* socket, QObject* parent)
    : QObject(parent), m_server(server), m_socket(socket) {
    m_socket->setParent(this);
    const quint64 hardLimit = quint64(m_server.options().maxMessageBytes) * 2 + 65536;
    m_socket->setMaxAllowedIncomingMessageSize(hardLimit);
    m_socket->setMaxAllowedIncomingFrameSize(hardLimit);
    m_bucket = m_server.options().burst;
    m_bucketClock.start();
    connect(m_socket, &QWebSocket::textMessageReceived, this, &ApiSession::onText);
    connect(m_socket, &QWebSocket::binaryMessageReceived, this, &ApiSession::onBinary);
    connect(m_socket, &QWebSocket::disconnected, this, [this] { m_server.releaseSession(this); });
    connect(&m_metricsTimer, &QTimer::timeout, this, &ApiSession::sendMetrics);
    m_authTimer.setSingleShot(true);
    connect(&m_authTimer, &QTimer::timeout, this, [this] {
        if (m_authenticated) return;
        sendError({}, ApiErrorCode::Unauthorized, QStringLiteral("no hello within %1 ms")
                                                      .arg(m_server.options().authTimeoutMs));
        closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("unauthorized"));
    });
    checkHandshake();
}

ApiSession::~ApiSession() { disconnect(m_socket, nullptr, this, nullptr); }

void ApiSession::checkHandshake() {
    const QNetworkRequest request = m_socket->request();
    if (!m_server.checkHost(QString::fromLatin1(request.rawHeader("Host")))) {
        closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("host not allowed"));
        return;
    }
    const QByteArray authorization = request.rawHeader("Authorization").trimmed();
    if (authorization.isEmpty()) {
        m_authTimer.start(m_server.options().authTimeoutMs);
        return;
    }
    const QByteArray scheme = authorization.left(7);
    const QByteArray given = authorization.mid(7).trimmed();
    if (scheme.compare("bearer ", Qt::CaseInsensitive) == 0 &&
        constantTimeEquals(given, m_server.options().token.toUtf8())) {
        m_authenticated = true;
        return;
    }
    sendError({}, ApiErrorCode::Unauthorized, QStringLiteral("wrong access token"));
    closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("unauthorized"));
}

bool ApiSession::takeRateToken() {
    const auto& o = m_server.options();
    const double elapsed = double(m_bucketClock.restart()) / 1000.0;
    m_bucket = std::min(o.burst, m_bucket + elapsed * o.ratePerSecond);
    if (m_bucket < 1.0) return false;
    m_bucket -= 1.0;
    return true;
}

void ApiSession::onText(const QString& text) {
    if (m_closing) return;
    const QByteArray frame = text.toUtf8();
    const qint64 limit = m_server.options().maxMessageBytes;
    if (frame.size() > limit) {
        if (!m_authenticated) {
            onUnauthenticated(DecodeResult{});  // not a hello: unauthorized, closed
            return;
        }
        takeRateToken();
        sendError({}, ApiErrorCode::InvalidRequest,
                  QStringLiteral("message: %1 bytes exceeds the limit of %2 bytes")
                      .arg(frame.size()).arg(limit));
        return;
    }
    const DecodeResult decoded = decodeClientMessage(frame, m_server.decodeLimits());
    if (!takeRateToken()) {
        sendError(decoded.id, ApiErrorCode::RateLimited,
                  QStringLiteral("more than %1 messages per second (burst %2); slow down")
                      .arg(m_server.options().ratePerSecond).arg(m_server.options().burst));
        return;
    }
    if (!m_authenticated) {
        onUnauthenticated(decoded);
        return;
    }
    if (!decoded.ok()) {
        sendError(decoded.id, decoded.error->code, decoded.error->message);
        return;
    }
    dispatch(decoded.message);
}

void ApiSession::onBinary(const QByteArray&) {
    if (m_closing) return;
    if (!m_authenticated) {
        sendError({}, ApiErrorCode::Unauthorized, QStringLiteral("send hello first"));
        closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("unauthorized"));
        return;
    }
    if (!takeRateToken()) {
        sendError({}, ApiErrorCode::RateLimited, QStringLiteral("too many messages; slow down"));
        return;
    }
    sendError({}, ApiErrorCode::InvalidRequest,
              QStringLiteral("message: binary frames are not supported; send JSON text frames"));
}

void ApiSession::onUnauthenticated(const DecodeResult& decoded) {
    if (decoded.ok() && decoded.message.type == MessageType::Hello) {
        handleHello(decoded.message);
        return;
    }
    // A malformed hello gets its validation error; three of them and the client is gone.
    if (!decoded.ok() && decoded.message.type == MessageType::Hello &&
        decoded.error->code == ApiErrorCode::InvalidRequest && ++m_badHellos < 3) {
        sendError(decoded.id, decoded.error->code, decoded.error->message);
        return;
    }
    sendError(decoded.id, ApiErrorCode::Unauthorized,
              QStringLiteral("authenticate first: send hello with the access token, or "
                             "'Authorization: Bearer <token>' on the handshake"));
    closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("unauthorized"));
}

void ApiSession::dispatch(const ClientMessage& m) {
    switch (m.type) {
    case MessageType::Hello: handleHello(m); break;
    case MessageType::Generate:
    case MessageType::Chat: handleGenerate(m); break;
    case MessageType::Cancel: handleCancel(m); break;
    case MessageType::SetPriority: handleSetPriority(m); break;
    case MessageType::ListRequests:
    case MessageType::GetStats:
    case MessageType::GetModel: handleSnapshotQuery(m); break;
    case MessageType::Ping: send(makePong(m.id)); break;
    case MessageType::Subscribe: handleSubscribe(m, true); break;
    case MessageType::Unsubscribe: handleSubscribe(m, false); break;
    }
}

void ApiSession::handleHello(const ClientMessage& m) {
    const QString& token = m.hello.token;
    if (token.isEmpty() && !m_authenticated) {
        sendError(m.id, ApiErrorCode::Unauthorized, QStringLiteral("hello: token is required"));
        closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("unauthorized"));
        return;
    }
    if (!token.isEmpty() && !constantTimeEquals(token.toUtf8(), m_server.options().token.toUtf8())) {
        sendError(m.id, ApiErrorCode::Unauthorized, QStringLiteral("wrong access token"));
        closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("unauthorized"));
        return;
    }
    m_authenticated = true;
    m_authTimer.stop();
    send(makeWelcome(m.id, m_server.serverInfo()));
}

void ApiSession::handleGenerate(const ClientMessage& m) {
    const int limit = m_server.options().maxRequestsPerConnection;
    if (m_requests.size() >= limit) {
        sendError(m.id, ApiErrorCode::QueueFull,
                  QStringLiteral("this connection has %1 requests in flight (the limit)").arg(limit));
        return;
    }
    GenerateMessage g = m.generate;
    if (!g.seedGiven)  // distinct samples by default; stays below 2^53 so it can be reported
        g.options.sampling.seed = QRandomGenerator::global()->generate64() & ((1ULL << 53) - 1);
    const ApiServer::Submitted s = m_server.submit(this, g);
    if (s.error) {
        sendError(m.id, s.error->code, s.error->message);
        return;
    }
    m_requests.insert(s.id, ActiveRequest{m.id, g.stream});
    send(makeAccepted(m.id, s.id, s.queuePosition));
}

void ApiSession::handleCancel(const ClientMessage& m) {
    if (!m_requests.contains(m.requestId)) {
        sendError(m.id, ApiErrorCode::NotFound,
                  QStringLiteral("request_id: no request %1 in flight on this connection").arg(m.requestId));
        return;
    }
    if (!m_server.bridge().cancel(m.requestId)) {
        sendError(m.id, ApiErrorCode::NotFound,
                  QStringLiteral("request_id: request %1 has already finished").arg(m.requestId));
        return;
    }
    send(makeCancelOk(m.id, m.requestId));
}

void ApiSession::handleSetPriority(const ClientMessage& m) {
    if (!m_requests.contains(m.requestId) || !m_server.bridge().setPriority(m.requestId, m.priority)) {
        sendError(m.id, ApiErrorCode::NotFound,
                  QStringLiteral("request_id: no request %1 in flight on this connection").arg(m.requestId));
        return;
    }
    send(makePrioritySet(m.id, m.requestId, m.priority));
}

void ApiSession::handleSnapshotQuery(const ClientMessage& m) {
    EngineBridge& bridge = m_server.bridge();
    if (!bridge.hasEngine()) {
        sendError(m.id, ApiErrorCode::Internal, QStringLiteral("no model is loaded"));
        return;
    }
    if (m.type == MessageType::GetModel) {
        send(makeModel(m.id, bridge.engine()->modelInfo()));
        return;
    }
    if (!bridge.latestSnapshot()) bridge.publishSnapshot();
    const SnapshotPtr snapshot = bridge.latestSnapshot();
    if (!snapshot) {
        sendError(m.id, ApiErrorCode::Internal, QStringLiteral("no scheduler snapshot available yet"));
        return;
    }
    if (m.type == MessageType::GetStats) {
        send(makeStats(m.id, *snapshot));
        return;
    }
    send(makeRequestList(m.id, *snapshot, [this](engine::RequestId id) { return owns(id); }));
}

void ApiSession::handleSubscribe(const ClientMessage& m, bool subscribe) {
    const int topics = m.subscribe.topics == 0 ? kAllTopics : m.subscribe.topics;
    if (subscribe) {
        m_topics |= topics;
        if (topics & TopicMetrics) m_metricsTimer.start(m.subscribe.intervalMs);
        if (topics & TopicKvBlocks) m_server.resendBlocks();  // a new subscriber needs the whole map
    } else {
        m_topics &= ~topics;
        if (topics & TopicMetrics) m_metricsTimer.stop();
    }
    send(makeSubscribed(m.id, m_topics, m_metricsTimer.interval(), subscribe));
}

void ApiSession::sendMetrics() {
    if (const SnapshotPtr snapshot = m_server.bridge().latestSnapshot())
        deliverTelemetry(TopicMetrics, makeMetricsEvent(*snapshot));
}

void ApiSession::deliverToken(const engine::TokenEvent& event) {
    const auto it = m_requests.constFind(event.id);
    if (it == m_requests.constEnd() || !it->stream) return;
    send(makeToken(it->clientId, event));
}

void ApiSession::deliverFinished(const engine::GenerationResult& result) {
    const auto it = m_requests.constFind(result.id);
    if (it == m_requests.constEnd()) return;
    const QJsonValue clientId = it->clientId;
    m_requests.erase(it);
    send(makeDone(clientId, result));
}

void ApiSession::deliverTelemetry(int topic, const QJsonObject& event) {
    if (!(m_topics & topic) || m_closing) return;
    if (m_socket->bytesToWrite() > m_server.options().sendBufferLimit) {
        ++m_dropped;
        m_server.countDropped();
        return;
    }
    if (m_dropped == 0) {
        send(event);
        return;
    }
    QJsonObject withCount = event;
    withCount.insert(QStringLiteral("dropped"), m_dropped);
    m_dropped = 0;
    send(withCount);
}

void ApiSession::send(const QJsonObject& message) {
    if (m_closing) return;
    if (m_socket->bytesToWrite() > m_server.options().hardSendBufferLimit) {
        closeWith(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("client is not reading"));
        return;
    }
    m_socket->sendTextMessage(toFrame(message));
}

void ApiSession::sendError(const QJsonValue& id, ApiErrorCode code, const QString& message) {
    send(makeError(id, code, message));
}

void ApiSession::closeWith(QWebSocketProtocol::CloseCode code, const QString& reason) {
    if (m_closing) return;
    m_closing = true;
    m_metricsTimer.stop();
    m_authTimer.stop();
    m_socket->close(code, reason);
    // The requests go now, not when the peer acknowledges the close.
    m_server.cancelRequestsOf(this);
}

}  // namespace batchscope::app::api
