// SPDX-License-Identifier: GPL-3.0-or-later
// The chat view in the real window, driven by the engine (simulated executor) through the
// bridge, the GUI controller and the chat controller exactly as runGui wires them: send,
// stream (bounded refresh), stop, regenerate, turn 2 from the prefix cache shown in the
// message figures, the rendered prompt, the link to the request table, switching
// conversations, rename / search / delete, quit and model switch mid-stream, restart (the
// window destroyed and recreated on the same database) and an unusable database (chat goes on
// in memory, with a notice).
#include <QClipboard>
#include <QElapsedTimer>
#include <QGuiApplication>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>

#include "app/bridge/engine_bridge.h"
#include "app/chat/chat_session.h"
#include "app/chat/conversation_store.h"
#include "app/gui/chat_controller.h"
#include "app/gui/gui_controller.h"
#include "engine/model/simulated_executor.h"
#include "ui/block_map_widget.h"
#include "ui/chat_conversation_model.h"
#include "ui/chat_message_widget.h"
#include "ui/chat_view.h"
#include "ui/main_window.h"
#include "ui/request_table_model.h"
#include "ui/request_table_view.h"

using namespace batchscope;
using app::ChatSession;
using app::ConversationStore;
using app::MessageState;
using ui::ChatMessageItem;

namespace {

std::unique_ptr<engine::Engine> makeEngine(double perTokenUs) {
    engine::SimulatedExecutorConfig executor;
    executor.stepOverheadUs = 500;
    executor.perTokenUs = perTokenUs;
    executor.eosProbability = 0;  // answers run to maxTokens
    executor.contextLength = 4096;
    engine::EngineConfig config;
    config.numKvBlocks = 512;
    auto engine = engine::Engine::create(config, std::make_unique<engine::SimulatedExecutor>(executor));
    if (!engine) qFatal("engine: %s", engine.error().message.c_str());
    return std::move(engine.value());
}

/// The app as runGui builds it, on one database.
struct App {
    explicit App(const QString& db, double perTokenUs = 2) {
        window = std::make_unique<ui::MainWindow>();
        gui = std::make_unique<app::GuiController>(bridge, *window);
        gui->setInteractive(false);
        bridge.setEngine(makeEngine(perTokenUs));
        if (store.open(db) != ConversationStore::OpenStatus::Ok) store.openInMemory();  // as runGui
        chat = std::make_unique<app::ChatController>(bridge, store, *window);
        window->chatView()->setConfirmDeletes(false);
        window->resize(1400, 900);
        window->show();
        window->showChatTab();
    }
    ~App() {
        chat.reset();
        gui.reset();
        window.reset();
    }
    ui::ChatView& view() { return *window->chatView(); }
    ChatSession& session() { return chat->session(); }
    void setMaxTokens(int n) {
        engine::GenerationOptions o;
        o.maxTokens = n;
        chat->setGenerationOptions(o);
    }
    /// Types and sends; false if nothing started streaming.
    bool send(const QString& text) {
        view().input()->setPlainText(text);
        view().sendButton()->click();
        return session().isStreaming();
    }
    ui::ChatMessageWidget* last() { return view().messageWidget(view().messageCount() - 1); }

    app::EngineBridge bridge;  // destroyed last
    std::unique_ptr<ui::MainWindow> window;
    std::unique_ptr<app::GuiController> gui;
    ConversationStore store;
    std::unique_ptr<app::ChatController> chat;
};

bool waitFinished(App& a, int timeoutMs = 20000) {
    QSignalSpy spy(&a.session(), &ChatSession::answerFinished);
    return !a.session().isStreaming() || spy.wait(timeoutMs);
}

}  // namespace

class TestChatView : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void sendStreamsWithBoundedRefreshAndTurnTwoIsCached();
    void stopKeepsPartialTextAndRegenerateReplacesIt();
    void conversationsSwitchRenameSearchDelete();
    void quitAndModelSwitchCommitTheStreamingAnswer();
    void restartFindsTheHistory();
    void unusableDatabaseKeepsChatInMemory_data();
    void unusableDatabaseKeepsChatInMemory();

