// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/api_server.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketCorsAuthenticator>
#include <QWebSocketServer>
#include <QtDebug>
#include <algorithm>

#include "app/api/api_session.h"
#include "app/api/handshake_gate.h"

namespace batchscope::app::api {

ApiServer::ApiServer(EngineBridge& bridge, ApiServerOptions options, QObject* parent)
    : QObject(parent), m_bridge(bridge), m_options(std::move(options)) {
    connect(&m_bridge, &EngineBridge::tokensGenerated, this, &ApiServer::onTokens);
    connect(&m_bridge, &EngineBridge::requestFinished, this, &ApiServer::onFinished);
    connect(&m_bridge, &EngineBridge::snapshotUpdated, this, &ApiServer::onSnapshot);
}

ApiServer::~ApiServer() { close(); }

bool ApiServer::listen(QString* error) {
    auto fail = [error](const QString& message) {
        if (error) *error = message;
        return false;
    };
    if (isListening()) return fail(QStringLiteral("the API server is already listening"));
    if (m_options.token.isEmpty())
        return fail(QStringLiteral("the API server needs an access token"));
    QString message;
    if (!m_options.host.isNull()) {
        if (!m_options.host.isLoopback())
            qWarning().noquote() << "API server listening on" << m_options.host.toString()
                                 << "- reachable from other machines; only the access token "
                                    "protects it and traffic is not encrypted";
        if (!listenOn(m_options.host, m_options.port, &message)) return fail(message);
        return true;
    }
    if (!listenOn(QHostAddress(QHostAddress::LocalHost), m_options.port, &message))
        return fail(message);
    // Same port on ::1; a machine without IPv6 loopback keeps the IPv4 listener only.
    if (!listenOn(QHostAddress(QHostAddress::LocalHostIPv6), port(), &message))
        qInfo().noquote() << "API server: not listening on ::1:" << message;
    return true;
}

bool ApiServer::listenOn(const QHostAddress& address, quint16 port, QString* error) {
    // Our own QTcpServer hands sockets to a non-listening QWebSocketServer, so every socket
    // gets TCP_NODELAY first: without it Nagle's algorithm and delayed ACKs hold small token
    // frames back for ~40 ms.
    auto* tcp = new QTcpServer(this);
    auto* server = new QWebSocketServer(QStringLiteral("batchscope"),
                                        QWebSocketServer::NonSecureMode, tcp);
    server->setMaxPendingConnections(m_options.maxConnections);
    tcp->setMaxPendingConnections(m_options.maxConnections);
    // Qt listens with a backlog of 50: a burst of more connections at once (100 clients
    // starting together) overflows it, the kernel drops their SYNs and the clients retry only
    // after 1 s. Room for every allowed connection (the kernel caps it at somaxconn).
    tcp->setListenBacklogSize(std::max(50, m_options.maxConnections));
    connect(server, &QWebSocketServer::originAuthenticationRequired, this,
            &ApiServer::onOriginCheck, Qt::DirectConnection);
    connect(server, &QWebSocketServer::newConnection, this, [this, server] { onNewConnection(server); });
    // The Host check runs on the raw request head, so a refused client gets an HTTP 403 and
    // never an upgrade (QWebSocketServer only exposes the headers after answering 101).
    connect(tcp, &QTcpServer::newConnection, server, [this, tcp, server] {
        while (QTcpSocket* socket = tcp->nextPendingConnection()) {
            socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
            const QPointer<QWebSocketServer> target = server;
            HandshakeGate::start(
                socket, [this](const QString& host) { return checkHost(host); },
                [target](QTcpSocket* accepted) {
                    if (target) {
                        target->handleConnection(accepted);
                    } else {
                        accepted->deleteLater();
                    }
                },
                m_options.authTimeoutMs);
        }
    });
    if (!tcp->listen(address, port)) {
        *error = QStringLiteral("cannot listen on %1 port %2: %3")
                     .arg(address.toString()).arg(port).arg(tcp->errorString());
        delete tcp;
        return false;
    }
    m_servers.append(tcp);
    return true;
}

void ApiServer::close() {
    for (QTcpServer* server : std::as_const(m_servers)) server->close();
    qDeleteAll(m_servers);
    m_servers.clear();
    const QList<ApiSession*> sessions = m_sessions;
    m_sessions.clear();
    for (ApiSession* session : sessions) {
        cancelRequestsOf(session);
        delete session;
    }
}

bool ApiServer::isListening() const { return !m_servers.isEmpty(); }

quint16 ApiServer::port() const { return m_servers.isEmpty() ? 0 : m_servers.first()->serverPort(); }

QUrl ApiServer::url() const {
    if (m_servers.isEmpty()) return {};
    QUrl url;
    url.setScheme(QStringLiteral("ws"));
    url.setHost(m_servers.first()->serverAddress().toString());
    url.setPort(port());
    url.setPath(QStringLiteral("/"));
    return url;
}

void ApiServer::onOriginCheck(QWebSocketCorsAuthenticator* authenticator) const {
    const bool allowed = originAllowed(authenticator->origin(), m_options);
    if (!allowed) qInfo().noquote() << "API server: refused browser origin" << authenticator->origin().left(200);
    authenticator->setAllowed(allowed);
}

bool ApiServer::originAllowed(const QString& originHeader, const ApiServerOptions& options) {
    // No Origin header: a non-browser client. A browser page must be on the allow list.
    QString origin = originHeader.trimmed();
    if (origin.isEmpty()) return true;
    while (origin.endsWith(QLatin1Char('/'))) origin.chop(1);
    for (QString candidate : options.allowedOrigins) {
        while (candidate.endsWith(QLatin1Char('/'))) candidate.chop(1);
        if (candidate.compare(origin, Qt::CaseInsensitive) == 0) return true;
    }
    return false;
}

bool ApiServer::hostAllowed(const QString& hostHeader, const ApiServerOptions& options) {
    QString host = hostHeader.trimmed().toLower();
    if (host.startsWith(QLatin1Char('['))) {
        host = host.mid(1, host.indexOf(QLatin1Char(']')) - 1);
    } else if (host.count(QLatin1Char(':')) == 1) {
        host = host.left(host.indexOf(QLatin1Char(':')));
    }
    if (host.isEmpty()) return false;
    if (host == QLatin1String("localhost") || host == QLatin1String("127.0.0.1") ||
        host == QLatin1String("::1"))
        return true;
    if (!options.host.isNull() && QHostAddress(host) == options.host) return true;
    for (const QString& allowed : options.allowedHosts)
        if (allowed.compare(host, Qt::CaseInsensitive) == 0) return true;
    return false;
}

void ApiServer::onNewConnection(QWebSocketServer* server) {
    while (server->hasPendingConnections()) {
        QWebSocket* socket = server->nextPendingConnection();
        if (m_sessions.size() >= m_options.maxConnections) {
            socket->setParent(this);  // freed on disconnect, or with the server at the latest
            socket->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("too many connections"));
            connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
            continue;
        }
        m_sessions.append(new ApiSession(*this, socket, this));
    }
}

