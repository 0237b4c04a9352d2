// SPDX-License-Identifier: GPL-3.0-or-later
// ChatSession on the simulated executor through the real bridge: send, stream, stop,
// regenerate, turn 2 served from the prefix cache, reopen the store and find the history, and
// an over-long conversation dropping its oldest turns with a notice.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app/bridge/engine_bridge.h"
#include "app/chat/chat_session.h"
#include "app/chat/conversation_store.h"
#include "engine/model/simulated_executor.h"

using namespace batchscope;
using app::ChatSession;
using app::ConversationStore;
using app::MessageState;

namespace {

std::unique_ptr<engine::Engine> makeEngine(double perTokenUs, std::int32_t contextLength) {
    engine::SimulatedExecutorConfig executor;
    executor.stepOverheadUs = 500;
    executor.perTokenUs = perTokenUs;
    executor.eosProbability = 0;  // answers run to maxTokens
    executor.contextLength = contextLength;
    engine::EngineConfig config;
    config.numKvBlocks = 512;
    auto engine = engine::Engine::create(config, std::make_unique<engine::SimulatedExecutor>(executor));
    if (!engine) qFatal("engine: %s", engine.error().message.c_str());
    return std::move(engine.value());
}

}  // namespace

class TestChatSession : public QObject {
    Q_OBJECT
private slots:
    void sendStreamsAndSecondTurnUsesPrefixCache();
    void stopKeepsPartialAnswerAndRegenerateReplacesIt();
    void overLongConversationDropsOldestTurns();

private:
    QTemporaryDir m_dir;
};

void TestChatSession::sendStreamsAndSecondTurnUsesPrefixCache() {
    const QString file = m_dir.filePath(QStringLiteral("session.sqlite"));
    qint64 conversation = 0;
    {
        app::EngineBridge bridge;
        bridge.setEngine(makeEngine(2, 4096));
        ConversationStore store;
        QCOMPARE(store.open(file), ConversationStore::OpenStatus::Ok);
        conversation = *store.createConversation(QStringLiteral("t"), QStringLiteral("You are terse."));
        ChatSession session(bridge, store);
        session.setConversation(conversation);
        engine::GenerationOptions options;
        options.maxTokens = 24;
        session.setGenerationOptions(options);
        QSignalSpy updated(&session, &ChatSession::answerUpdated);
        QSignalSpy finished(&session, &ChatSession::answerFinished);
        QVERIFY2(session.send(QStringLiteral("Hello there, how are you today?")), qPrintable(session.error()));
        QVERIFY(finished.wait(20000));
        QVERIFY(updated.count() >= 1);
        const auto first = finished.takeFirst().at(0).value<app::StoredMessage>();
        QCOMPARE(first.state, MessageState::Complete);
        QCOMPARE(first.stats.generatedTokens, 24);
        QVERIFY(first.stats.promptTokens > 16);

        QVERIFY2(session.send(QStringLiteral("And the second question?")), qPrintable(session.error()));
        QVERIFY(finished.wait(20000));
        const auto second = finished.takeFirst().at(0).value<app::StoredMessage>();
        const int fullBlocks = first.stats.promptTokens / 16 * 16;
        QVERIFY2(second.stats.cachedPromptTokens >= fullBlocks,
                 qPrintable(QStringLiteral("cached %1 < %2 (turn 1 prompt %3)")
                                .arg(second.stats.cachedPromptTokens).arg(fullBlocks).arg(first.stats.promptTokens)));
        QVERIFY(second.stats.promptTokens > first.stats.promptTokens);
        qInfo("turn 1: %d prompt tokens; turn 2: %d prompt tokens, %d cached", first.stats.promptTokens,
              second.stats.promptTokens, second.stats.cachedPromptTokens);
    }
    ConversationStore store;  // "restart": the history is there
    QCOMPARE(store.open(file), ConversationStore::OpenStatus::Ok);
    const auto msgs = store.messages(conversation);
    QCOMPARE(msgs.size(), 4);
    QCOMPARE(msgs[2].content, QStringLiteral("And the second question?"));
    QCOMPARE(msgs[3].state, MessageState::Complete);
    QVERIFY(msgs[3].stats.cachedPromptTokens > 0);
}

