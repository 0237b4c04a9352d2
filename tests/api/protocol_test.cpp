// Unit tests of the pure protocol layer: decoding, validation, encoding, access tokens.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "app/api/access_token.h"
#include "app/api/api_options.h"
#include "app/api/protocol.h"
#include "app/api/protocol_encode.h"
#include "tests/api/hostile_messages.h"

using namespace batchscope;
using namespace batchscope::app::api;

class ProtocolTest : public QObject {
    Q_OBJECT
private:
    DecodeLimits limits() const {
        DecodeLimits l;
        l.contextLength = 256;
        l.maxPromptBytes = 4096;
        return l;
    }

private slots:
    void decodesFullGenerate() {
        const QByteArray frame = R"({"type":"generate","id":"g1","prompt":"Hello","max_tokens":12,
            "priority":"high","temperature":0,"top_p":0.5,"top_k":7,"min_p":0.1,
            "repetition_penalty":1.2,"stop":["END","\n\n"],"seed":42,"timeout_ms":5000,
            "stream":false,"ignore_eos":true})";
        const DecodeResult r = decodeClientMessage(frame, limits());
        QVERIFY2(r.ok(), qPrintable(r.error ? r.error->message : QString()));
        QCOMPARE(r.message.type, MessageType::Generate);
        QCOMPARE(r.id.toString(), QStringLiteral("g1"));
        const GenerateMessage& g = r.message.generate;
        QCOMPARE(g.prompt, QStringLiteral("Hello"));
        QCOMPARE(g.options.maxTokens, 12);
        QCOMPARE(g.options.priority, engine::Priority::High);
        QCOMPARE(g.options.sampling.temperature, 0.0f);
        QCOMPARE(g.options.sampling.topP, 0.5f);
        QCOMPARE(g.options.sampling.topK, 7);
        QCOMPARE(g.options.sampling.minP, 0.1f);
        QCOMPARE(g.options.sampling.repetitionPenalty, 1.2f);
        QCOMPARE(g.options.stopStrings.size(), size_t(2));
        QCOMPARE(g.options.stopStrings[1], std::string("\n\n"));
        QCOMPARE(g.options.sampling.seed, std::uint64_t(42));
        QVERIFY(g.seedGiven);
        QCOMPARE(g.options.timeout->count(), 5000);
        QCOMPARE(g.stream, false);
        QCOMPARE(g.options.ignoreEos, true);
    }

    void generateDefaults() {
        const DecodeResult r = decodeClientMessage(R"({"type":"generate","prompt":"x"})", limits());
        QVERIFY(r.ok());
        QVERIFY(r.id.isUndefined());
        QCOMPARE(r.message.generate.stream, true);
        QCOMPARE(r.message.generate.seedGiven, false);
        QCOMPARE(r.message.generate.options.priority, engine::Priority::Normal);
        QVERIFY(!r.message.generate.options.timeout);
        QCOMPARE(r.message.generate.options.maxTokens, engine::GenerationOptions{}.maxTokens);
    }

    void maxTokensBoundaries() {
        QVERIFY(decodeClientMessage(R"({"type":"generate","prompt":"x","max_tokens":1})", limits()).ok());
        QVERIFY(decodeClientMessage(R"({"type":"generate","prompt":"x","max_tokens":256})", limits()).ok());
        QVERIFY(!decodeClientMessage(R"({"type":"generate","prompt":"x","max_tokens":257})", limits()).ok());
    }

    void numericPriorityAccepted() {
        const DecodeResult r = decodeClientMessage(R"({"type":"set_priority","request_id":3,"priority":3})", limits());
        QVERIFY(r.ok());
        QCOMPARE(r.message.requestId, engine::RequestId(3));
        QCOMPARE(r.message.priority, engine::Priority::Critical);
    }

    void subscribeTopics() {
        DecodeResult r = decodeClientMessage(R"({"type":"subscribe","topics":["steps","metrics"],"interval_ms":250})", limits());
        QVERIFY(r.ok());
        QCOMPARE(r.message.subscribe.topics, TopicSteps | TopicMetrics);
        QCOMPARE(r.message.subscribe.intervalMs, 250);
        r = decodeClientMessage(R"({"type":"unsubscribe"})", limits());
        QVERIFY(r.ok());
        QCOMPARE(r.message.subscribe.topics, 0);
    }

    void helloChecksProtocol() {
        DecodeResult r = decodeClientMessage(R"({"type":"hello","protocol":"batchscope.v1","token":"abc"})", limits());
        QVERIFY(r.ok());
        QCOMPARE(r.message.hello.token, QStringLiteral("abc"));
        r = decodeClientMessage(R"({"type":"hello","token":"abc"})", limits());
        QVERIFY(!r.ok());
        QVERIFY(r.error->message.contains("protocol"));
    }

    void overlongPromptIsPromptTooLong() {
        const QByteArray frame = "{\"type\":\"generate\",\"prompt\":\"" + QByteArray(5000, 'a') + "\"}";
        const DecodeResult r = decodeClientMessage(frame, limits());
        QVERIFY(!r.ok());
        QCOMPARE(apiErrorCodeName(r.error->code), QStringLiteral("prompt_too_long"));
    }

    void errorKeepsClientId() {
        const DecodeResult r = decodeClientMessage(R"({"type":"generate","id":17,"prompt":3})", limits());
        QVERIFY(!r.ok());
        QCOMPARE(r.id.toInteger(), 17);
        const QJsonObject e = makeError(r.id, r.error->code, r.error->message);
        QCOMPARE(e.value("id").toInteger(), 17);
        QCOMPARE(e.value("type").toString(), QStringLiteral("error"));
    }

    void hostileTable() {
        const auto cases = test::hostileMessages();
        QVERIFY(cases.size() >= 40);
        for (const auto& c : cases) {
            const DecodeResult r = decodeClientMessage(c.frame, limits());
            if (QByteArray(c.code) == "not_found") {  // well-formed; only the server knows
                QVERIFY2(r.ok(), c.name);
                continue;
            }
            QVERIFY2(!r.ok(), c.name);
            QVERIFY2(apiErrorCodeName(r.error->code) == QLatin1String(c.code),
                     qPrintable(QStringLiteral("%1: got %2 (%3)").arg(c.name,
                                apiErrorCodeName(r.error->code), r.error->message)));
            QVERIFY2(r.error->message.contains(QLatin1String(c.mentions)),
                     qPrintable(QStringLiteral("%1: '%2'").arg(c.name, r.error->message)));
        }
    }

    void engineErrorsMap() {
        QCOMPARE(apiErrorFromEngine(engine::ErrorCode::QueueFull), ApiErrorCode::QueueFull);
        QCOMPARE(apiErrorFromEngine(engine::ErrorCode::PromptTooLong), ApiErrorCode::PromptTooLong);
        QCOMPARE(apiErrorFromEngine(engine::ErrorCode::InvalidArgument), ApiErrorCode::InvalidRequest);
        QCOMPARE(apiErrorFromEngine(engine::ErrorCode::NotFound), ApiErrorCode::NotFound);
        QCOMPARE(apiErrorFromEngine(engine::ErrorCode::Internal), ApiErrorCode::Internal);
    }

    void encodesDone() {
        engine::GenerationResult result;
        result.id = 9;
        result.text = "héllo";
        result.finishReason = engine::FinishReason::StopString;
        result.usage = {5, 3, 2};
        result.timings = {1.5, 4.0, 10.0, 300.0};
        const QJsonObject o = makeDone(QJsonValue("x"), result);
        QCOMPARE(o.value("type").toString(), QStringLiteral("done"));
        QCOMPARE(o.value("id").toString(), QStringLiteral("x"));
        QCOMPARE(o.value("request_id").toInteger(), 9);
        QCOMPARE(o.value("text").toString(), QString::fromUtf8("héllo"));
        QCOMPARE(o.value("finish_reason").toString(), QStringLiteral("stop_string"));
        QCOMPARE(o.value("usage").toObject().value("cached_prompt_tokens").toInt(), 2);
        QCOMPARE(o.value("timings").toObject().value("ttft_ms").toDouble(), 4.0);
        // The frame is one compact JSON object that parses back.
        const QJsonDocument back = QJsonDocument::fromJson(toFrame(o).toUtf8());
        QCOMPARE(back.object(), o);
    }

    void diffsRequestStates() {
        engine::SchedulerSnapshot a, b;
        a.requests.push_back({});
        a.requests.back().id = 1;
        a.requests.back().state = engine::RequestState::Queued;
        b.requests.push_back(a.requests.back());
        b.requests.back().state = engine::RequestState::Decoding;
        b.requests.push_back({});
        b.requests.back().id = 2;
        const auto changes = diffRequestStates(&a, b);
        QCOMPARE(changes.size(), size_t(2));
        QCOMPARE(*changes[0].previous, engine::RequestState::Queued);
        QVERIFY(!changes[1].previous);
        QCOMPARE(diffRequestStates(&b, b).size(), size_t(0));
    }

    void constantTimeCompare() {
        QVERIFY(constantTimeEquals("abcdef", "abcdef"));
        QVERIFY(!constantTimeEquals("abcdef", "abcdeg"));
        QVERIFY(!constantTimeEquals("abcdef", "abcde"));
        QVERIFY(!constantTimeEquals("", "a"));
        QVERIFY(constantTimeEquals("", ""));
    }

    void tokenFileCreatedPrivate() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/sub/api-token";
        auto first = AccessToken::loadOrCreate(path);
        QVERIFY(first.ok());
        QCOMPARE(first.value().size(), 64);
        QCOMPARE(QFile::permissions(path) & ~(QFileDevice::ReadOwner | QFileDevice::WriteOwner |
                                              QFileDevice::ReadUser | QFileDevice::WriteUser),
                 QFileDevice::Permissions());
        auto second = AccessToken::loadOrCreate(path);
        QVERIFY(second.ok());
        QCOMPARE(second.value(), first.value());
        QVERIFY(AccessToken::generate() != AccessToken::generate());
    }

    void corruptTokenFileReplaced() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/api-token";
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("not a token");
        f.close();
        auto t = AccessToken::loadOrCreate(path);
        QVERIFY(t.ok());
        QCOMPARE(t.value().size(), 64);
    }

    void tokenPrecedence() {
        QTemporaryDir dir;
        const QString path = dir.path() + "/api-token";
        qputenv(AccessToken::kEnvironmentVariable, "env-token-0123456789");
        auto r = AccessToken::resolve("cli-token-0123456789", path);
        QVERIFY(r.ok());
        QCOMPARE(r.value().source, TokenSource::CommandLine);
        r = AccessToken::resolve({}, path);
        QCOMPARE(r.value().token, QStringLiteral("env-token-0123456789"));
        qunsetenv(AccessToken::kEnvironmentVariable);
        r = AccessToken::resolve({}, path);
        QCOMPARE(r.value().source, TokenSource::Generated);
        QVERIFY(!AccessToken::resolve("short", path).ok());
        QVERIFY(!AccessToken::resolve("has space in the token!", path).ok());
    }

    void commandLineOptions() {
        QCommandLineParser parser;
        addApiOptions(parser);
        QVERIFY(parser.parse({"serve", "--port", "0", "--token", "cli-token-0123456789",
                              "--allow-origin", "http://localhost:5173", "--api-rate", "50"}));
        QString source;
        auto o = apiOptionsFromParser(parser, &source);
        QVERIFY(o.ok());
        QVERIFY(o.value().host.isNull());  // loopback pair
        QCOMPARE(o.value().port, quint16(0));
        QCOMPARE(o.value().token, QStringLiteral("cli-token-0123456789"));
        QCOMPARE(o.value().allowedOrigins, QStringList{"http://localhost:5173"});
        QCOMPARE(o.value().burst, 100.0);
        QCOMPARE(source, QStringLiteral("--token"));
        QCommandLineParser bad;
        addApiOptions(bad);
        QVERIFY(bad.parse({"serve", "--port", "70000", "--token", "cli-token-0123456789"}));
        QVERIFY(!apiOptionsFromParser(bad).ok());
        QCommandLineParser badHost;
        addApiOptions(badHost);
        QVERIFY(badHost.parse({"serve", "--host", "not-an-ip", "--token", "cli-token-0123456789"}));
        QVERIFY(!apiOptionsFromParser(badHost).ok());
    }
};

QTEST_GUILESS_MAIN(ProtocolTest)
#include "protocol_test.moc"