DecodeLimits ApiServer::decodeLimits() const {
    DecodeLimits limits;
    limits.contextLength = m_bridge.hasEngine() ? m_bridge.engine()->maxSequenceLength() : 0;
    limits.maxPromptBytes = m_options.maxMessageBytes;
    return limits;
}

ServerInfo ApiServer::serverInfo() const {
    ServerInfo info;
    info.version = QStringLiteral(BATCHSCOPE_VERSION);
    if (m_bridge.hasEngine()) {
        info.modelName = QString::fromStdString(m_bridge.engine()->modelInfo().name);
        info.contextLength = m_bridge.engine()->maxSequenceLength();
    }
    info.maxMessageBytes = m_options.maxMessageBytes;
    info.maxRequestsPerConnection = m_options.maxRequestsPerConnection;
    info.ratePerSecond = m_options.ratePerSecond;
    info.burst = m_options.burst;
    return info;
}

ApiServer::Submitted ApiServer::submit(ApiSession* session, const GenerateMessage& message) {
    Submitted out;
    if (!m_bridge.hasEngine()) {
        out.error = ApiError{ApiErrorCode::Internal, QStringLiteral("no model is loaded")};
        return out;
    }
    if (m_owners.size() >= m_options.maxRequestsTotal) {
        out.error = ApiError{ApiErrorCode::QueueFull,
                             QStringLiteral("the server has %1 requests in flight (the limit)")
                                 .arg(m_options.maxRequestsTotal)};
        return out;
    }
    auto submitted = message.chat ? m_bridge.submitChat(message.messages, message.options)
                                  : m_bridge.submit(message.prompt, message.options);
    if (!submitted) {
        const engine::Error& e = submitted.error();
        out.error = ApiError{apiErrorFromEngine(e.code), QString::fromStdString(e.message)};
        return out;
    }
    out.id = submitted.value();
    m_owners.insert(out.id, session);
    // An estimate: waiting requests of at least this priority in the latest snapshot, plus
    // everything submitted since that snapshot.
    int ahead = m_submittedSinceSnapshot++;
    if (const SnapshotPtr snapshot = m_bridge.latestSnapshot())
        for (const auto& r : snapshot->requests)
            if ((r.state == engine::RequestState::Queued || r.state == engine::RequestState::Preempted) &&
                r.priority >= message.options.priority)
                ++ahead;
    out.queuePosition = ahead;
    return out;
}

