// The HTTP API on loopback against a simulated engine: OpenAI-shaped completions (plain and
// server-sent events), hostile requests answered with the right status, the Host/Origin/token
// rules, a disconnect cancelling its generation, and /metrics' exposition.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTest>

#include "http_test_client.h"
#include "app/api/openai_request.h"

using namespace batchscope;
using namespace batchscope::app;
using namespace batchscope::app::api;
using namespace batchscope::app::api::test;


class HttpApiTest : public QObject {
    Q_OBJECT
private slots:
    void modelsAndHealth();
    void completionNonStreaming();
    void completionStreamingWithUsage();
    void chatCompletion();
    void hostileRequests_data();
    void hostileRequests();
    void hugeBodyIs413();
    void hostOriginAndToken();
    void disconnectCancelsAndFreesBlocks();
    void metricsExposition();
    void streamLimitIs429();
};

void HttpApiTest::modelsAndHealth() {
    HttpHarness h;
    QCOMPARE(exchange(h.http->port(), "GET", "/health", {}, {}).status, 200);  // no token needed
    const Reply models = exchange(h.http->port(), "GET", "/v1/models");
    QCOMPARE(models.status, 200);
    QCOMPARE(models.json().value("data").toArray().at(0).toObject().value("id").toString(), h.model());
}

void HttpApiTest::completionNonStreaming() {
    HttpHarness h;
    const Reply r = exchange(h.http->port(), "POST", "/v1/completions",
                             R"({"prompt": "Hello", "max_tokens": 7, "temperature": 0, "seed": 3, "priority": -1})");
    QCOMPARE(r.status, 200);
    const QJsonObject o = r.json();
    QCOMPARE(o.value("object").toString(), QString("text_completion"));
    const QJsonObject choice = o.value("choices").toArray().at(0).toObject();
    QCOMPARE(choice.value("finish_reason").toString(), QString("length"));
    QCOMPARE(o.value("usage").toObject().value("completion_tokens").toInt(), 7);
    QVERIFY(o.value("usage").toObject().value("prompt_tokens").toInt() > 0);
    // The text is the engine's own result for this request.
    QCOMPARE(h.results.size(), 1);
    QCOMPARE(choice.value("text").toString(), QString::fromStdString(h.results.begin()->text));
}

void HttpApiTest::completionStreamingWithUsage() {
    HttpHarness h;
    const Reply r = exchange(h.http->port(), "POST", "/v1/completions",
                             R"({"prompt": "Hi", "max_tokens": 5, "stream": true, "stream_options": {"include_usage": true}})");
    QCOMPARE(r.status, 200);
    QVERIFY(r.head.toLower().contains("content-type: text/event-stream"));
    QString text, finish;
    int usageChunks = 0;
    bool done = false;
    for (const QByteArray& event : r.body.split('\n')) {
        if (!event.startsWith("data: ")) continue;
        const QByteArray data = event.mid(6);
        if (data == "[DONE]") { done = true; continue; }
        QVERIFY2(!done, "data after [DONE]");
        const QJsonObject o = QJsonDocument::fromJson(data).object();
        const QJsonArray choices = o.value("choices").toArray();
        if (choices.isEmpty()) {
            ++usageChunks;
            QCOMPARE(o.value("usage").toObject().value("completion_tokens").toInt(), 5);
            continue;
        }
        text += choices.at(0).toObject().value("text").toString();
        if (!choices.at(0).toObject().value("finish_reason").isNull())
            finish = choices.at(0).toObject().value("finish_reason").toString();
    }
    QVERIFY(done);
    QCOMPARE(usageChunks, 1);
    QCOMPARE(finish, QString("length"));
    QCOMPARE(h.results.size(), 1);
    QCOMPARE(text, QString::fromStdString(h.results.begin()->text));
}

