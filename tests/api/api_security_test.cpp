// The live API server's security: access token (header and hello), browser Origin, Host
// header (DNS rebinding), loopback binding, connection limits, clients that do not read.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QTcpSocket>
#include <QtTest>

#include "app/api/handshake_gate.h"
#include "tests/api/api_test_harness.h"

using namespace batchscope;
using namespace batchscope::app::api;
using namespace batchscope::app::api::test;

namespace {

/// Sends a raw HTTP upgrade; returns the socket once the server has answered.
std::unique_ptr<QTcpSocket> rawHandshake(quint16 port, const QByteArray& host, const QByteArray& extra) {
    auto socket = std::make_unique<QTcpSocket>();
    socket->connectToHost(QHostAddress::LocalHost, port);
    if (!socket->waitForConnected(5000)) return nullptr;
    socket->write("GET / HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
                  extra + "\r\n");
    return socket;
}

/// A masked (zero key) client text frame.
QByteArray clientFrame(const QByteArray& payload) {
    QByteArray f;
    f.append(char(0x81));
    f.append(char(0x80 | payload.size()));
    f.append(QByteArray(4, '\0'));
    return f + payload;
}

}  // namespace

class ApiSecurityTest : public QObject {
    Q_OBJECT
private slots:
    void listensOnLoopbackByDefault() {
        Harness h;
        QVERIFY(h.server->port() != 0);
        QCOMPARE(h.server->url().host(), QStringLiteral("127.0.0.1"));
        ApiServerOptions noToken;
        ApiServer refused(h.bridge, noToken);
        QString error;
        QVERIFY(!refused.listen(&error));
        QVERIFY(error.contains("token"));
    }

