// The live API server on loopback: every message type, the streaming lifecycle, cancel,
// priorities, subscriptions, limits.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QtTest>

#include "tests/api/api_test_harness.h"

using namespace batchscope;
using namespace batchscope::app::api;
using namespace batchscope::app::api::test;

class ApiServerTest : public QObject {
    Q_OBJECT
private slots:
    void streamingLifecycle() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage("g1", "Tell me a story", 12));
        const QJsonObject accepted = c.waitReply("accepted", "g1");
        QVERIFY(!accepted.isEmpty());
        const auto requestId = engine::RequestId(accepted.value("request_id").toInteger());
        QVERIFY(requestId != 0);
        QVERIFY(accepted.contains("queue_position"));
        const QJsonObject done = c.waitReply("done", "g1");
        QVERIFY(!done.isEmpty());
        QString streamed;
        int expectedIndex = 0;
        for (const auto& m : c.messages) {
            if (m.value("type") != "token") continue;
            QCOMPARE(m.value("id").toString(), QStringLiteral("g1"));
            QCOMPARE(m.value("index").toInt(), expectedIndex++);
            streamed += m.value("text").toString();
        }
        QCOMPARE(expectedIndex, 12);
        QCOMPARE(done.value("finish_reason").toString(), QStringLiteral("max_tokens"));
        QCOMPARE(done.value("text").toString(), streamed);
        QCOMPARE(done.value("usage").toObject().value("completion_tokens").toInt(), 12);
        QVERIFY(done.value("usage").toObject().value("prompt_tokens").toInt() > 0);
        QVERIFY(done.value("timings").toObject().value("total_ms").toDouble() > 0);
        QVERIFY(QTest::qWaitFor([&] { return h.results.contains(requestId); }, 5000));
        QCOMPARE(done.value("text").toString(), QString::fromStdString(h.results[requestId].text));
        QCOMPARE(h.server->activeRequestCount(), 0);
    }

    void nonStreamingOnlyDone() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage(3, "quiet please", 5, false));
        const QJsonObject done = c.waitReply("done", 3);
        QCOMPARE(done.value("usage").toObject().value("completion_tokens").toInt(), 5);
        QCOMPARE(c.count("token"), 0);
    }

    void severalGeneratesPerConnection() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        for (int i = 0; i < 8; ++i) c.send(generateMessage(i, QStringLiteral("prompt %1").arg(i), 4 + i));
        for (int i = 0; i < 8; ++i) {
            const QJsonObject done = c.waitReply("done", i);
            QCOMPARE(done.value("usage").toObject().value("completion_tokens").toInt(), 4 + i);
        }
        QCOMPARE(c.count("accepted"), 8);
    }

    void cancelMidStream() {
        HarnessConfig config;
        config.executor.stepOverheadUs = 5000;  // 5 ms per step: the stream is long enough
        Harness h(config);
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage("long", "go on and on", 200));
        const qint64 rid = c.waitReply("accepted", "long").value("request_id").toInteger();
        QVERIFY(c.waitFor([](const QJsonObject& m) { return m.value("type") == "token"; }) >= 0);
        c.send({{"type", "cancel"}, {"id", "c"}, {"request_id", rid}});
        QCOMPARE(c.waitReply("cancel_ok", "c").value("request_id").toInteger(), rid);
        const QJsonObject done = c.waitReply("done", "long");
        QCOMPARE(done.value("finish_reason").toString(), QStringLiteral("cancelled"));
        QVERIFY(done.value("usage").toObject().value("completion_tokens").toInt() < 200);
        c.send({{"type", "cancel"}, {"id", "again"}, {"request_id", rid}});
        QCOMPARE(c.waitError("again").value("code").toString(), QStringLiteral("not_found"));
    }

    void setPriorityReorders() {
        HarnessConfig config;
        config.engine.settings.maxBatchSize = 1;
        Harness h(config);
        h.setPaused(true);
        Client c;
        QVERIFY(c.open(h.server->url()));
        QList<qint64> ids;
        for (const char* name : {"a", "b", "c"}) {
            c.send(generateMessage(name, QStringLiteral("request %1").arg(name), 3, false));
            ids << c.waitReply("accepted", name).value("request_id").toInteger();
        }
        c.send({{"type", "set_priority"}, {"id", "p"}, {"request_id", ids[2]}, {"priority", "critical"}});
        QCOMPARE(c.waitReply("priority_set", "p").value("priority").toString(), QStringLiteral("critical"));
        h.setPaused(false);
        QVERIFY(!c.waitReply("done", "a").isEmpty());
        QVERIFY(!c.waitReply("done", "b").isEmpty());
        QStringList order;
        for (const auto& m : c.messages)
            if (m.value("type") == "done") order << m.value("id").toString();
        QCOMPARE(order, QStringList({"c", "a", "b"}));
    }

    void listRequestsShowsWaitReason() {
        Harness h;
        h.setPaused(true);
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage("g", "waiting", 3));
        const qint64 rid = c.waitReply("accepted", "g").value("request_id").toInteger();
        QJsonObject mine;
        QVERIFY(QTest::qWaitFor([&] {
            h.bridge.publishSnapshot();
            c.send({{"type", "list_requests"}, {"id", "l"}});
            const QJsonObject list = c.waitReply("requests", "l");
            c.messages.clear();
            for (const auto& r : list.value("requests").toArray())
                if (r.toObject().value("request_id").toInteger() == rid) mine = r.toObject();
            return mine.value("wait_reason").toString() == "paused";
        }, 10000));
        QCOMPARE(mine.value("state").toString(), QStringLiteral("queued"));
        QCOMPARE(mine.value("own").toBool(), true);
        h.setPaused(false);
        QVERIFY(!c.waitReply("done", "g").isEmpty());
    }

    void statsAndModel() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage("g", "count me", 4));
        QVERIFY(!c.waitReply("done", "g").isEmpty());
        h.bridge.publishSnapshot();
        c.send({{"type", "get_stats"}, {"id", "s"}});
        const QJsonObject stats = c.waitReply("stats", "s");
        QVERIFY(stats.value("requests").toObject().value("submitted").toInteger() >= 1);
        QVERIFY(stats.value("kv").toObject().value("total_blocks").toInt() == 2048);
        QVERIFY(stats.contains("batches"));
        c.send({{"type", "get_model"}, {"id", "m"}});
        const QJsonObject model = c.waitReply("model", "m").value("model").toObject();
        QCOMPARE(model.value("architecture").toString(), QStringLiteral("simulated"));
        QCOMPARE(model.value("context_length").toInt(), 256);
    }

    void subscriptions() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send({{"type", "subscribe"}, {"id", "s"}, {"topics", QJsonArray{"steps", "requests", "metrics"}},
                {"interval_ms", 100}});
        QCOMPARE(c.waitReply("subscribed", "s").value("topics").toArray().size(), 3);
        c.send(generateMessage("g", "watch me", 6));
        QVERIFY(!c.waitReply("done", "g").isEmpty());
        const int step = c.waitFor([](const QJsonObject& m) {
            if (m.value("type") != "steps") return false;
            const auto steps = m.value("steps").toArray();
            return !steps.isEmpty() && steps[0].toObject().value("kv").toObject().contains("free_blocks");
        });
        QVERIFY(step >= 0);
        QVERIFY(c.waitFor([](const QJsonObject& m) { return m.value("type") == "request_changes"; }) >= 0);
        QVERIFY(c.waitFor([](const QJsonObject& m) {
            return m.value("type") == "metrics" && m.contains("kv") && m.contains("requests");
        }) >= 0);
        c.send({{"type", "unsubscribe"}, {"id", "u"}});
        QVERIFY(!c.waitReply("unsubscribed", "u").isEmpty());
        const int after = int(c.messages.size());
        QTest::qWait(300);
        for (int i = after; i < c.messages.size(); ++i)
            QVERIFY(c.messages[i].value("type") != "metrics");
    }

    void slowSubscriberDropsTelemetry() {
        // Whether a socket still holds unflushed bytes when a telemetry event is due depends on
        // the machine's load, so the "slow" state is forced: a negative limit makes every client
        // slow (a zero limit only dropped events when a tick met a backlog, which failed under a
        // loaded ctest -j2 and passed alone).
        HarnessConfig config;
        config.server.sendBufferLimit = -1;
        Harness h(config);
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send({{"type", "subscribe"}, {"id", "s"}, {"topics", QJsonArray{"steps", "requests", "metrics"}},
                {"interval_ms", 50}});
        QVERIFY(!c.waitReply("subscribed", "s").isEmpty());
        for (int i = 0; i < 4; ++i) c.send(generateMessage(i, "flood", 20));
        // Generation replies are never dropped, telemetry is.
        for (int i = 0; i < 4; ++i) QVERIFY(!c.waitReply("done", i).isEmpty());
        QVERIFY(QTest::qWaitFor([&] { return h.server->droppedEvents() > 0; }, 5000));
        QCOMPARE(c.count("metrics"), 0);
        // Once the client reads again, the next telemetry event that goes out (a metrics tick)
        // tells how much was missed.
        h.server->setSendBufferLimit(1 << 20);
        QVERIFY(c.waitFor([](const QJsonObject& m) { return m.value("dropped").toInt() > 0; }, 5000) >= 0);
    }

    void queueFullPerConnection() {
        HarnessConfig config;
        config.server.maxRequestsPerConnection = 2;
        Harness h(config);
        h.setPaused(true);
        Client c;
        QVERIFY(c.open(h.server->url()));
        for (int i = 0; i < 3; ++i) c.send(generateMessage(i, "hold", 2));
        QCOMPARE(c.waitError(2).value("code").toString(), QStringLiteral("queue_full"));
        QCOMPARE(c.count("accepted"), 2);
        h.setPaused(false);
    }

    void promptTooLongFromEngine() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage("big", QString(400, QLatin1Char('x')), 8));
        QCOMPARE(c.waitError("big").value("code").toString(), QStringLiteral("prompt_too_long"));
        c.send({{"type", "ping"}, {"id", 1}});
        QVERIFY(!c.waitReply("pong", 1).isEmpty());
    }

    void queueFullFromServerAndEngine() {
        for (const bool engineLimit : {false, true}) {
            HarnessConfig config;
            if (engineLimit) config.engine.queueCapacity = 2;
            else config.server.maxRequestsTotal = 2;
            Harness h(config);
            h.setPaused(true);
            Client a, b;
            QVERIFY(a.open(h.server->url()));
            QVERIFY(b.open(h.server->url()));
            a.send(generateMessage(0, "hold", 2));
            b.send(generateMessage(1, "hold", 2));
            QVERIFY(!a.waitReply("accepted", 0).isEmpty());
            QVERIFY(!b.waitReply("accepted", 1).isEmpty());
            b.send(generateMessage(2, "one too many", 2));
            const QJsonObject error = b.waitError(2);
            QCOMPARE(error.value("code").toString(), QStringLiteral("queue_full"));
            QVERIFY2(error.value("message").toString().contains(engineLimit ? "queue is full" : "server has 2"),
                     qPrintable(error.value("message").toString()));
            h.setPaused(false);
            QVERIFY(!a.waitReply("done", 0).isEmpty());
        }
    }

    void timeoutEndsRequest() {
        Harness h;
        h.setPaused(true);
        Client c;
        QVERIFY(c.open(h.server->url()));
        QJsonObject g = generateMessage("t", "too slow", 4);
        g.insert("timeout_ms", 50);
        c.send(g);
        QCOMPARE(c.waitReply("done", "t").value("finish_reason").toString(), QStringLiteral("timeout"));
        h.setPaused(false);
    }

    void noEngineIsInternal() {
        HarnessConfig config;
        config.withEngine = false;
        Harness h(config);
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send(generateMessage("g", "anyone?", 4));
        QCOMPARE(c.waitError("g").value("code").toString(), QStringLiteral("internal"));
        c.send({{"type", "get_model"}, {"id", "m"}});
        QCOMPARE(c.waitError("m").value("code").toString(), QStringLiteral("internal"));
    }
};

QTEST_GUILESS_MAIN(ApiServerTest)
#include "api_server_test.moc"
