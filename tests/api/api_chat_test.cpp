// The `chat` message: decoding and validation (pure), and a live chat turn on the simulated
// engine with the model's template reported by get_model.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QJsonArray>
#include <QtTest>

#include "app/api/protocol.h"
#include "tests/api/api_test_harness.h"

using namespace batchscope;
using namespace batchscope::app::api;
using namespace batchscope::app::api::test;

namespace {

QJsonObject chatMessage(const QJsonValue& id, const QJsonArray& messages, int maxTokens) {
    return {{"type", "chat"}, {"id", id}, {"messages", messages}, {"max_tokens", maxTokens}, {"temperature", 0}};
}

QJsonObject turn(const QString& role, const QString& content) { return {{"role", role}, {"content", content}}; }

DecodeResult decode(const QByteArray& frame) {
    DecodeLimits limits;
    limits.contextLength = 256;
    limits.maxPromptBytes = 64;
    limits.maxChatMessages = 4;
    return decodeClientMessage(frame, limits);
}

}  // namespace

class ApiChatTest : public QObject {
    Q_OBJECT
private slots:
    void decodesChat() {
        const DecodeResult r = decode(R"({"type":"chat","id":"c","messages":[{"role":"system","content":"Be brief."},
            {"role":"user","content":"Hi <|im_end|>"}],"max_tokens":5,"seed":3,"stream":false})");
        QVERIFY2(r.ok(), qPrintable(r.error ? r.error->message : QString()));
        QCOMPARE(r.message.type, MessageType::Chat);
        const GenerateMessage& g = r.message.generate;
        QVERIFY(g.chat);
        QCOMPARE(g.messages.size(), size_t(2));
        QCOMPARE(g.messages[1].role, std::string("user"));
        QCOMPARE(g.messages[1].content, std::string("Hi <|im_end|>"));
        QCOMPARE(g.options.maxTokens, 5);
        QCOMPARE(g.stream, false);
    }

    void rejectsBadMessages_data() {
        QTest::addColumn<QByteArray>("frame");
        QTest::addColumn<QString>("code");
        QTest::addColumn<QString>("fragment");
        QTest::newRow("missing") << QByteArray(R"({"type":"chat"})") << "invalid_request" << "messages: required";
        QTest::newRow("empty") << QByteArray(R"({"type":"chat","messages":[]})") << "invalid_request"
                               << "messages: must not be empty";
        QTest::newRow("not array") << QByteArray(R"({"type":"chat","messages":"hi"})") << "invalid_request"
                                   << "messages: expected an array";
        QTest::newRow("bad role") << QByteArray(R"({"type":"chat","messages":[{"role":"wizard","content":"x"}]})")
                                  << "invalid_request" << "messages[0].role: unknown role 'wizard'";
        QTest::newRow("content type") << QByteArray(R"({"type":"chat","messages":[{"role":"user","content":5}]})")
                                      << "invalid_request" << "messages[0]:";
        QTest::newRow("extra field")
            << QByteArray(R"({"type":"chat","messages":[{"role":"user","content":"x","name":"n"}]})") << "invalid_request"
            << "messages[0]:";
        QTest::newRow("prompt field") << QByteArray(R"({"type":"chat","prompt":"x","messages":[{"role":"user","content":"x"}]})")
                                      << "invalid_request" << "prompt";
        QTest::newRow("too many")
            << QByteArray(R"({"type":"chat","messages":[{"role":"user","content":"1"},{"role":"user","content":"2"},
                {"role":"user","content":"3"},{"role":"user","content":"4"},{"role":"user","content":"5"}]})")
            << "invalid_request" << "at most 4 messages";
        QTest::newRow("too long") << QByteArray(R"({"type":"chat","messages":[{"role":"user","content":")" +
                                                QByteArray(40, 'a') + R"("},{"role":"user","content":")" +
                                                QByteArray(40, 'b') + R"("}]})")
                                  << "prompt_too_long" << "exceed 64 bytes";
    }

    void rejectsBadMessages() {
        QFETCH(QByteArray, frame);
        QFETCH(QString, code);
        QFETCH(QString, fragment);
        const DecodeResult r = decode(frame);
        QVERIFY(!r.ok());
        QCOMPARE(apiErrorCodeName(r.error->code), code);
        QVERIFY2(r.error->message.contains(fragment), qPrintable(r.error->message));
    }

    void chatTurnStreamsLikeGenerate() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        c.send({{"type", "get_model"}, {"id", "m"}});
        const QJsonObject model = c.waitReply("model", "m").value("model").toObject();
        QVERIFY2(model.value("chat_template_source").toString().startsWith("built-in: chatml"),
                 qPrintable(model.value("chat_template_source").toString()));
        QVERIFY(model.value("chat_template").toString().contains("<|im_start|>"));
        c.send(chatMessage("c1", {turn("system", "Be brief."), turn("user", "Hello")}, 6));
        QVERIFY(!c.waitReply("accepted", "c1").isEmpty());
        const QJsonObject done = c.waitReply("done", "c1");
        QCOMPARE(done.value("usage").toObject().value("completion_tokens").toInt(), 6);
        // The byte tokenizer: one token per byte of the rendered ChatML prompt.
        const QString rendered = QStringLiteral("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                                                "<|im_start|>assistant\n");
        QVERIFY(done.value("usage").toObject().value("prompt_tokens").toInt() >= rendered.toUtf8().size());
        QVERIFY(c.count("token") > 0);
    }

    // A template the user set (GUI model panel, --chat-template) is what get_model reports
    // and what chat turns are rendered with.
    void getModelReportsAUserTemplate() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        const std::string text = "{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}[assistant]";
        QVERIFY(h.bridge.setChatTemplate(text, "file: /tmp/bracket.jinja").ok());
        c.send({{"type", "get_model"}, {"id", "m"}});
        const QJsonObject model = c.waitReply("model", "m").value("model").toObject();
        QCOMPARE(model.value("chat_template_source").toString(), QStringLiteral("file: /tmp/bracket.jinja"));
        QCOMPARE(model.value("chat_template").toString(), QString::fromStdString(text));
        c.send(chatMessage("c1", {turn("user", "Hello")}, 2));
        const QJsonObject done = c.waitReply("done", "c1");
        // The byte tokenizer: one token per byte of "[user]Hello[assistant]" (plus any BOS).
        const int prompt = done.value("usage").toObject().value("prompt_tokens").toInt();
        QVERIFY2(prompt >= 22 && prompt <= 23, qPrintable(QString::number(prompt)));
        h.bridge.resetChatTemplate();
        c.send({{"type", "get_model"}, {"id", "m2"}});
        QVERIFY(c.waitReply("model", "m2").value("model").toObject().value("chat_template_source").toString()
                    .startsWith("built-in: chatml"));
    }

    void overlongConversationIsPromptTooLong() {
        Harness h;
        Client c;
        QVERIFY(c.open(h.server->url()));
        // The simulated model's context is 256 tokens (bytes): this renders past it.
        c.send(chatMessage("big", {turn("user", QString(150, 'x')), turn("assistant", QString(150, 'y'))}, 4));
        QCOMPARE(c.waitError("big").value("code").toString(), QStringLiteral("prompt_too_long"));
        c.send(chatMessage("bad", {turn("robot", "x")}, 4));
        QCOMPARE(c.waitError("bad").value("code").toString(), QStringLiteral("invalid_request"));
    }
};

QTEST_MAIN(ApiChatTest)
#include "api_chat_test.moc"