void TestChatSession::stopKeepsPartialAnswerAndRegenerateReplacesIt() {
    app::EngineBridge bridge;
    bridge.setEngine(makeEngine(3000, 4096));  // slow: ~ms per token, so stop lands mid-stream
    ConversationStore store;
    QCOMPARE(store.open(m_dir.filePath(QStringLiteral("stop.sqlite"))), ConversationStore::OpenStatus::Ok);
    const qint64 c = *store.createConversation(QStringLiteral("s"));
    ChatSession session(bridge, store);
    session.setConversation(c);
    engine::GenerationOptions options;
    options.maxTokens = 2000;
    session.setGenerationOptions(options);
    QSignalSpy updated(&session, &ChatSession::answerUpdated);
    QSignalSpy finished(&session, &ChatSession::answerFinished);
    QVERIFY(session.send(QStringLiteral("Tell me a long story")));
    QVERIFY(updated.wait(20000));
    session.stop();
    QVERIFY(finished.wait(20000));
    const auto stopped = finished.takeFirst().at(0).value<app::StoredMessage>();
    QCOMPARE(stopped.state, MessageState::Stopped);
    QVERIFY(stopped.stats.generatedTokens < 2000);
    auto msgs = store.messages(c);
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[1].state, MessageState::Stopped);
    const QString stoppedText = msgs[1].content;

    options.maxTokens = 8;
    session.setGenerationOptions(options);
    QVERIFY(session.regenerate());
    QVERIFY(finished.wait(20000));
    msgs = store.messages(c);
    QCOMPARE(msgs.size(), 2);  // replaced, not appended
    QVERIFY(msgs[1].content != stoppedText);  // a new answer (the simulated tokens depend on the request)
    QCOMPARE(msgs[1].state, MessageState::Complete);
    QCOMPARE(msgs[1].stats.generatedTokens, 8);
}

void TestChatSession::overLongConversationDropsOldestTurns() {
    app::EngineBridge bridge;
    bridge.setEngine(makeEngine(2, 256));  // 256-token context (byte tokens)
    ConversationStore store;
    QCOMPARE(store.open(m_dir.filePath(QStringLiteral("long.sqlite"))), ConversationStore::OpenStatus::Ok);
    const qint64 c = *store.createConversation(QStringLiteral("l"));
    for (int i = 0; i < 6; ++i) {
        store.addMessage(c, QStringLiteral("user"), QString(60, QLatin1Char('a' + i)));
        store.addMessage(c, QStringLiteral("assistant"), QString(20, QLatin1Char('z')));
    }
    ChatSession session(bridge, store);
    session.setConversation(c);
    engine::GenerationOptions options;
    options.maxTokens = 4;
    session.setGenerationOptions(options);
    QSignalSpy dropped(&session, &ChatSession::turnsDropped);
    QSignalSpy finished(&session, &ChatSession::answerFinished);
    QVERIFY2(session.send(QStringLiteral("last question")), qPrintable(session.error()));
    // The turn is rendered on the bridge's worker: both come back through the event loop
    // (the short answer may finish while we wait for the notice).
    QTRY_COMPARE(dropped.count(), 1);  // a visible notice, not a silent failure
    QVERIFY(dropped.at(0).at(0).toInt() > 0);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QCOMPARE(finished.at(0).at(0).value<app::StoredMessage>().state, MessageState::Complete);
    QCOMPARE(store.messages(c).size(), 14);  // the history itself keeps every turn
}

QTEST_GUILESS_MAIN(TestChatSession)
#include "test_chat_session.moc"
