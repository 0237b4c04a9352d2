// SPDX-License-Identifier: GPL-3.0-or-later
// Figure (not an assertion on time): opening a chat history of 10,000 conversations and
// listing them, median of 5 runs. Printed as "chat-db: ...".
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "app/chat/conversation_store.h"
#include "tests/app/chat_history_fill.h"

using batchscope::app::ConversationStore;

class TestChatStoreBench : public QObject {
    Q_OBJECT
private slots:
    void open10000Conversations() {
        QTemporaryDir dir;
        const QString file = dir.filePath(QStringLiteral("big.sqlite"));
        {
            ConversationStore s;
            QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
        }
        QVERIFY(batchscope::test::fillChatHistory(file, 10000, 4));
        std::vector<double> ms;
        for (int run = 0; run < 5; ++run) {
            QElapsedTimer t;
            t.start();
            ConversationStore s;
            QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
            const auto list = s.conversations();
            ms.push_back(t.nsecsElapsed() / 1e6);
            QCOMPARE(list.size(), 10000);
            QCOMPARE(list.front().title, QStringLiteral("Conversation 9999"));
        }
        std::sort(ms.begin(), ms.end());
        qInfo("chat-db: open + list 10000 conversations (40000 messages): median %.1f ms, min %.1f ms, max %.1f ms (target < 200 ms)",
              ms[2], ms[0], ms[4]);
    }
};

QTEST_GUILESS_MAIN(TestChatStoreBench)
#include "test_chat_store_bench.moc"
