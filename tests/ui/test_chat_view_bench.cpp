// SPDX-License-Identifier: GPL-3.0-or-later
// Figure (not an assertion on time): opening a chat history of 10,000 conversations in the
// window — the database opened, the list filled in the chat view, the newest conversation
// shown and painted — median of 5 runs. Printed as "chat-view: ...".
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "app/bridge/engine_bridge.h"
#include "app/chat/conversation_store.h"
#include "app/gui/chat_controller.h"
#include "tests/app/chat_history_fill.h"
#include "ui/chat_conversation_model.h"
#include "ui/chat_view.h"
#include "ui/main_window.h"

using namespace batchscope;

class TestChatViewBench : public QObject {
    Q_OBJECT
private slots:
    void open10000Conversations() {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("big.sqlite"));
        {
            app::ConversationStore s;
            QCOMPARE(s.open(file), app::ConversationStore::OpenStatus::Ok);
        }
        QVERIFY(test::fillChatHistory(file, 10000, 4));
        app::EngineBridge bridge;
        ui::MainWindow window;
        window.resize(1400, 900);
        window.show();
        window.showChatTab();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        std::vector<double> ms;
        for (int run = 0; run < 5; ++run) {
            QElapsedTimer t;
            t.start();
            app::ConversationStore store;
            QCOMPARE(store.open(file), app::ConversationStore::OpenStatus::Ok);
            app::ChatController chat(bridge, store, window);
            window.chatView()->repaint();  // paint the list now, not at the next event loop turn
            ms.push_back(t.nsecsElapsed() / 1e6);
            QCOMPARE(window.chatView()->conversationModel()->rowCount(), 10000);
            QCOMPARE(window.chatView()->conversationModel()->titleAt(0), QStringLiteral("Conversation 9999"));
            QCOMPARE(window.chatView()->messageCount(), 4);
        }
        std::sort(ms.begin(), ms.end());
        qInfo("chat-view: open + list + show 10000 conversations (40000 messages): median %.1f ms, "
              "min %.1f ms, max %.1f ms (target < 200 ms)", ms[2], ms[0], ms[4]);
    }
};

QTEST_MAIN(TestChatViewBench)
#include "test_chat_view_bench.moc"
