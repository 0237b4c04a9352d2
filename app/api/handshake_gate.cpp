// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/handshake_gate.h"

#include <QTcpSocket>
#include <QtDebug>

namespace batchscope::app::api {

void HandshakeGate::start(QTcpSocket* socket, std::function<bool(const QString&)> hostAllowed,
                          std::function<void(QTcpSocket*)> accept, int timeoutMs) {
    auto* gate = new HandshakeGate(socket, std::move(hostAllowed), std::move(accept), timeoutMs);
    gate->onReadyRead();  // the head may have arrived with the connection
}

HandshakeGate::HandshakeGate(QTcpSocket* socket, std::function<bool(const QString&)> hostAllowed,
                             std::function<void(QTcpSocket*)> accept, int timeoutMs)
    : QObject(socket), m_socket(socket), m_hostAllowed(std::move(hostAllowed)), m_accept(std::move(accept)) {
    connect(socket, &QTcpSocket::readyRead, this, &HandshakeGate::onReadyRead);
    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        refuse("408 Request Timeout", QStringLiteral("no complete request head"));
    });
    m_timeout.start(timeoutMs);
}

QString HandshakeGate::hostHeader(const QByteArray& head) {
    for (const QByteArray& line : head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0) continue;
        if (line.left(colon).trimmed().compare("host", Qt::CaseInsensitive) == 0)
            return QString::fromLatin1(line.mid(colon + 1).trimmed());
    }
    return {};
}

void HandshakeGate::onReadyRead() {
    if (!m_socket) return;
    const QByteArray head = m_socket->peek(kMaxHeadBytes + 4);
    const qsizetype end = head.indexOf("\r\n\r\n");
    if (end < 0) {
        if (head.size() > kMaxHeadBytes) refuse("431 Request Header Fields Too Large", QStringLiteral("head too large"));
        return;  // wait for the rest
    }
    const QString host = hostHeader(head.left(end));
    if (!m_hostAllowed(host)) {
        refuse("403 Forbidden", QStringLiteral("Host '%1' is not allowed").arg(host.left(200)));
        return;
    }
    m_timeout.stop();
    disconnect(m_socket, nullptr, this, nullptr);
    // From here the WebSocket server owns the socket's lifetime.
    disconnect(m_socket, &QTcpSocket::disconnected, m_socket, &QObject::deleteLater);
    QTcpSocket* socket = m_socket;
    m_socket = nullptr;
    setParent(nullptr);
    deleteLater();
    m_accept(socket);
}

void HandshakeGate::refuse(const QByteArray& status, const QString& reason) {
    qInfo().noquote() << "API server: refused a connection before the upgrade:" << reason;
    const QByteArray body = reason.toUtf8() + "\n";
    m_socket->write("HTTP/1.1 " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                    QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
    m_timeout.stop();
    disconnect(m_socket, &QTcpSocket::readyRead, this, nullptr);
    m_socket->disconnectFromHost();  // flushes the reply, then closes (deleteLater on disconnected)
}

}  // namespace batchscope::app::api