void HttpApiTest::chatCompletion() {
    HttpHarness h;
    const QByteArray messages = R"("messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}])";
    const Reply plain = exchange(h.http->port(), "POST", "/v1/chat/completions",
                                 "{" + messages + R"(, "max_completion_tokens": 4, "temperature": 0})");
    QCOMPARE(plain.status, 200);
    QCOMPARE(plain.json().value("object").toString(), QString("chat.completion"));
    const QJsonObject choice = plain.json().value("choices").toArray().at(0).toObject();
    QCOMPARE(choice.value("message").toObject().value("role").toString(), QString("assistant"));
    QCOMPARE(choice.value("finish_reason").toString(), QString("length"));
    QCOMPARE(plain.json().value("usage").toObject().value("completion_tokens").toInt(), 4);
    QCOMPARE(h.results.size(), 1);
    QCOMPARE(choice.value("message").toObject().value("content").toString(), QString::fromStdString(h.results.begin()->text));

    const Reply streamed = exchange(h.http->port(), "POST", "/v1/chat/completions",
                                    "{" + messages + R"(, "max_tokens": 4, "stream": true})");
    QCOMPARE(streamed.status, 200);
    QString role, content, finish;
    for (const QByteArray& line : streamed.body.split('\n')) {
        if (!line.startsWith("data: {")) continue;
        const QJsonObject o = QJsonDocument::fromJson(line.mid(6)).object();
        QCOMPARE(o.value("object").toString(), QString("chat.completion.chunk"));
        const QJsonObject c = o.value("choices").toArray().at(0).toObject();
        if (c.value("delta").toObject().contains("role")) role = c.value("delta").toObject().value("role").toString();
        content += c.value("delta").toObject().value("content").toString();
        if (c.value("finish_reason").isString()) finish = c.value("finish_reason").toString();
    }
    QVERIFY(streamed.body.endsWith("data: [DONE]\n\n"));
    QCOMPARE(role, QString("assistant"));
    QCOMPARE(finish, QString("length"));
    QCOMPARE(h.results.size(), 2);
    QVERIFY(!content.isEmpty());
}

void HttpApiTest::hostileRequests_data() {
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<int>("status");
    QTest::addColumn<QString>("param");
    QTest::newRow("bad json") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray("{\"prompt\": ") << 400 << "";
    QTest::newRow("not an object") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray("[1,2]") << 400 << "";
    QTest::newRow("prompt number") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": 5})") << 400 << "prompt";
    QTest::newRow("no prompt") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"max_tokens": 5})") << 400 << "prompt";
    QTest::newRow("max_tokens string") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "max_tokens": "5"})") << 400 << "max_tokens";
    QTest::newRow("max_tokens 0") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "max_tokens": 0})") << 400 << "max_tokens";
    QTest::newRow("max_tokens over context") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "max_tokens": 100000})") << 400 << "max_tokens";
    QTest::newRow("temperature 3") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "temperature": 3})") << 400 << "temperature";
    QTest::newRow("top_p 0") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "top_p": 0})") << 400 << "top_p";
    QTest::newRow("seed float") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "seed": 1.5})") << 400 << "seed";
    QTest::newRow("stop five") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "stop": ["a","b","c","d","e"]})") << 400 << "stop";
    QTest::newRow("n 2") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "n": 2})") << 400 << "n";
    QTest::newRow("tools") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "tools": []})") << 400 << "tools";
    QTest::newRow("logprobs") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "logprobs": 2})") << 400 << "logprobs";
    QTest::newRow("unknown key") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "frobnicate": 1})") << 400 << "frobnicate";
    QTest::newRow("stream_options without stream") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "stream_options": {"include_usage": true}})") << 400 << "stream_options";
    QTest::newRow("batch prompt") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": ["a", "b"]})") << 400 << "prompt";
    QTest::newRow("token prompt") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": [1, 2]})") << 400 << "prompt";
    QTest::newRow("wrong model") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "model": "gpt-9"})") << 404 << "model";
    QTest::newRow("unknown path") << QByteArray("GET") << QByteArray("/v2/everything") << QByteArray() << 404 << "";
    QTest::newRow("wrong method") << QByteArray("GET") << QByteArray("/v1/completions") << QByteArray() << 405 << "";
    QTest::newRow("chat empty messages") << QByteArray("POST") << QByteArray("/v1/chat/completions") << QByteArray(R"({"messages": []})") << 400 << "messages";
    QTest::newRow("chat prompt key") << QByteArray("POST") << QByteArray("/v1/chat/completions") << QByteArray(R"({"prompt": "a", "messages": [{"role": "user", "content": "a"}]})") << 400 << "prompt";
    QTest::newRow("chat bad role") << QByteArray("POST") << QByteArray("/v1/chat/completions") << QByteArray(R"({"messages": [{"role": "wizard", "content": "a"}]})") << 400 << "messages[0].role";
    QTest::newRow("chat image part") << QByteArray("POST") << QByteArray("/v1/chat/completions") << QByteArray(R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})") << 400 << "messages[0].content";
    QTest::newRow("chat tool_calls") << QByteArray("POST") << QByteArray("/v1/chat/completions") << QByteArray(R"({"messages": [{"role": "assistant", "content": "", "tool_calls": []}]})") << 400 << "messages[0].tool_calls";
    QTest::newRow("chat messages key on completions") << QByteArray("POST") << QByteArray("/v1/completions") << QByteArray(R"({"prompt": "a", "messages": []})") << 400 << "messages";
}