private:
    QString db(const char* name) const { return m_dir.filePath(QLatin1String(name)); }
    QTemporaryDir m_dir;
};

void TestChatView::initTestCase() {
    QVERIFY(m_dir.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.path());
    QCoreApplication::setOrganizationName(QStringLiteral("batchscope-tests"));
}

void TestChatView::sendStreamsWithBoundedRefreshAndTurnTwoIsCached() {
    App a(db("main.sqlite"), 1500);  // ~1.5 ms per token: a visible stream
    QVERIFY(a.view().isHistoryAvailable());
    a.view().newButton()->click();
    QVERIFY(a.view().currentConversation() != 0);
    QCOMPARE(a.view().conversationModel()->rowCount(), 1);
    a.view().systemPromptEdit()->setPlainText(QStringLiteral("You are terse."));
    a.setMaxTokens(400);  // >= 0.8 s of stream: the view refreshes (every 50 ms) well before the end
    QSignalSpy updates(&a.session(), &ChatSession::answerUpdated);
    QElapsedTimer clock;
    clock.start();
    QVERIFY2(a.send(QStringLiteral("Hello there, how are you today?")), qPrintable(a.view().notice()));
    // Rendered and tokenized on the bridge's worker: send() returned before the engine had
    // the request (its id comes back through the event loop, which has not run since).
    QVERIFY(a.session().isSubmitting());
    QCOMPARE(a.session().currentRequest(), engine::kInvalidRequestId);
    QVERIFY(a.view().input()->toPlainText().isEmpty());
    QVERIFY(a.view().stopButton()->isEnabled());
    QVERIFY(!a.view().sendButton()->isEnabled());
    QCOMPARE(a.view().messageCount(), 2);
    // Streamed: text shows up in the view while the answer is still being generated.
    QTRY_VERIFY_WITH_TIMEOUT(!a.last()->text().isEmpty() || !a.session().isStreaming(), 20000);
    const bool sawPartial = a.session().isStreaming();
    QVERIFY(waitFinished(a));
    const qint64 elapsed = clock.elapsed();
    QVERIFY2(sawPartial, "the answer finished before any text was shown");
    const int refreshes = a.view().refreshCount();
    QVERIFY(refreshes >= 1);
    // Bounded refresh rate: at most one per interval, however many token batches came.
    QVERIFY2(refreshes <= elapsed / a.view().refreshIntervalMs() + 2,
             qPrintable(QStringLiteral("%1 refreshes in %2 ms").arg(refreshes).arg(elapsed)));
    qInfo("%lld token batches, %d view refreshes in %lld ms", qlonglong(updates.count()), refreshes, elapsed);
    const ChatMessageItem first = a.last()->message();
    QCOMPARE(first.state, ChatMessageItem::State::Complete);
    QCOMPARE(first.generatedTokens, 400);
    QVERIFY(first.promptTokens > 16);
    QVERIFY(first.ttftMs > 0);
    QVERIFY(first.tokensPerSecond > 0);
    QVERIFY(a.last()->findChild<QLabel*>(QStringLiteral("chatMessageStats"))->isVisibleTo(a.last()));
    QCOMPARE(a.store.messages(a.view().currentConversation()).at(1).content, a.last()->text());
    // The title comes from the first message.
    QCOMPARE(a.view().conversationModel()->titleAt(0), QStringLiteral("Hello there, how are you today?"));

    // Turn 2 reuses turn 1 from the prefix cache, and the message figures show it.
    a.setMaxTokens(16);
    QVERIFY(a.send(QStringLiteral("And the second question?")));
    QVERIFY(waitFinished(a));
    const ChatMessageItem second = a.last()->message();
    const int fullBlocks = first.promptTokens / 16 * 16;
    QVERIFY2(second.cachedPromptTokens >= fullBlocks,
             qPrintable(QStringLiteral("cached %1 < %2").arg(second.cachedPromptTokens).arg(fullBlocks)));
    QVERIFY(a.last()->statsText().contains(QStringLiteral("cached %1").arg(second.cachedPromptTokens)));
    qInfo("turn 1: %d prompt tokens; turn 2: %d prompt tokens, %d cached", first.promptTokens,
          second.promptTokens, second.cachedPromptTokens);

    // The rendered prompt: the exact text and token count sent.
    a.last()->promptButton()->click();  // rendered on the worker, shown when it comes back
    QWidget* dialog = nullptr;
    QTRY_VERIFY((dialog = a.view().findChild<QWidget*>(QStringLiteral("renderedPromptDialog"))) && dialog->isVisible());
    const QString prompt = dialog->findChild<QPlainTextEdit*>(QStringLiteral("renderedPromptText"))->toPlainText();
    QVERIFY(prompt.contains(QStringLiteral("You are terse.")));
    QVERIFY(prompt.contains(QStringLiteral("Hello there, how are you today?")));
    QVERIFY(prompt.contains(QStringLiteral("And the second question?")));
    const QString info = dialog->findChild<QLabel*>(QStringLiteral("renderedPromptInfo"))->text();
    QVERIFY2(info.startsWith(QStringLiteral("%1 tokens").arg(second.promptTokens)), qPrintable(info));

    // Chat turns are ordinary requests in the request table, labelled with their conversation.
    const engine::RequestId request = second.request;
    QVERIFY(request != engine::kInvalidRequestId);
    a.bridge.publishSnapshot();
    QTRY_VERIFY(a.window->requestModel()->rowOf(request) >= 0);
    const int row = a.window->requestModel()->rowOf(request);
    const QString cell = a.window->requestModel()->index(row, ui::RequestTableModel::Prompt).data().toString();
    QVERIFY2(cell.startsWith(QStringLiteral("[chat: Hello there")), qPrintable(cell));
    a.last()->requestButton()->click();  // message -> its request
    QCOMPARE(a.window->centralTabs()->currentIndex(), 0);
    QCOMPARE(a.window->requestView()->selectedIds(), QList<engine::RequestId>{request});
    emit a.window->labelledRequestActivated(request);  // request (double-click) -> conversation
    QCOMPARE(a.window->centralTabs()->currentWidget(), &a.view());
    QCOMPARE(a.chat->conversationOfRequest(request), a.view().currentConversation());
    // For a look at the layout (not compared): chat_view.png next to the test binary.
    dialog->hide();
    a.view().flush();
    a.window->grab().save(QCoreApplication::applicationDirPath() + QStringLiteral("/chat_view.png"));
}

