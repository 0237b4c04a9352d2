// The HTTP API's behaviour around live streams: a disconnect cancels within one step and frees
// its KV blocks; hostile requests and the rate limit are answered while another stream goes on
// untouched; `priority` reaches the priority queue; `stop` ends with finish_reason "stop";
// the parameters reach the engine's options.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

#include "app/api/openai_request.h"
#include "http_test_client.h"

using namespace batchscope;
using namespace batchscope::app;
using namespace batchscope::app::api;
using namespace batchscope::app::api::test;

namespace {

/// A request whose connection stays open while the test does other things.
struct OpenStream {
    QTcpSocket socket;
    QByteArray raw;
    explicit OpenStream(quint16 port, const QByteArray& body) {
        QObject::connect(&socket, &QTcpSocket::readyRead, [this] { raw += socket.readAll(); });
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(5000)) qWarning("stream: no connection");
        socket.write("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kToken.toUtf8() +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
                     "\r\nConnection: close\r\n\r\n" + body);
    }
    QByteArray body() const { return dechunk(raw.mid(raw.indexOf("\r\n\r\n") + 4)); }
    /// The engine's request id, from the first chunk's "cmpl-N".
    engine::RequestId id() const {
        const qsizetype at = raw.indexOf("\"id\":\"cmpl-");
        return at < 0 ? engine::kInvalidRequestId : raw.mid(at + 11, raw.indexOf('"', at + 11) - at - 11).toULongLong();
    }
    /// Concatenated text and the last finish_reason of the SSE body.
    std::pair<QString, QString> textAndFinish() const {
        QString text, finish;
        for (const QByteArray& line : body().split('\n')) {
            if (!line.startsWith("data: {")) continue;
            const QJsonObject c = QJsonDocument::fromJson(line.mid(6)).object().value("choices").toArray().at(0).toObject();
            text += c.value("text").toString();
            if (c.value("finish_reason").isString()) finish = c.value("finish_reason").toString();
        }
        return {text, finish};
    }
};

HarnessConfig slowSteps(double stepUs) {
    HarnessConfig c = HttpHarness::config();
    c.executor.stepOverheadUs = stepUs;
    return c;
}

}  // namespace

class HttpApiStreamsTest : public QObject {
    Q_OBJECT
private slots:
    void disconnectCancelsWithinOneStep();
    void hostileRequestsWhileStreaming();
    void rateLimitWhileStreaming();
    void streamLimitWhileStreaming();
    void priorityFeedsTheQueue();
    void stopStringFinishesWithStop();
    void parametersReachTheEngine();
};