    void helloThenPing() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url(), false));
        c.send({{"type", "hello"}, {"id", "h"}, {"protocol", "batchscope.v1"}, {"token", kToken}});
        const QJsonObject welcome = c.waitReply("welcome", "h");
        QCOMPARE(welcome.value("protocol").toString(), QStringLiteral("batchscope.v1"));
        QCOMPARE(welcome.value("limits").toObject().value("context_length").toInt(), 256);
        c.send({{"type", "ping"}, {"id", 5}});
        QVERIFY(!c.waitReply("pong", 5).isEmpty());
    }

    void bearerHeaderAuthenticates() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url(), true));
        c.send({{"type", "ping"}, {"id", 1}});
        QVERIFY(!c.waitReply("pong", 1).isEmpty());
    }

    void wrongBearerTokenClosed() {
        Harness h;
        Client c;
        c.open(h.server->url(), true, "wrong-token-wrong-token");
        QVERIFY(c.waitClosed());
        QCOMPARE(c.closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
        QVERIFY(c.waitFor([](const QJsonObject& m) { return m.value("code") == "unauthorized"; }, 100) >= 0);
    }

    void wrongHelloTokenClosed() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url(), false));
        c.send({{"type", "hello"}, {"id", "h"}, {"protocol", "batchscope.v1"}, {"token", "nope-nope-nope-nope"}});
        QCOMPARE(c.waitError("h").value("code").toString(), QStringLiteral("unauthorized"));
        QVERIFY(c.waitClosed());
    }

    void messageBeforeHelloClosed() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url(), false));
        c.send(generateMessage("g", "hello", 4));
        QCOMPARE(c.waitError("g").value("code").toString(), QStringLiteral("unauthorized"));
        QVERIFY(c.waitClosed());
        QCOMPARE(h.server->activeRequestCount(), 0);
        QVERIFY(h.results.isEmpty());  // never reached the engine
    }

    void helloWithoutTokenRefused() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url(), false));
        c.send({{"type", "hello"}, {"id", 1}, {"protocol", "batchscope.v1"}});
        QCOMPARE(c.waitError(1).value("code").toString(), QStringLiteral("unauthorized"));
        QVERIFY(c.waitClosed());
    }

    void browserOriginRefusedUnlessAllowed() {
        HarnessConfig config;
        config.server.allowedOrigins = {"http://localhost:5173"};
        Harness h(config);
        Client evil(QStringLiteral("http://evil.example"));
        QVERIFY(!evil.open(h.server->url()));
        auto raw = rawHandshake(h.server->port(), "127.0.0.1", "Origin: http://evil.example\r\n");
        QVERIFY(raw);
        QVERIFY(QTest::qWaitFor([&] { return raw->bytesAvailable() > 0; }, 10000));
        QVERIFY(raw->readAll().startsWith("HTTP/1.1 403"));
        Client good(QStringLiteral("http://localhost:5173"));
        QVERIFY(good.open(h.server->url()));
        good.send({{"type", "ping"}, {"id", 1}});
        QVERIFY(!good.waitReply("pong", 1).isEmpty());
    }

    void hostHeaderChecked() {
        Harness h;
        const QByteArray auth = "Authorization: Bearer " + kToken.toUtf8() + "\r\n";
        auto bad = rawHandshake(h.server->port(), "evil.example.com", auth);
        QVERIFY(bad);
        QVERIFY(QTest::qWaitFor([&] { return bad->state() == QAbstractSocket::UnconnectedState; }, 10000));
        const QByteArray badReply = bad->readAll();
        // Refused before any upgrade: an HTTP 403 naming the host, then the server closes.
        QVERIFY2(badReply.startsWith("HTTP/1.1 403"), badReply.constData());
        QVERIFY(badReply.contains("evil.example.com"));
        QVERIFY(!badReply.contains("101 Switching"));
        QCOMPARE(h.server->connectionCount(), 0);

        auto good = rawHandshake(h.server->port(), "localhost:" + QByteArray::number(h.server->port()), auth);
        QVERIFY(good);
        QVERIFY(QTest::qWaitFor([&] { return good->bytesAvailable() > 0; }, 10000));
        QVERIFY(good->readAll().startsWith("HTTP/1.1 101"));
        good->write(clientFrame(R"({"type":"ping","id":9})"));
        QVERIFY(QTest::qWaitFor([&] { return good->bytesAvailable() > 0; }, 10000));
        QVERIFY(good->readAll().contains("\"pong\""));
    }

    void oversizedOrIncompleteRequestHeadsAreRefused() {
        HarnessConfig config;
        config.server.authTimeoutMs = 300;
        Harness h(config);
        // A head over 16 KiB without its blank line: 431, closed.
        auto big = std::make_unique<QTcpSocket>();
        big->connectToHost(QHostAddress::LocalHost, h.server->port());
        QVERIFY(big->waitForConnected(5000));
        big->write("GET / HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + QByteArray(20000, 'a'));
        QVERIFY(QTest::qWaitFor([&] { return big->state() == QAbstractSocket::UnconnectedState; }, 10000));
        QVERIFY(big->readAll().startsWith("HTTP/1.1 431"));
        // A head that never completes: 408 after the timeout, closed.
        auto slow = std::make_unique<QTcpSocket>();
        slow->connectToHost(QHostAddress::LocalHost, h.server->port());
        QVERIFY(slow->waitForConnected(5000));
        slow->write("GET / HTTP/1.1\r\nHost: localhost\r\n");
        QVERIFY(QTest::qWaitFor([&] { return slow->state() == QAbstractSocket::UnconnectedState; }, 10000));
        QVERIFY(slow->readAll().startsWith("HTTP/1.1 408"));
        QCOMPARE(h.server->connectionCount(), 0);
    }

    void hostHeaderParsing() {
        QCOMPARE(HandshakeGate::hostHeader("GET / HTTP/1.1\r\nhOsT:  localhost:8080 \r\nX: y"),
                 QStringLiteral("localhost:8080"));
        QCOMPARE(HandshakeGate::hostHeader("GET / HTTP/1.1\r\nX-Host: a\r\n"), QString());
        QCOMPARE(HandshakeGate::hostHeader("GET / HTTP/1.1\r\nHost: [::1]:9\r\n"), QStringLiteral("[::1]:9"));
    }

    void unauthenticatedConnectionTimesOut() {
        HarnessConfig config;
        config.server.authTimeoutMs = 100;
        Harness h(config);
        Client c;
        QVERIFY(c.open(h.server->url(), false));
        QVERIFY(c.waitClosed());
        QCOMPARE(c.closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
    }

    void ipv6LoopbackServed() {
        Harness h;
        Client c;
        QUrl url = h.server->url();
        url.setHost(QStringLiteral("::1"));
        if (!c.open(url)) QSKIP("no IPv6 loopback on this machine");
        c.send({{"type", "ping"}, {"id", 6}});
        QVERIFY(!c.waitReply("pong", 6).isEmpty());
    }

    void connectionLimit() {
        HarnessConfig config;
        config.server.maxConnections = 2;
        Harness h(config);
        Client a, b, c;
        QVERIFY(a.open(h.server->url()));
        QVERIFY(b.open(h.server->url()));
        c.open(h.server->url());
        QVERIFY(c.waitClosed());
        QCOMPARE(c.closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
        a.send({{"type", "ping"}, {"id", 1}});
        QVERIFY(!a.waitReply("pong", 1).isEmpty());
    }

    void clientNotReadingIsDisconnected() {
        HarnessConfig config;
        config.server.hardSendBufferLimit = 0;  // any backlog counts as a client not reading
        Harness h(config);
        h.setPaused(true);
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage("g", "never mind", 4));
        QVERIFY(!c.waitReply("accepted", "g").isEmpty());
        for (int i = 0; i < 200; ++i) c.send({{"type", "ping"}, {"id", i}});
        QVERIFY(c.waitClosed());
        QCOMPARE(c.closeCode, int(QWebSocketProtocol::CloseCodePolicyViolated));
        QVERIFY(c.count("pong") < 200);
        // Its request was cancelled with the connection.
        QVERIFY(QTest::qWaitFor([&] { return h.results.size() == 1; }, 5000));
        QCOMPARE(h.results.begin()->finishReason, engine::FinishReason::Cancelled);
        QCOMPARE(h.server->activeRequestCount(), 0);
    }

    void helloAfterHeaderAuth() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send({{"type", "hello"}, {"id", "h"}, {"protocol", "batchscope.v1"}});
        QCOMPARE(c.waitReply("welcome", "h").value("protocol").toString(), QStringLiteral("batchscope.v1"));
    }

};

QTEST_GUILESS_MAIN(ApiSecurityTest)
#include "api_security_test.moc"