void TestChatView::stopKeepsPartialTextAndRegenerateReplacesIt() {
    App a(db("stop.sqlite"), 3000);
    a.view().newButton()->click();
    a.setMaxTokens(4000);
    QVERIFY(a.send(QStringLiteral("Tell me a long story")));
    QTRY_VERIFY_WITH_TIMEOUT(!a.last()->text().isEmpty(), 20000);
    // The streaming turn owns KV blocks; the KV map names its conversation.
    const engine::RequestId request = a.session().currentRequest();
    a.bridge.publishSnapshot();
    const auto& blocks = a.window->blockMap()->blocks();
    const auto owned = std::find_if(blocks.begin(), blocks.end(),
                                    [request](const engine::KvBlockView& b) { return b.owner == request; });
    QVERIFY(owned != blocks.end());
    const QString tip = a.window->blockMap()->blockToolTip(int(owned - blocks.begin()));
    QVERIFY2(tip.contains(QStringLiteral("chat: Tell me a long story")), qPrintable(tip));
    a.view().stopButton()->click();
    QVERIFY(waitFinished(a));
    a.view().flush();
    const ChatMessageItem stopped = a.last()->message();
    QCOMPARE(stopped.state, ChatMessageItem::State::Stopped);
    QVERIFY(!stopped.content.isEmpty());
    const auto stored = a.store.messages(a.view().currentConversation());
    QCOMPARE(stored.size(), 2);
    QCOMPARE(stored[1].state, MessageState::Stopped);
    QCOMPARE(stored[1].content, stopped.content);
    a.last()->copyButton()->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), stopped.content);
    QVERIFY(a.view().regenerateButton()->isEnabled());

    a.setMaxTokens(8);
    a.view().regenerateButton()->click();
    QVERIFY(a.session().isStreaming());
    QVERIFY(waitFinished(a));
    QCOMPARE(a.view().messageCount(), 2);  // replaced, not appended
    QCOMPARE(a.last()->message().state, ChatMessageItem::State::Complete);
    QCOMPARE(a.last()->message().generatedTokens, 8);
    QVERIFY(a.last()->text() != stopped.content);
    QCOMPARE(a.store.messages(a.view().currentConversation()).size(), 2);
}

