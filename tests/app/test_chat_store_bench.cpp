// SPDX-License-Identifier: GPL-3.0-or-later
// Figure (not an assertion on time): opening a chat history of 10,000 conversations and
// listing them, median of 5 runs. Printed as "chat-db: ...".
#include <QElapsedTimer>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "app/chat/conversation_store.h"

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
        {  // bulk fill in one transaction (the store commits per write, too slow for setup)
            QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fill"));
            d.setDatabaseName(file);
            QVERIFY(d.open());
            QSqlQuery q(d);
            QVERIFY(q.exec(QStringLiteral("BEGIN")));
            QVERIFY(q.prepare(QStringLiteral("INSERT INTO conversations(title, system_prompt, created_ms, updated_ms) VALUES(?,'',?,?)")));
            QSqlQuery m(d);
            QVERIFY(m.prepare(QStringLiteral("INSERT INTO messages(conversation_id, role, content, state, created_ms) VALUES(?,?,?,1,0)")));
            for (int i = 0; i < 10000; ++i) {
                q.addBindValue(QStringLiteral("Conversation %1").arg(i));
                q.addBindValue(i);
                q.addBindValue(i);
                QVERIFY(q.exec());
                const qint64 id = q.lastInsertId().toLongLong();
                for (int k = 0; k < 4; ++k) {
                    m.addBindValue(id);
                    m.addBindValue(k % 2 ? QStringLiteral("assistant") : QStringLiteral("user"));
                    m.addBindValue(QStringLiteral("message %1 of conversation %2, some text to make it realistic").arg(k).arg(i));
                    QVERIFY(m.exec());
                }
            }
            QVERIFY(q.exec(QStringLiteral("COMMIT")));
            d.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("fill"));
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
