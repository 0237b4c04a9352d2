// Test helper: fills a chat history database (created by ConversationStore) in bulk, in one
// transaction (the store commits per write, too slow for setting up benchmarks).
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QString>

namespace batchscope::test {

/// `conversations` conversations titled "Conversation i" (updated_ms = i, so the newest is
/// the last), each with `messagesEach` alternating user/assistant messages. False on any error.
inline bool fillChatHistory(const QString& file, int conversations, int messagesEach) {
    bool ok = true;
    {
        QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("fill"));
        d.setDatabaseName(file);
        ok = d.open();
        QSqlQuery q(d);
        QSqlQuery m(d);
        ok = ok && q.exec(QStringLiteral("BEGIN")) &&
             q.prepare(QStringLiteral("INSERT INTO conversations(title, system_prompt, created_ms, updated_ms) VALUES(?,'',?,?)")) &&
             m.prepare(QStringLiteral("INSERT INTO messages(conversation_id, role, content, state, created_ms) VALUES(?,?,?,1,0)"));
        for (int i = 0; ok && i < conversations; ++i) {
            q.addBindValue(QStringLiteral("Conversation %1").arg(i));
            q.addBindValue(i);
            q.addBindValue(i);
            ok = q.exec();
            const qint64 id = q.lastInsertId().toLongLong();
            for (int k = 0; ok && k < messagesEach; ++k) {
                m.addBindValue(id);
                m.addBindValue(k % 2 ? QStringLiteral("assistant") : QStringLiteral("user"));
                m.addBindValue(QStringLiteral("message %1 of conversation %2, some text to make it realistic").arg(k).arg(i));
                ok = m.exec();
            }
        }
        ok = ok && q.exec(QStringLiteral("COMMIT"));
        d.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("fill"));
    return ok;
}

}  // namespace batchscope::test