void TestChatView::conversationsSwitchRenameSearchDelete() {
    App a(db("switch.sqlite"));
    a.setMaxTokens(4);
    a.view().newButton()->click();
    const qint64 first = a.view().currentConversation();
    QVERIFY(a.send(QStringLiteral("apples")));
    QVERIFY(waitFinished(a));
    a.view().newButton()->click();
    const qint64 second = a.view().currentConversation();
    QVERIFY(second != first);
    QCOMPARE(a.view().messageCount(), 0);
    QVERIFY(a.send(QStringLiteral("bananas")));
    QVERIFY(waitFinished(a));
    ui::ChatConversationModel* model = a.view().conversationModel();
    QCOMPARE(model->rowCount(), 2);
    QCOMPARE(model->titleAt(0), QStringLiteral("bananas"));  // newest first

    // Switch by selecting it in the list.
    QListView* list = a.view().conversationList();
    QCOMPARE(model->titleAt(1), QStringLiteral("apples"));
    list->setCurrentIndex(model->index(1));
    QCOMPARE(a.view().currentConversation(), first);
    QCOMPARE(a.view().messageCount(), 2);
    QCOMPARE(a.view().messageWidget(0)->text(), QStringLiteral("apples"));

    // Rename (edit the title in the list).
    QVERIFY(model->setData(model->index(model->rowOf(first)), QStringLiteral("Fruit"), Qt::EditRole));
    QTRY_COMPARE(a.store.conversation(first)->title, QStringLiteral("Fruit"));
    QTRY_COMPARE(model->titleAt(model->rowOf(first)), QStringLiteral("Fruit"));
    // Search matches message text.
    a.view().searchField()->setText(QStringLiteral("banana"));
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->titleAt(0), QStringLiteral("bananas"));
    a.view().searchField()->clear();
    QCOMPARE(model->rowCount(), 2);
    // Delete the current one.
    a.view().deleteButton()->click();
    QVERIFY(!a.store.conversation(first));
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(a.view().currentConversation(), second);
    // Export.
    const QString md = m_dir.filePath(QStringLiteral("bananas.md"));
    QVERIFY(a.chat->exportConversation(second, md));
    QFile file(md);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains("bananas"));
}

void TestChatView::quitAndModelSwitchCommitTheStreamingAnswer() {
    const QString file = db("quit.sqlite");
    qint64 conversation = 0;
    {
        App a(file, 3000);
        a.view().newButton()->click();
        conversation = a.view().currentConversation();
        a.setMaxTokens(4000);
        // Model switch mid-stream: the answer is committed as it stands.
        QVERIFY(a.send(QStringLiteral("first long answer")));
        QTRY_VERIFY_WITH_TIMEOUT(!a.last()->text().isEmpty(), 20000);
        QSignalSpy switched(&a.bridge, &app::EngineBridge::modelChanged);
        a.bridge.setEngine(makeEngine(3000));
        QVERIFY(!a.session().isStreaming());
        auto msgs = a.store.messages(conversation);
        QCOMPARE(msgs.size(), 2);
        QCOMPARE(msgs[1].state, MessageState::Stopped);
        QVERIFY(!msgs[1].content.isEmpty());
        QCOMPARE(a.last()->message().state, ChatMessageItem::State::Stopped);
        QVERIFY(switched.wait(20000));
        // Quit mid-stream (the app's aboutToQuit calls shutdown()).
        QVERIFY(a.send(QStringLiteral("second long answer")));
        QTRY_VERIFY_WITH_TIMEOUT(!a.last()->text().isEmpty(), 20000);
        a.chat->shutdown();
    }
    ConversationStore store;
    QCOMPARE(store.open(file), ConversationStore::OpenStatus::Ok);
    const auto msgs = store.messages(conversation);
    QCOMPARE(msgs.size(), 4);
    QCOMPARE(msgs[3].state, MessageState::Stopped);  // not Interrupted: committed at quit
    QVERIFY(!msgs[3].content.isEmpty());
}

