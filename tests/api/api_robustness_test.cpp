// The live API server under hostile and heavy use: a table of malformed messages, oversized
// and binary frames, a 10,000-message burst, 200 concurrent streaming clients, disconnects
// mid-stream (no KV block left held), and the Python example client.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QCoreApplication>
#include <algorithm>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QtTest>

#include "app/api/api_load_bench.h"
#include "tests/api/api_test_harness.h"
#include "tests/api/hostile_messages.h"

using namespace batchscope;
using namespace batchscope::app::api;
using namespace batchscope::app::api::test;

namespace {

/// Streams one generation on `c` and checks it completes with the engine's text.
bool streamsCorrectly(Client& c, Harness& h, const QJsonValue& id, int maxTokens) {
    c.send(generateMessage(id, "a fellow client", maxTokens));
    const QJsonObject done = c.waitReply("done", id, 20000);
    if (done.isEmpty()) return false;
    const auto rid = engine::RequestId(done.value("request_id").toInteger());
    if (!QTest::qWaitFor([&] { return h.results.contains(rid); }, 5000)) return false;
    return done.value("text").toString() == QString::fromStdString(h.results[rid].text) &&
           done.value("usage").toObject().value("completion_tokens").toInt() == maxTokens;
}

QString sourceDir() {
    const QByteArray env = qgetenv("BATCHSCOPE_SOURCE_DIR");
    return env.isEmpty() ? QStringLiteral(BATCHSCOPE_SOURCE_DIR) : QString::fromLocal8Bit(env);
}

}  // namespace

class ApiRobustnessTest : public QObject {
    Q_OBJECT
private slots:
    void hostileMessagesAnsweredWhileOthersAreServed() {
        Harness h;
        Client attacker, bystander;
        QVERIFY(attacker.open(h.server->url()));
        QVERIFY(bystander.open(h.server->url()));
        bystander.send(generateMessage("b", "meanwhile", 40));
        const auto cases = hostileMessages();
        QVERIFY(cases.size() >= 40);
        int id = 0;
        for (const auto& c : cases) {
            const int from = int(attacker.messages.size());
            attacker.sendRaw(c.frame);
            const int at = attacker.waitFor([](const QJsonObject& m) { return m.value("type") == "error"; },
                                            10000, from);
            QVERIFY2(at >= 0, c.name);
            const QJsonObject error = attacker.messages[at];
            QVERIFY2(error.value("code").toString() == QLatin1String(c.code),
                     qPrintable(QStringLiteral("%1: got %2 (%3)").arg(QLatin1String(c.name),
                                error.value("code").toString(), error.value("message").toString())));
            QVERIFY2(error.value("message").toString().contains(QLatin1String(c.mentions)), c.name);
            // The connection survives every one of them.
            attacker.send({{"type", "ping"}, {"id", ++id}});
            QVERIFY2(!attacker.waitReply("pong", id).isEmpty(), c.name);
        }
        QVERIFY(!attacker.disconnected);
        QVERIFY(!bystander.waitReply("done", "b").isEmpty());
        QCOMPARE(h.results.size(), 1);  // only the bystander's generation reached the engine
    }

    void oversizedAndBinaryFrames() {
        HarnessConfig config;
        config.server.maxMessageBytes = 64 * 1024;
        Harness h(config);
        Client c, other;
        QVERIFY(c.open(h.server->url()));
        QVERIFY(other.open(h.server->url()));
        const QByteArray big = "{\"type\":\"generate\",\"prompt\":\"" + QByteArray(70 * 1024, 'a') + "\"}";
        c.sendRaw(big);
        const int at = c.waitFor([](const QJsonObject& m) { return m.value("type") == "error"; });
        QVERIFY(at >= 0);
        QCOMPARE(c.messages[at].value("code").toString(), QStringLiteral("invalid_request"));
        QVERIFY(c.messages[at].value("message").toString().contains("limit"));
        c.socket.sendBinaryMessage(QByteArray(100, '\x01'));
        const int bin = c.waitFor([](const QJsonObject& m) {
            return m.value("type") == "error" && m.value("message").toString().contains("binary");
        });
        QVERIFY(bin >= 0);
        QCOMPARE(c.messages[bin].value("code").toString(), QStringLiteral("invalid_request"));
        c.send({{"type", "ping"}, {"id", 1}});
        QVERIFY(!c.waitReply("pong", 1).isEmpty());
        // Far beyond the limit the WebSocket layer refuses the frame (close 1009).
        c.sendRaw("\"" + QByteArray(300 * 1024, 'z') + "\"");
        QVERIFY(c.waitClosed());
        QCOMPARE(c.closeCode, int(QWebSocketProtocol::CloseCodeTooMuchData));
        QVERIFY(streamsCorrectly(other, h, "o", 8));
        QCOMPARE(h.results.size(), 1);
    }

