// A small OpenAI-compatible HTTP server for tests (QTcpServer, or QSslServer for https after
// useTls(); HTTP/1.1, Connection: close): GET /metrics serves the recorded expositions in
// tests/api/data (PREFIX_1.prom, then PREFIX_2.prom for every later scrape; vLLM's by default), GET /v1/models one model, POST /v1/completions a stream of
// server-sent events: one chunk per token every 10 ms, then a usage chunk and [DONE]. A prompt
// containing "forever" streams until the client closes the connection.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QSslServer>
#include <QTcpServer>
#include <memory>
#include <QTcpSocket>
#include <QTimer>

namespace batchscope::test {

class FakeOpenAiServer : public QObject {
public:
    QString model = QStringLiteral("meta-llama/Llama-3.1-8B-Instruct");
    QString requiredToken;            ///< non-empty: other tokens get 401
    int scrapes = 0;
    QList<QJsonObject> completionBodies;
    int clientClosedMidStream = 0;    ///< streams the client closed before [DONE]
    QByteArray metricsPrefix = "vllm_metrics";  ///< tests/api/data/PREFIX_{1,2}.prom

    /// Before listen(): serve https with this certificate and key.
    void useTls(const QSslConfiguration& config) {
        auto ssl = std::make_unique<QSslServer>();
        ssl->setSslConfiguration(config);
        m_server = std::move(ssl);
    }
    bool listen(quint16 port = 0) {
        // A QSslServer queues a connection once its handshake is done (pendingConnectionAvailable).
        connect(m_server.get(), &QTcpServer::pendingConnectionAvailable, this, &FakeOpenAiServer::onConnection,
                Qt::UniqueConnection);
        return m_server->listen(QHostAddress::LocalHost, port);
    }
    quint16 port() const { return m_server->serverPort(); }
    /// Stops listening and drops every open connection (the server "goes away").
    void shutDown() {
        m_server->close();
        for (const QPointer<QTcpSocket>& s : m_sockets)
            if (s) s->abort();
        m_sockets.clear();
    }

private:
    static QByteArray fixture(const QByteArray& name) {
        QFile f(qEnvironmentVariable("BATCHSCOPE_SOURCE_DIR") + "/tests/api/data/" + name);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }

    void onConnection() {
        while (QTcpSocket* s = m_server->nextPendingConnection()) {
            m_sockets.append(s);
            auto* buffer = new QByteArray;
            connect(s, &QObject::destroyed, [buffer] { delete buffer; });
            connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            connect(s, &QTcpSocket::readyRead, this, [this, s, buffer] {
                *buffer += s->readAll();
                const int headEnd = buffer->indexOf("\r\n\r\n");
                if (headEnd < 0 || s->property("handled").toBool()) return;
                const QByteArray head = buffer->left(headEnd);
                qsizetype length = 0;
                QByteArray auth;
                for (const QByteArray& line : head.split('\n')) {
                    const QByteArray l = line.trimmed();
                    if (l.toLower().startsWith("content-length:")) length = l.mid(15).trimmed().toLongLong();
                    if (l.toLower().startsWith("authorization:")) auth = l.mid(14).trimmed();
                }
                if (buffer->size() < headEnd + 4 + length) return;
                s->setProperty("handled", true);
                const QList<QByteArray> requestLine = head.left(head.indexOf('\r')).split(' ');
                respond(s, requestLine.value(0), requestLine.value(1), buffer->mid(headEnd + 4, length), auth);
            });
        }
    }

    void reply(QTcpSocket* s, int status, const QByteArray& type, const QByteArray& body) {
        s->write("HTTP/1.1 " + QByteArray::number(status) + (status == 200 ? " OK" : " Error") +
                 "\r\nContent-Type: " + type + "\r\nContent-Length: " + QByteArray::number(body.size()) +
                 "\r\nConnection: close\r\n\r\n" + body);
        s->disconnectFromHost();
    }

    void respond(QTcpSocket* s, const QByteArray& method, const QByteArray& path, const QByteArray& body,
                 const QByteArray& auth) {
        if (!requiredToken.isEmpty() && auth != "Bearer " + requiredToken.toUtf8())
            return reply(s, 401, "application/json", R"({"error":{"message":"Unauthorized","type":"invalid_request_error","param":null,"code":null}})");
        if (method == "GET" && path == "/metrics") {
            ++scrapes;
            return reply(s, 200, "text/plain; version=0.0.4; charset=utf-8",
                         fixture(metricsPrefix + (scrapes == 1 ? "_1.prom" : "_2.prom")));
        }
        if (method == "GET" && path == "/v1/models")
            return reply(s, 200, "application/json",
                         R"({"object":"list","data":[{"id":")" + model.toUtf8() + R"(","object":"model","owned_by":"vllm"}]})");
        if (method == "POST" && path == "/v1/completions") return stream(s, QJsonDocument::fromJson(body).object());
        reply(s, 404, "application/json", R"({"error":{"message":"Not Found","type":"not_found"}})");
    }

    void stream(QTcpSocket* s, const QJsonObject& request) {
        completionBodies.append(request);
        s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                 "Connection: close\r\n\r\n");
        const bool endless = request.value("prompt").toString().contains("forever");
        const int tokens = request.value("max_tokens").toInt();
        auto* timer = new QTimer(s);
        auto* sent = new int(0);
        connect(timer, &QObject::destroyed, [sent] { delete sent; });
        connect(s, &QTcpSocket::disconnected, this, [this, sent, endless, tokens] {
            if (endless || *sent < tokens) ++clientClosedMidStream;
        });
        connect(timer, &QTimer::timeout, s, [s, timer, sent, endless, tokens] {
            if (s->state() != QAbstractSocket::ConnectedState) return timer->stop();
            const bool last = !endless && *sent == tokens - 1;
            const QByteArray chunk = R"({"id":"cmpl-1","object":"text_completion","created":1733042152,"model":"m","choices":[{"index":0,"text":" tok)" +
                                     QByteArray::number(*sent) + R"(","logprobs":null,"finish_reason":)" +
                                     (last ? QByteArray(R"("length")") : QByteArray("null")) + R"(,"stop_reason":null}],"usage":null})";
            s->write("data: " + chunk + "\n\n");
            ++*sent;
            if (!last) return;
            timer->stop();
            s->write(R"(data: {"id":"cmpl-1","object":"text_completion","created":1733042152,"model":"m","choices":[],"usage":{"prompt_tokens":5,"total_tokens":)" +
                     QByteArray::number(5 + tokens) + R"(,"completion_tokens":)" + QByteArray::number(tokens) + "}}\n\ndata: [DONE]\n\n");
            s->disconnectFromHost();
        });
        timer->start(10);
    }

    std::unique_ptr<QTcpServer> m_server = std::make_unique<QTcpServer>();
    QList<QPointer<QTcpSocket>> m_sockets;
};

}  // namespace batchscope::test