void TestChatView::restartFindsTheHistory() {
    const QString file = db("main.sqlite");  // written by the first test
    App a(file);
    QCOMPARE(a.view().conversationModel()->rowCount(), 1);
    QCOMPARE(a.view().messageCount(), 4);
    QCOMPARE(a.view().systemPrompt(), QStringLiteral("You are terse."));
    QCOMPARE(a.view().messageWidget(2)->text(), QStringLiteral("And the second question?"));
    const ChatMessageItem answer = a.view().messageWidget(3)->message();
    QCOMPARE(answer.state, ChatMessageItem::State::Complete);
    QVERIFY(answer.cachedPromptTokens > 0);  // the figures are stored with the message
    // The history is rebuilt into the prompt on demand after a restart.
    a.view().messageWidget(3)->promptButton()->click();
    QWidget* dialog = nullptr;
    QTRY_VERIFY((dialog = a.view().findChild<QWidget*>(QStringLiteral("renderedPromptDialog"))));
    const QString info = dialog->findChild<QLabel*>(QStringLiteral("renderedPromptInfo"))->text();
    QVERIFY2(info.startsWith(QStringLiteral("%1 tokens").arg(answer.promptTokens)), qPrintable(info));
    // And the conversation goes on.
    a.setMaxTokens(4);
    QVERIFY(a.send(QStringLiteral("Third")));
    QVERIFY(waitFinished(a));
    QCOMPARE(a.view().messageCount(), 6);
}

void TestChatView::unusableDatabaseKeepsChatInMemory_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("why");
    QTest::newRow("corrupt") << db("corrupt.sqlite") << QStringLiteral("not a database");
    // A directory that cannot be created (a file is in the way), as for a read-only location.
    QTest::newRow("unwritable") << db("blocker/history.sqlite") << QStringLiteral("cannot create the directory");
}

void TestChatView::unusableDatabaseKeepsChatInMemory() {
    QFETCH(QString, file);
    QFETCH(QString, why);
    const QString junkPath = file.contains(QLatin1String("blocker")) ? db("blocker") : file;
    const QByteArray junk(8192, 'x');
    {
        QFile f(junkPath);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(junk);
    }
    {
        App a(file);
        QVERIFY(a.store.isOpen());
        QVERIFY(a.store.isInMemory());
        QVERIFY(a.view().isHistoryAvailable());
        auto* banner = a.view().findChild<QLabel*>(QStringLiteral("chatHistoryOff"));
        QVERIFY(banner && banner->isVisibleTo(&a.view()));
        QVERIFY2(banner->text().startsWith(QStringLiteral("Chat history is not being saved: ")), qPrintable(banner->text()));
        QVERIFY2(banner->text().contains(why, Qt::CaseInsensitive), qPrintable(banner->text()));
        QVERIFY2(banner->text().contains(file), qPrintable(banner->text()));
        // Ready to chat: a conversation exists, and a turn streams and finishes.
        QVERIFY(a.view().currentConversation() != 0);
        QVERIFY(a.view().newButton()->isEnabled());
        a.setMaxTokens(6);
        QVERIFY2(a.send(QStringLiteral("Still there?")), qPrintable(a.view().notice()));
        QVERIFY(waitFinished(a));
        QCOMPARE(a.view().messageCount(), 2);
        QCOMPARE(a.last()->message().state, ChatMessageItem::State::Complete);
        QCOMPARE(a.last()->message().generatedTokens, 6);
        QCOMPARE(a.store.messages(a.view().currentConversation()).size(), 2);
        QVERIFY(banner->isVisibleTo(&a.view()));  // the notice stays
        QVERIFY(a.bridge.hasEngine());
    }
    QFile f(junkPath);  // the file was not touched
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), junk);
}

QTEST_MAIN(TestChatView)
#include "test_chat_view.moc"