    void burstOfTenThousandMessages() {
        Harness h;
        Client flood, bystander;
        QVERIFY(flood.open(h.server->url()));
        QVERIFY(bystander.open(h.server->url()));
        for (int i = 0; i < 10000; ++i) flood.send({{"type", "ping"}, {"id", i}});
        QVERIFY(QTest::qWaitFor([&] { return flood.messages.size() >= 10000; }, 30000));
        const int pongs = flood.count("pong");
        int limited = 0;
        for (const auto& m : flood.messages) limited += m.value("code") == "rate_limited";
        QCOMPARE(pongs + limited, 10000);
        QVERIFY(limited > 0);
        QVERIFY(pongs >= int(h.server->options().burst));
        QVERIFY(!flood.disconnected);
        QVERIFY(streamsCorrectly(bystander, h, "b", 10));
        // The bucket refills: the flooder is served again.
        QTest::qWait(50);
        flood.send({{"type", "ping"}, {"id", "after"}});
        QVERIFY(!flood.waitReply("pong", "after").isEmpty());
    }

    void twoHundredConcurrentStreams() {
        Harness h;
        constexpr int kClients = 200, kTokens = 16;
        std::vector<std::unique_ptr<Client>> clients;
        for (int i = 0; i < kClients; ++i) {
            clients.push_back(std::make_unique<Client>());
            clients.back()->startOpen(h.server->url());
        }
        QVERIFY(QTest::qWaitFor([&] {
            return std::all_of(clients.begin(), clients.end(), [](const auto& c) { return c->settled(); });
        }, 30000));
        for (const auto& c : clients) QVERIFY(c->isOpen());
        for (int i = 0; i < kClients; ++i)
            clients[i]->send(generateMessage(i, QStringLiteral("client %1 says hi").arg(i), kTokens));
        QVERIFY(QTest::qWaitFor([&] {
            for (const auto& c : clients) if (c->count("done") == 0) return false;
            return true;
        }, 60000));
        QVERIFY(QTest::qWaitFor([&] { return h.results.size() == kClients; }, 5000));
        for (int i = 0; i < kClients; ++i) {
            Client& c = *clients[i];
            const QJsonObject done = c.waitReply("done", i, 0);
            const auto rid = engine::RequestId(done.value("request_id").toInteger());
            QString streamed;
            for (const auto& m : c.messages)
                if (m.value("type") == "token") streamed += m.value("text").toString();
            QCOMPARE(c.count("token"), kTokens);
            QCOMPARE(done.value("text").toString(), streamed);
            QCOMPARE(done.value("text").toString(), QString::fromStdString(h.results[rid].text));
        }
        QCOMPARE(h.server->activeRequestCount(), 0);
    }

    void disconnectsMidStreamFreeEverything() {
        HarnessConfig config;
        config.executor.stepOverheadUs = 3000;
        Harness h(config);
        std::vector<std::unique_ptr<Client>> clients;
        for (int i = 0; i < 10; ++i) {
            clients.push_back(std::make_unique<Client>());
            QVERIFY(clients.back()->open(h.server->url()));
            clients.back()->send(generateMessage(i, QString(40, QLatin1Char('p')) + QString::number(i), 200));
        }
        for (auto& c : clients)
            QVERIFY(c->waitFor([](const QJsonObject& m) { return m.value("type") == "token"; }) >= 0);
        QVERIFY(h.bridge.engine()->snapshot().kv.usedBlocks > 0);
        for (auto& c : clients) c->socket.abort();
        clients.clear();
        QVERIFY(QTest::qWaitFor([&] { return h.results.size() == 10; }, 10000));
        for (const auto& r : h.results)
            QCOMPARE(r.finishReason, engine::FinishReason::Cancelled);
        const auto snapshot = h.bridge.engine()->snapshot();
        QCOMPARE(snapshot.kv.usedBlocks, 0);
        QCOMPARE(snapshot.runningCount, 0);
        QCOMPARE(snapshot.queueDepth, 0);
        QVERIFY(QTest::qWaitFor([&] { return h.server->connectionCount() == 0; }, 5000));
        QCOMPARE(h.server->activeRequestCount(), 0);
    }