void HttpApiTest::hostileRequests() {
    QFETCH(QByteArray, method);
    QFETCH(QByteArray, path);
    QFETCH(QByteArray, body);
    QFETCH(int, status);
    QFETCH(QString, param);
    HttpHarness h;
    const Reply r = exchange(h.http->port(), method, path, body);
    QCOMPARE(r.status, status);
    const QJsonObject error = r.json().value("error").toObject();
    QVERIFY2(!error.value("message").toString().isEmpty(), r.body.constData());
    QVERIFY(error.contains("type") && error.contains("param") && error.contains("code"));
    if (!param.isEmpty()) QCOMPARE(error.value("param").toString(), param);
    QVERIFY(h.results.isEmpty());  // nothing reached the engine
}

void HttpApiTest::hugeBodyIs413() {
    HttpApiOptions options;
    options.maxBodyBytes = 4096;
    HttpHarness h(options);
    const QByteArray body = R"({"prompt": ")" + QByteArray(8192, 'x') + R"("})";
    QCOMPARE(exchange(h.http->port(), "POST", "/v1/completions", body).status, 413);
    QVERIFY(h.results.isEmpty());
}

void HttpApiTest::hostOriginAndToken() {
    HttpHarness h;
    const quint16 port = h.http->port();
    QCOMPARE(exchange(port, "GET", "/v1/models", {}, {}).status, 401);
    QCOMPARE(exchange(port, "GET", "/v1/models", {}, {"Authorization: Bearer wrong-token-wrong-token"}).status, 401);
    QCOMPARE(exchange(port, "GET", "/v1/models", {}, {"Authorization: Basic abc"}).status, 401);
    const Reply rebinding = exchange(port, "GET", "/v1/models", {}, {"Authorization: Bearer " + kToken.toUtf8()}, "evil.example");
    QCOMPARE(rebinding.status, 403);
    QCOMPARE(rebinding.errorCode(), QString("host_not_allowed"));
    QCOMPARE(exchange(port, "GET", "/v1/models", {}, {"Authorization: Bearer " + kToken.toUtf8()}, "").status, 403);
    const Reply page = exchange(port, "GET", "/v1/models", {}, {"Authorization: Bearer " + kToken.toUtf8(), "Origin: http://evil.example"});
    QCOMPARE(page.status, 403);
    QCOMPARE(page.errorCode(), QString("origin_not_allowed"));
    const Reply allowed = exchange(port, "GET", "/v1/models", {}, {"Authorization: Bearer " + kToken.toUtf8(), "Origin: http://localhost:5173"});
    QCOMPARE(allowed.status, 200);
    QVERIFY(allowed.head.toLower().contains("access-control-allow-origin: http://localhost:5173"));
    QCOMPARE(exchange(port, "GET", "/metrics", {}, {}).status, 401);
}