void ApiServer::cancelRequestsOf(ApiSession* session) {
    for (engine::RequestId id : session->requestIds()) {
        m_owners.remove(id);
        m_bridge.cancel(id);
    }
    session->dropRequests();
}

void ApiServer::releaseSession(ApiSession* session) {
    cancelRequestsOf(session);
    if (m_sessions.removeOne(session)) session->deleteLater();
}

void ApiServer::onTokens(const QVector<engine::TokenEvent>& events) {
    for (const engine::TokenEvent& event : events)
        if (ApiSession* session = m_owners.value(event.id)) session->deliverToken(event);
}

void ApiServer::onFinished(const engine::GenerationResult& result) {
    const auto it = m_owners.find(result.id);
    if (it == m_owners.end()) return;
    const QPointer<ApiSession> session = it.value();
    m_owners.erase(it);
    if (session) session->deliverFinished(result);
}

void ApiServer::onSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot) return;
    bool wantSteps = false, wantRequests = false, wantBlocks = false;
    for (const ApiSession* s : std::as_const(m_sessions)) {
        wantSteps = wantSteps || s->wantsTopic(TopicSteps);
        wantRequests = wantRequests || s->wantsTopic(TopicRequests);
        wantBlocks = wantBlocks || s->wantsTopic(TopicKvBlocks);
    }
    const QList<ApiSession*> sessions = m_sessions;  // a slow client may close while we send
    if (wantSteps && !snapshot->steps.empty()) {
        const QJsonObject event = makeStepsEvent(snapshot->steps);
        for (ApiSession* s : sessions) s->deliverTelemetry(TopicSteps, event);
    }
    if (wantRequests) {
        const auto changes = diffRequestStates(m_previousSnapshot.get(), *snapshot);
        if (!changes.empty()) {
            const QJsonObject event = makeRequestChangesEvent(snapshot->timeMs, changes);
            for (ApiSession* s : sessions) s->deliverTelemetry(TopicRequests, event);
        }
    }
    // The block map only when it changed and at most every 100 ms: it is the largest event.
    if (wantBlocks && (!m_blocksSent.isValid() || m_blocksSent.elapsed() >= 100) &&
        !sameBlocks(m_sentBlocks, snapshot->blocks)) {
        m_blocksSent.start();
        m_sentBlocks = snapshot->blocks;
        const QJsonObject event = makeKvBlocksEvent(*snapshot);
        for (ApiSession* s : sessions) s->deliverTelemetry(TopicKvBlocks, event);
    }
    m_previousSnapshot = snapshot;
    m_submittedSinceSnapshot = 0;
}

}  // namespace batchscope::app::api