    void loadBenchMeasuresTheApiPath() {
        Harness h;
        ApiLoadBenchConfig config;
        // BATCHSCOPE_API_BENCH_CLIENTS scales the run up for a manual measurement.
        config.clients = qEnvironmentVariableIntValue("BATCHSCOPE_API_BENCH_CLIENTS");
        if (config.clients <= 0) config.clients = 10;
        config.requestsPerClient = 3;
        config.maxTokens = 8;
        const int requests = config.clients * config.requestsPerClient;
        const ApiLoadBenchResult r = runApiLoadBench(h.server->url(), kToken, config);
        qInfo("API load: %d clients, %d requests, %.1f req/s, %.0f tok/s; socket TTFT p50 %.2f p99 %.2f ms; "
              "engine TTFT p50 %.2f p99 %.2f ms; added p50 %.2f p99 %.2f ms",
              r.clients, r.requests, r.requestsPerSecond, r.tokensPerSecond, r.socketTtftMs.p50,
              r.socketTtftMs.p99, r.engineTtftMs.p50, r.engineTtftMs.p99, r.addedTtftMs.p50, r.addedTtftMs.p99);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.requests, requests);
        QCOMPARE(r.completed, requests);
        QCOMPARE(r.failed, 0);
        QVERIFY(r.tokensPerSecond > 0);
        QCOMPARE(r.addedTtftMs.count, std::int64_t(requests));
        // Causality: the socket round trip contains the engine's TTFT, so nothing is negative.
        QVERIFY(r.socketTtftMs.p50 >= r.engineTtftMs.p50 - 1e-6);
        QVERIFY(r.addedTtftMs.p50 >= -0.01);
        QVERIFY(r.addedTtftMs.p99 >= r.addedTtftMs.p50);
        const ApiLoadBenchResult wrong = runApiLoadBench(h.server->url(), "bad-token-bad-token", config);
        QCOMPARE(wrong.completed, 0);
        QCOMPARE(wrong.failed, requests);
    }

    void pythonExampleClient() {
        QString python = QStandardPaths::findExecutable("python3", {"/usr/bin"});
        if (python.isEmpty()) python = QStandardPaths::findExecutable("python3");
        if (python.isEmpty()) QSKIP("python3 not found");
        if (QProcess::execute(python, {"-c", "import websockets"}) != 0)
            QSKIP("python3-websockets is not installed (apt install python3-websockets)");
        const QString script = sourceDir() + "/examples/stream_client.py";
        QVERIFY2(QFileInfo::exists(script), qPrintable(script));
        Harness h;
        QProcess proc;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("BATCHSCOPE_API_TOKEN", kToken);
        proc.setProcessEnvironment(env);
        proc.start(python, {script, "--url", h.server->url().toString(), "--max-tokens", "12",
                            "--seed", "3", "Once upon a time"});
        QVERIFY(QTest::qWaitFor([&] { return proc.state() == QProcess::NotRunning; }, 30000));
        const QString out = QString::fromUtf8(proc.readAllStandardOutput());
        QVERIFY2(proc.exitStatus() == QProcess::NormalExit && proc.exitCode() == 0,
                 qPrintable(out + QString::fromUtf8(proc.readAllStandardError())));
        QCOMPARE(h.results.size(), 1);
        const engine::GenerationResult& r = h.results.begin().value();
        QVERIFY(out.contains(QString::fromStdString(r.text)));
        QVERIFY(out.contains("finish_reason=max_tokens"));

        QProcess bad;
        bad.setProcessEnvironment(QProcessEnvironment::systemEnvironment());
        bad.start(python, {script, "--url", h.server->url().toString(), "--token",
                           "wrong-wrong-wrong-wrong", "hi"});
        QVERIFY(QTest::qWaitFor([&] { return bad.state() == QProcess::NotRunning; }, 30000));
        QVERIFY(bad.exitCode() != 0);
    }
};

QTEST_GUILESS_MAIN(ApiRobustnessTest)
#include "api_robustness_test.moc"
