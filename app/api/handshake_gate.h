// Checks a WebSocket upgrade request's HTTP head before Qt answers it.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QByteArray>
#include <QObject>
#include <QString>
#include <QTimer>
#include <functional>

class QTcpSocket;

namespace batchscope::app::api {

/// Owns one freshly accepted socket until its request head (up to the blank line) has arrived,
/// reading it with peek() so the bytes stay for the WebSocket server. A Host header that the
/// predicate refuses (DNS rebinding: a browser page on evil.example resolving to 127.0.0.1)
/// gets "403 Forbidden" and the connection closes before any upgrade; so do heads over
/// kMaxHeadBytes ("431") and heads not complete within timeoutMs. Otherwise `accept` receives
/// the socket. Deletes itself when done. Threading: the socket's (GUI/main) thread.
class HandshakeGate : public QObject {
    Q_OBJECT
public:
    static constexpr qsizetype kMaxHeadBytes = 16 * 1024;

    static void start(QTcpSocket* socket, std::function<bool(const QString& host)> hostAllowed,
                      std::function<void(QTcpSocket*)> accept, int timeoutMs = 10000);

    /// The Host header's value in an HTTP request head ("" if absent); case-insensitive name.
    static QString hostHeader(const QByteArray& head);

private:
    HandshakeGate(QTcpSocket* socket, std::function<bool(const QString&)> hostAllowed,
                  std::function<void(QTcpSocket*)> accept, int timeoutMs);
    void onReadyRead();
    void refuse(const QByteArray& status, const QString& reason);

    QTcpSocket* m_socket;
    std::function<bool(const QString&)> m_hostAllowed;
    std::function<void(QTcpSocket*)> m_accept;
    QTimer m_timeout;
};

}  // namespace batchscope::app::api
