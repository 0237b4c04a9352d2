// Raw HTTP/1.1 client helpers and the HTTP harness for the HTTP API tests: one exchange per
// connection on the test's thread (which spins the event loop, where the bridge delivers tokens).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

#include "api_test_harness.h"
#include "app/api/http_api_server.h"

namespace batchscope::app::api::test {


struct Reply {
    int status = 0;
    QByteArray head, body;  ///< body with chunked transfer coding removed
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString errorCode() const { return json().value("error").toObject().value("code").toString(); }
};

inline QByteArray dechunk(const QByteArray& raw) {
    QByteArray out;
    qsizetype pos = 0;
    while (pos < raw.size()) {
        const qsizetype eol = raw.indexOf("\r\n", pos);
        if (eol < 0) break;
        bool ok = false;
        const qsizetype n = raw.mid(pos, eol - pos).trimmed().toLongLong(&ok, 16);
        if (!ok || n == 0) break;
        out += raw.mid(eol + 2, n);
        pos = eol + 2 + n + 2;
    }
    return out;
}

/// One raw HTTP/1.1 exchange with "Connection: close"; spins the event loop (the bridge
/// delivers tokens on this thread) until the server closes.
inline Reply exchange(quint16 port, const QByteArray& method, const QByteArray& path, const QByteArray& body = {},
               QList<QByteArray> headers = {"Authorization: Bearer " + kToken.toUtf8()},
               const QByteArray& host = "127.0.0.1") {
    QTcpSocket socket;
    QByteArray raw;
    QObject::connect(&socket, &QTcpSocket::readyRead, [&] { raw += socket.readAll(); });
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000)) return {};
    QByteArray request = method + ' ' + path + " HTTP/1.1\r\n";
    if (!host.isEmpty()) request += "Host: " + host + "\r\n";
    for (const QByteArray& h : headers) request += h + "\r\n";
    if (!body.isEmpty() || method == "POST")
        request += "Content-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n";
    request += "Connection: close\r\n\r\n" + body;
    socket.write(request);
    if (!QTest::qWaitFor([&] { return socket.state() == QAbstractSocket::UnconnectedState; }, 20000))
        qWarning("the server did not close the connection within 20 s");
    raw += socket.readAll();
    Reply reply;
    const qsizetype split = raw.indexOf("\r\n\r\n");
    reply.head = raw.left(split);
    reply.status = raw.mid(9, 3).toInt();
    const QByteArray rest = raw.mid(split + 4);
    reply.body = reply.head.toLower().contains("transfer-encoding: chunked") ? dechunk(rest) : rest;
    return reply;
}

struct HttpHarness : Harness {
    explicit HttpHarness(HttpApiOptions options = {}, const HarnessConfig& c = config()) : Harness(c) {
        http = std::make_unique<HttpApiServer>(bridge, c.server, options);
        QString error;
        if (!http->listen(&error)) qFatal("http listen: %s", qPrintable(error));
    }
    ~HttpHarness() { http.reset(); }
    static HarnessConfig config() {
        HarnessConfig c;
        c.server.allowedOrigins = {"http://localhost:5173"};
        return c;
    }
    QString model() const { return QString::fromStdString(bridge.engine()->modelInfo().name); }
    std::unique_ptr<HttpApiServer> http;
};

}  // namespace batchscope::app::api::test