void HttpApiTest::disconnectCancelsAndFreesBlocks() {
    HttpHarness h;
    QTcpSocket socket;
    QByteArray raw;
    connect(&socket, &QTcpSocket::readyRead, this, [&] { raw += socket.readAll(); });
    socket.connectToHost(QHostAddress::LocalHost, h.http->port());
    QVERIFY(socket.waitForConnected(5000));
    const QByteArray body = R"({"prompt": "a long story", "max_tokens": 200, "stream": true})";
    h.setPaused(false);
    socket.write("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kToken.toUtf8() +
                 "\r\nContent-Type: application/json\r\nContent-Length: " + QByteArray::number(body.size()) +
                 "\r\n\r\n" + body);
    QTRY_VERIFY_WITH_TIMEOUT(dechunk(raw.mid(raw.indexOf("\r\n\r\n") + 4)).contains("data: {"), 10000);
    QCOMPARE(h.http->activeGenerations(), 1);
    socket.abort();
    QTRY_COMPARE_WITH_TIMEOUT(h.http->activeGenerations(), 0, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(h.results.size(), 1, 10000);
    const engine::GenerationResult result = h.results.begin().value();
    QCOMPARE(result.finishReason, engine::FinishReason::Cancelled);
    QVERIFY(result.usage.completionTokens < 200);
    h.bridge.publishSnapshot();
    QTRY_VERIFY_WITH_TIMEOUT(h.bridge.latestSnapshot() && h.bridge.latestSnapshot()->kv.usedBlocks == 0, 5000);
}

void HttpApiTest::metricsExposition() {
    HttpHarness h;
    QCOMPARE(exchange(h.http->port(), "POST", "/v1/completions", R"({"prompt": "x", "max_tokens": 4})").status, 200);
    h.bridge.publishSnapshot();
    const Reply r = exchange(h.http->port(), "GET", "/metrics");
    QCOMPARE(r.status, 200);
    QVERIFY(r.head.toLower().contains("content-type: text/plain; version=0.0.4"));
    const QString text = QString::fromUtf8(r.body);
    const QString label = QStringLiteral("model_name=\"%1\"").arg(h.model());
    for (const char* name : {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc",
                             "vllm:prefix_cache_queries_total", "vllm:prefix_cache_hits_total",
                             "vllm:num_preemptions_total", "vllm:prompt_tokens_total", "vllm:generation_tokens_total",
                             "batchscope:steps_total"})
        QVERIFY2(text.contains(QStringLiteral("%1{%2} ").arg(name, label)), name);
    QVERIFY(text.contains(QStringLiteral("vllm:request_success_total{%1,finished_reason=\"length\"} 1\n").arg(label)));
    QVERIFY(text.contains(QStringLiteral("vllm:request_generation_tokens_bucket{%1,le=\"5\"} 1\n").arg(label)));
    QVERIFY(text.contains(QStringLiteral("vllm:request_generation_tokens_bucket{%1,le=\"2\"} 0\n").arg(label)));
    QVERIFY(text.contains(QStringLiteral("vllm:time_to_first_token_seconds_count{%1} 1\n").arg(label)));
    QVERIFY(text.contains(QStringLiteral("vllm:inter_token_latency_seconds_count{%1} 3\n").arg(label)));
    QVERIFY(text.contains(QStringLiteral("vllm:generation_tokens_total{%1} 4\n").arg(label)));
}

void HttpApiTest::streamLimitIs429() {
    HttpApiOptions options;
    options.maxConcurrentStreams = 1;
    HttpHarness h(options);
    h.setPaused(true);  // the first generation waits in the queue, holding the only slot
    QTcpSocket first;
    first.connectToHost(QHostAddress::LocalHost, h.http->port());
    QVERIFY(first.waitForConnected(5000));
    const QByteArray body = R"({"prompt": "a", "max_tokens": 3, "stream": true})";
    first.write("POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + kToken.toUtf8() +
                "\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QTRY_COMPARE_WITH_TIMEOUT(h.http->activeGenerations(), 1, 10000);
    const Reply second = exchange(h.http->port(), "POST", "/v1/completions", body);
    QCOMPARE(second.status, 429);
    QCOMPARE(second.errorCode(), QString("too_many_requests"));
    first.abort();
    QTRY_COMPARE_WITH_TIMEOUT(h.http->activeGenerations(), 0, 10000);
}

QTEST_GUILESS_MAIN(HttpApiTest)
#include "http_api_test.moc"