void HttpApiStreamsTest::disconnectCancelsWithinOneStep() {
    HttpHarness h({}, slowSteps(100'000));  // 100 ms steps: one step is easy to tell apart
    QHash<engine::RequestId, int> delivered;  // tokens the bridge has handed on, per request
    connect(&h.bridge, &EngineBridge::tokensGenerated, this, [&](const QVector<engine::TokenEvent>& events) {
        for (const auto& e : events) ++delivered[e.id];
    });
    OpenStream s(h.http->port(), R"({"prompt": "a long story", "max_tokens": 60, "stream": true})");
    QTRY_VERIFY_WITH_TIMEOUT(s.raw.contains("\"text\":\"") && s.id() != engine::kInvalidRequestId, 10000);
    const engine::RequestId id = s.id();
    QTRY_VERIFY_WITH_TIMEOUT(delivered.value(id) >= 2, 10000);
    // Let the last token's bytes arrive and be read (a third of a step), so that closing sends
    // a FIN, not a reset: the server must notice a plain close (it peeks before each write).
    QTest::qWait(30);
    const int atDisconnect = delivered.value(id);
    s.socket.abort();
    QTRY_VERIFY_WITH_TIMEOUT(h.results.contains(id), 10000);
    const engine::GenerationResult result = h.results.value(id);
    QCOMPARE(result.finishReason, engine::FinishReason::Cancelled);
    qInfo("tokens handed on at the disconnect: %d; generated when cancelled: %d", atDisconnect,
          result.usage.completionTokens);
    // The step running at the disconnect (its token is the write that fails) plus at most the
    // step already started when the cancel arrived.
    QVERIFY2(result.usage.completionTokens <= atDisconnect + 2,
             qPrintable(QStringLiteral("%1 tokens at disconnect, %2 at cancel").arg(atDisconnect).arg(result.usage.completionTokens)));
    QTRY_COMPARE_WITH_TIMEOUT(h.http->activeGenerations(), 0, 5000);
    h.bridge.publishSnapshot();
    QTRY_VERIFY_WITH_TIMEOUT(h.bridge.latestSnapshot() && h.bridge.latestSnapshot()->kv.usedBlocks == 0 &&
                                 h.bridge.latestSnapshot()->runningCount == 0, 5000);
}

void HttpApiStreamsTest::hostileRequestsWhileStreaming() {
    HttpApiOptions options;
    options.maxBodyBytes = 4096;
    options.readTimeoutMs = 500;
    options.ratePerSecond = 1000;
    options.burst = 1000;
    HttpHarness h(options, slowSteps(15'000));  // 200 tokens: >= 3 s of streaming
    OpenStream stream(h.http->port(), R"({"prompt": "go on", "max_tokens": 200, "stream": true})");
    QTRY_VERIFY_WITH_TIMEOUT(stream.body().contains("data: {"), 10000);
    const quint16 port = h.http->port();
    const QByteArray bearer = "Authorization: Bearer " + kToken.toUtf8();
    struct Case { const char* name; Reply reply; int status; const char* code; };
    std::vector<Case> cases;
    cases.push_back({"bad json", exchange(port, "POST", "/v1/completions", "{\"prompt\": "), 400, ""});
    cases.push_back({"wrong type", exchange(port, "POST", "/v1/completions", R"({"prompt": "a", "max_tokens": "9"})"), 400, ""});
    cases.push_back({"unsupported n", exchange(port, "POST", "/v1/completions", R"({"prompt": "a", "n": 3})"), 400, "unsupported_parameter"});
    cases.push_back({"huge body", exchange(port, "POST", "/v1/completions", R"({"prompt": ")" + QByteArray(64 * 1024, 'x') + "\"}"), 413, "request_too_large"});
    cases.push_back({"unknown path", exchange(port, "POST", "/v1/embeddings", "{}"), 404, "not_found"});
    cases.push_back({"no token", exchange(port, "GET", "/v1/models", {}, {}), 401, "invalid_api_key"});
    cases.push_back({"rebinding host", exchange(port, "GET", "/v1/models", {}, {bearer}, "attacker.example:8000"), 403, "host_not_allowed"});
    cases.push_back({"foreign origin", exchange(port, "GET", "/v1/models", {}, {bearer, "Origin: https://evil.example"}), 403, "origin_not_allowed"});
    {
        // Slow body: the head says 200 bytes, 20 arrive, then nothing.
        QTcpSocket slow;
        QByteArray raw;
        connect(&slow, &QTcpSocket::readyRead, this, [&] { raw += slow.readAll(); });
        slow.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(slow.waitForConnected(5000));
        slow.write("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\n" + bearer +
                   "\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"prompt\": \"slowly..");
        QTRY_VERIFY_WITH_TIMEOUT(slow.state() == QAbstractSocket::UnconnectedState || raw.contains("\r\n\r\n{"), 10000);
        Reply r;
        r.status = raw.mid(9, 3).toInt();
        r.body = raw.mid(raw.indexOf("\r\n\r\n") + 4);
        cases.push_back({"slow body", r, 408, "request_timeout"});
    }
    // Everything above was answered while the stream was still generating.
    QVERIFY2(!h.results.contains(stream.id()), "the stream ended before the hostile requests did: make it longer");
    for (const Case& c : cases) {
        QVERIFY2(c.reply.status == c.status, qPrintable(QStringLiteral("%1: %2 %3").arg(c.name).arg(c.reply.status).arg(QString::fromUtf8(c.reply.body.left(300)))));
        const QJsonObject error = c.reply.json().value("error").toObject();
        QVERIFY2(!error.value("message").toString().isEmpty() && error.contains("type") && error.contains("param"), c.name);
        if (*c.code) QCOMPARE(error.value("code").toString(), QString(c.code));
    }
    QTRY_VERIFY_WITH_TIMEOUT(stream.body().contains("data: [DONE]"), 30000);
    const auto [text, finish] = stream.textAndFinish();
    QCOMPARE(finish, QString("length"));
    QCOMPARE(h.results.size(), 1);  // no hostile request reached the engine
    QCOMPARE(h.results.value(stream.id()).usage.completionTokens, 200);
    QCOMPARE(text, QString::fromStdString(h.results.value(stream.id()).text));
}

void HttpApiStreamsTest::rateLimitWhileStreaming() {
    HttpApiOptions options;
    options.ratePerSecond = 0.01;  // no refill within the test
    options.burst = 3;
    HttpHarness h(options, slowSteps(10'000));
    OpenStream stream(h.http->port(), R"({"prompt": "x", "max_tokens": 150, "stream": true})");  // 1st
    QTRY_VERIFY_WITH_TIMEOUT(stream.body().contains("data: {"), 10000);
    QCOMPARE(exchange(h.http->port(), "GET", "/v1/models").status, 200);  // 2nd
    QCOMPARE(exchange(h.http->port(), "GET", "/v1/models").status, 200);  // 3rd
    const Reply limited = exchange(h.http->port(), "GET", "/v1/models");
    QCOMPARE(limited.status, 429);
    QCOMPARE(limited.errorCode(), QString("rate_limit_exceeded"));
    QCOMPARE(exchange(h.http->port(), "POST", "/v1/completions", R"({"prompt": "x"})").status, 429);
    QVERIFY(!h.results.contains(stream.id()));
    QTRY_VERIFY_WITH_TIMEOUT(stream.body().contains("data: [DONE]"), 30000);
    QCOMPARE(stream.textAndFinish().second, QString("length"));
    QCOMPARE(h.results.value(stream.id()).usage.completionTokens, 150);
}

void HttpApiStreamsTest::streamLimitWhileStreaming() {
    HttpApiOptions options;
    options.maxConcurrentStreams = 1;
    HttpHarness h(options, slowSteps(10'000));
    OpenStream stream(h.http->port(), R"({"prompt": "x", "max_tokens": 150, "stream": true})");
    QTRY_VERIFY_WITH_TIMEOUT(stream.body().contains("data: {"), 10000);
    const Reply refused = exchange(h.http->port(), "POST", "/v1/completions", R"({"prompt": "y", "stream": true})");
    QCOMPARE(refused.status, 429);
    QCOMPARE(refused.errorCode(), QString("too_many_requests"));
    QVERIFY(!h.results.contains(stream.id()));
    QTRY_VERIFY_WITH_TIMEOUT(stream.body().contains("data: [DONE]"), 30000);
    const auto [text, finish] = stream.textAndFinish();
    QCOMPARE(finish, QString("length"));
    QCOMPARE(h.results.size(), 1);
    QCOMPARE(text, QString::fromStdString(h.results.value(stream.id()).text));
    QTRY_COMPARE_WITH_TIMEOUT(h.http->activeGenerations(), 0, 5000);
    QCOMPARE(exchange(h.http->port(), "POST", "/v1/completions", R"({"prompt": "y", "max_tokens": 2})").status, 200);
}

void HttpApiStreamsTest::priorityFeedsTheQueue() {
    HttpHarness h;
    h.setPaused(true);
    OpenStream low(h.http->port(), R"({"prompt": "low", "max_tokens": 3, "stream": true, "priority": 4})");
    QTRY_COMPARE_WITH_TIMEOUT(h.http->activeGenerations(), 1, 10000);
    OpenStream critical(h.http->port(), R"({"prompt": "critical", "max_tokens": 3, "stream": true, "priority": -2})");
    QTRY_COMPARE_WITH_TIMEOUT(h.http->activeGenerations(), 2, 10000);
    std::vector<engine::Priority> order;  // queued requests, in queue order
    QTRY_VERIFY_WITH_TIMEOUT(([&] {
        h.bridge.publishSnapshot();
        order.clear();
        if (auto snap = h.bridge.latestSnapshot())
            for (const auto& r : snap->requests)
                if (r.state == engine::RequestState::Queued) order.push_back(r.priority);
        return order.size() == 2;
    }()), 10000);
    QCOMPARE(order.at(0), engine::Priority::Critical);  // submitted second, queued first
    QCOMPARE(order.at(1), engine::Priority::Low);
    h.setPaused(false);
    QTRY_VERIFY_WITH_TIMEOUT(low.body().contains("data: [DONE]") && critical.body().contains("data: [DONE]"), 10000);
}

void HttpApiStreamsTest::stopStringFinishesWithStop() {
    // The simulated executor's tokens depend only on (seed, request id, index): a fresh harness
    // generates the same text for its first request, so a reference run picks the stop string.
    QString reference;
    {
        HttpHarness h;
        const Reply r = exchange(h.http->port(), "POST", "/v1/completions", R"({"prompt": "p", "max_tokens": 60})");
        QCOMPARE(r.status, 200);
        reference = r.json().value("choices").toArray().at(0).toObject().value("text").toString();
    }
    QString stop;
    for (qsizetype i = 5; i + 2 <= reference.size() && stop.isEmpty(); ++i) {
        const QString w = reference.mid(i, 2);
        if (w.at(0).isLetterOrNumber() && w.at(1).isLetterOrNumber()) stop = w;
    }
    if (stop.isEmpty()) QSKIP("the simulated text has no two alphanumeric characters in a row");
    const QString expected = reference.left(reference.indexOf(stop));
    const QByteArray stopJson = QJsonDocument(QJsonArray{stop, "never-generated-xyz"}).toJson(QJsonDocument::Compact);
    {
        HttpHarness h;
        const Reply r = exchange(h.http->port(), "POST", "/v1/completions",
                                 R"({"prompt": "p", "max_tokens": 60, "stop": )" + stopJson + "}");
        QCOMPARE(r.status, 200);
        const QJsonObject choice = r.json().value("choices").toArray().at(0).toObject();
        QCOMPARE(choice.value("finish_reason").toString(), QString("stop"));
        QCOMPARE(choice.value("text").toString(), expected);
    }
    {
        HttpHarness h;
        OpenStream s(h.http->port(), R"({"prompt": "p", "max_tokens": 60, "stream": true, "stop": )" + stopJson + "}");
        QTRY_VERIFY_WITH_TIMEOUT(s.body().contains("data: [DONE]"), 10000);
        const auto [text, finish] = s.textAndFinish();
        QCOMPARE(finish, QString("stop"));
        QCOMPARE(text, expected);
    }
}

void HttpApiStreamsTest::parametersReachTheEngine() {
    const CompletionLimits limits{256, "m"};
    auto parsed = parseCompletionRequest(R"({"prompt": "a", "seed": 77, "temperature": 0.5, "top_p": 0.25,
        "max_completion_tokens": 9, "stop": "END", "priority": -1, "stream": true,
        "stream_options": {"include_usage": true}})", limits);
    QVERIFY(std::holds_alternative<CompletionRequest>(parsed));
    const CompletionRequest& r = std::get<CompletionRequest>(parsed);
    QCOMPARE(r.options.sampling.seed, std::uint64_t(77));
    QCOMPARE(r.options.sampling.temperature, 0.5f);
    QCOMPARE(r.options.sampling.topP, 0.25f);
    QCOMPARE(r.options.maxTokens, 9);
    QCOMPARE(r.options.stopStrings, std::vector<std::string>{"END"});
    QCOMPARE(r.options.priority, engine::Priority::High);
    QVERIFY(r.stream && r.includeUsage);
    QCOMPARE(priorityFromOpenAi(-7), engine::Priority::Critical);
    QCOMPARE(priorityFromOpenAi(0), engine::Priority::Normal);
    QCOMPARE(priorityFromOpenAi(3), engine::Priority::Low);
    // A seed sent twice gives two identical options (the engine's sampler is seeded with it).
    auto again = parseCompletionRequest(R"({"prompt": "a", "seed": 77})", limits);
    QCOMPARE(std::get<CompletionRequest>(again).options.sampling.seed, std::uint64_t(77));
    auto unseeded = parseCompletionRequest(R"({"prompt": "a"})", limits);
    QCOMPARE(std::get<CompletionRequest>(unseeded).options.maxTokens, 16);  // OpenAI's default
}

QTEST_GUILESS_MAIN(HttpApiStreamsTest)
#include "http_api_streams_test.moc"
