// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/chat/conversation_store.h"

#include <QAtomicInt>
#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QVariant>

namespace batchscope::app {

namespace {

QAtomicInt g_connectionCounter;

// Migration N turns schema N-1 into schema N; index 0 is migration 1. Append only: a
// released migration never changes (databases in the field have run it).
const char* const kMigrations[] = {
    // 1: conversations and their messages.
    "CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL,"
    " system_prompt TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX conversations_by_update ON conversations(updated_ms DESC, id DESC);"
    "CREATE TABLE messages (id INTEGER PRIMARY KEY,"
    " conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
    " role TEXT NOT NULL, content TEXT NOT NULL, state INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE INDEX messages_by_conversation ON messages(conversation_id, id);",
    // 2: per assistant message figures.
    "ALTER TABLE messages ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN cached_prompt_tokens INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN generated_tokens INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN ttft_ms REAL NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN tokens_per_second REAL NOT NULL DEFAULT 0;",
};
static_assert(std::size(kMigrations) == ConversationStore::kSchemaVersion);

// A null QString binds as SQL NULL; the text columns are NOT NULL.
QString nonNull(const QString& text) { return text.isNull() ? QStringLiteral("") : text; }

QString escapeLike(QString text) {
    text.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    text.replace(QLatin1Char('%'), QLatin1String("\\%"));
    text.replace(QLatin1Char('_'), QLatin1String("\\_"));
    return QLatin1Char('%') + text + QLatin1Char('%');
}

}  // namespace

QString messageStateName(MessageState state) {
    switch (state) {
    case MessageState::Streaming: return QStringLiteral("streaming");
    case MessageState::Complete: return QStringLiteral("complete");
    case MessageState::Stopped: return QStringLiteral("stopped");
    case MessageState::Interrupted: return QStringLiteral("interrupted");
    }
    return QStringLiteral("unknown");
}

ConversationStore::ConversationStore()
    : m_connection(QStringLiteral("batchscope-chat-%1").arg(g_connectionCounter.fetchAndAddRelaxed(1))) {
    m_monotonic.start();
}

ConversationStore::~ConversationStore() { close(); }

QString ConversationStore::defaultPath() {
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation))
        .filePath(QStringLiteral("chat-history.sqlite"));
}

QSqlDatabase ConversationStore::db() const { return QSqlDatabase::database(m_connection, false); }

qint64 ConversationStore::nowMs() const { return m_clock ? m_clock() : m_monotonic.elapsed(); }

ConversationStore::OpenStatus ConversationStore::classify(const QString& error) const {
    const QString e = error.toLower();
    if (e.contains(QLatin1String("locked")) || e.contains(QLatin1String("busy"))) return OpenStatus::Locked;
    if (e.contains(QLatin1String("readonly")) || e.contains(QLatin1String("read-only")) ||
        e.contains(QLatin1String("unable to open")))
        return OpenStatus::ReadOnly;
    if (e.contains(QLatin1String("not a database")) || e.contains(QLatin1String("malformed")) ||
        e.contains(QLatin1String("corrupt")))
        return OpenStatus::Corrupt;
    return OpenStatus::Error;
}

ConversationStore::OpenStatus ConversationStore::open(const QString& path) {
    close();
    m_path = path;
    m_inMemory = path == QLatin1String(":memory:");
    m_openReason.clear();
    auto fail = [this](OpenStatus status, const QString& why) {
        m_status = status;
        m_openReason = QStringLiteral("%1 (%2)").arg(why, m_path);
        m_openError = QStringLiteral("Chat history is off: ") + m_openReason;
        close();
        return status;
    };
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        return fail(OpenStatus::NoDriver, QStringLiteral("the Qt SQLite driver is not installed "
                                                         "(Debian package libqt6sql6-sqlite)"));
    const QFileInfo info(path);
    if (!m_inMemory && !QDir().mkpath(info.absolutePath()))
        return fail(OpenStatus::ReadOnly, QStringLiteral("cannot create the directory %1").arg(info.absolutePath()));
    {
        QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), m_connection);
        d.setDatabaseName(path);
        d.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=%1").arg(m_busyTimeoutMs));
        if (!d.open()) {
            const QString why = d.lastError().text();
            return fail(classify(why), QStringLiteral("cannot open the database: %1").arg(why));
        }
    }
    m_open = true;
    QSqlQuery wal(db());
    if (!wal.exec(QStringLiteral("PRAGMA journal_mode=WAL")) || !wal.next()) {
        const QString why = wal.lastError().text();
        return fail(classify(why), QStringLiteral("the database cannot be read: %1").arg(why));
    }
    const QString journalMode = wal.value(0).toString().toLower();
    wal.finish();  // an unfinished statement would make COMMIT fail
    if (journalMode != QLatin1String("wal") && !m_inMemory)  // an in-memory database has no WAL
        return fail(OpenStatus::ReadOnly, QStringLiteral("the database cannot be written (WAL mode refused)"));
    execSql(QStringLiteral("PRAGMA foreign_keys=ON"));
    execSql(QStringLiteral("PRAGMA synchronous=NORMAL"));  // WAL: durable at checkpoints, never corrupt
    if (!migrate()) {
        const OpenStatus status = m_status == OpenStatus::NewerSchema ? m_status : classify(m_lastError);
        return fail(status, m_lastError);
    }
    m_status = OpenStatus::Ok;
    m_openError.clear();
    return m_status;
}

ConversationStore::OpenStatus ConversationStore::openInMemory() {
    const QString reason = m_openReason, file = m_path;
    const OpenStatus status = open(QStringLiteral(":memory:"));
    if (status == OpenStatus::Ok) {
        m_path = file;
        m_openReason = reason.isEmpty() ? QStringLiteral("no database file") : reason;
        m_openError = QStringLiteral("Chat history is not being saved: ") + m_openReason;
    }
    return status;
}

bool ConversationStore::migrate() {
    QSqlQuery version(db());
    if (!version.exec(QStringLiteral("PRAGMA user_version")) || !version.next()) {
        m_lastError = QStringLiteral("the database cannot be read: ") + version.lastError().text();
        return false;
    }
    const int from = version.value(0).toInt();
    version.finish();
    if (from > kSchemaVersion) {
        m_status = OpenStatus::NewerSchema;
        m_lastError = QStringLiteral("the database has schema version %1, this Batchscope knows up to %2 "
                                     "(written by a newer version)").arg(from).arg(kSchemaVersion);
        return false;
    }
    // One write transaction: migrations, the version, and crash recovery. It also proves the
    // database is writable (a read-only or locked one fails here, not at the first message).
    if (!execSql(QStringLiteral("BEGIN IMMEDIATE"))) return false;
    bool ok = true;
    for (int v = from; ok && v < kSchemaVersion; ++v)
        for (const QString& statement : QString::fromLatin1(kMigrations[v]).split(QLatin1Char(';'), Qt::SkipEmptyParts))
            ok = ok && execSql(statement);
    ok = ok && execSql(QStringLiteral("PRAGMA user_version=%1").arg(kSchemaVersion));
    ok = ok && execSql(QStringLiteral("UPDATE messages SET state=%1 WHERE state=%2")
                           .arg(int(MessageState::Interrupted)).arg(int(MessageState::Streaming)));
    if (!ok || !execSql(QStringLiteral("COMMIT"))) {
        const QString why = m_lastError;
        execSql(QStringLiteral("ROLLBACK"));
        m_lastError = QStringLiteral("cannot write the database: ") + why;
        return false;
    }
    return true;
}

void ConversationStore::close() {
    if (m_open) flushStreaming();
    m_streaming.clear();
    m_open = false;
    if (QSqlDatabase::contains(m_connection)) {
        {
            QSqlDatabase d = db();
            if (d.isOpen()) d.close();
        }
        QSqlDatabase::removeDatabase(m_connection);
    }
}

bool ConversationStore::exec(QSqlQuery& query) {
    if (query.exec()) return true;
    m_lastError = query.lastError().text();
    return false;
}

bool ConversationStore::execSql(const QString& sql) {
    if (!m_open) return false;
    QSqlQuery q(db());
    if (q.exec(sql)) return true;
    m_lastError = q.lastError().text();
    return false;
}

bool ConversationStore::touchConversation(qint64 conversationId) {
    QSqlQuery q(db());
    // Strictly after every other conversation's activity, so "newest first" is exact even
    // within one millisecond.
    q.prepare(QStringLiteral("UPDATE conversations SET updated_ms="
                             "MAX(?, (SELECT COALESCE(MAX(updated_ms), 0) + 1 FROM conversations)) WHERE id=?"));
    q.addBindValue(QDateTime::currentMSecsSinceEpoch());
    q.addBindValue(conversationId);
    return exec(q);
}

std::optional<qint64> ConversationStore::createConversation(const QString& title, const QString& systemPrompt) {
    if (!m_open) return std::nullopt;
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    QSqlQuery q(db());
    q.prepare(QStringLiteral("INSERT INTO conversations(title, system_prompt, created_ms, updated_ms) "
                             "VALUES(?,?,?,MAX(?, (SELECT COALESCE(MAX(updated_ms), 0) + 1 FROM conversations)))"));
    q.addBindValue(nonNull(title));
    q.addBindValue(nonNull(systemPrompt));
    q.addBindValue(now);
    q.addBindValue(now);
    if (!exec(q)) return std::nullopt;
    return q.lastInsertId().toLongLong();
}

bool ConversationStore::renameConversation(qint64 id, const QString& title) {
    if (!m_open) return false;
    QSqlQuery q(db());
    q.prepare(QStringLiteral("UPDATE conversations SET title=? WHERE id=?"));
    q.addBindValue(nonNull(title));
    q.addBindValue(id);
    return exec(q) && q.numRowsAffected() == 1;
}

bool ConversationStore::setSystemPrompt(qint64 id, const QString& systemPrompt) {
    if (!m_open) return false;
    QSqlQuery q(db());
    q.prepare(QStringLiteral("UPDATE conversations SET system_prompt=? WHERE id=?"));
    q.addBindValue(nonNull(systemPrompt));
    q.addBindValue(id);
    return exec(q) && q.numRowsAffected() == 1;
}

bool ConversationStore::deleteConversation(qint64 id) {
    if (!m_open) return false;
    QSqlQuery q(db());
    q.prepare(QStringLiteral("DELETE FROM conversations WHERE id=?"));  // messages: ON DELETE CASCADE
    q.addBindValue(id);
    return exec(q) && q.numRowsAffected() == 1;
}

QVector<ConversationSummary> ConversationStore::conversations(const QString& search, int limit) {
    QVector<ConversationSummary> out;
    if (!m_open) return out;
    QString sql = QStringLiteral("SELECT id, title, system_prompt, created_ms, updated_ms FROM conversations");
    if (!search.isEmpty())
        sql += QStringLiteral(" WHERE title LIKE ? ESCAPE '\\' OR id IN "
                              "(SELECT conversation_id FROM messages WHERE content LIKE ? ESCAPE '\\')");
    sql += QStringLiteral(" ORDER BY updated_ms DESC, id DESC LIMIT ?");
    QSqlQuery q(db());
    q.setForwardOnly(true);
    q.prepare(sql);
    if (!search.isEmpty()) {
        q.addBindValue(escapeLike(search));
        q.addBindValue(escapeLike(search));
    }
    q.addBindValue(limit);
    if (!exec(q)) return out;
    while (q.next())
        out.push_back({q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(),
                       q.value(3).toLongLong(), q.value(4).toLongLong()});
    return out;
}

std::optional<ConversationSummary> ConversationStore::conversation(qint64 id) {
    if (!m_open) return std::nullopt;
    QSqlQuery q(db());
    q.prepare(QStringLiteral("SELECT id, title, system_prompt, created_ms, updated_ms FROM conversations WHERE id=?"));
    q.addBindValue(id);
    if (!exec(q) || !q.next()) return std::nullopt;
    return ConversationSummary{q.value(0).toLongLong(), q.value(1).toString(), q.value(2).toString(),
                               q.value(3).toLongLong(), q.value(4).toLongLong()};
}

QVector<StoredMessage> ConversationStore::messages(qint64 conversationId) {
    QVector<StoredMessage> out;
    if (!m_open) return out;
    QSqlQuery q(db());
    q.setForwardOnly(true);
    q.prepare(QStringLiteral("SELECT id, role, content, state, created_ms, prompt_tokens, cached_prompt_tokens,"
                             " generated_tokens, ttft_ms, tokens_per_second FROM messages"
                             " WHERE conversation_id=? ORDER BY id"));
    q.addBindValue(conversationId);
    if (!exec(q)) return out;
    while (q.next()) {
        StoredMessage m;
        m.id = q.value(0).toLongLong();
        m.conversationId = conversationId;
        m.role = q.value(1).toString();
        m.content = q.value(2).toString();
        m.state = MessageState(q.value(3).toInt());
        m.createdMs = q.value(4).toLongLong();
        m.stats = {q.value(5).toInt(), q.value(6).toInt(), q.value(7).toInt(), q.value(8).toDouble(),
                   q.value(9).toDouble()};
        // Text still pending in this process is newer than the committed one.
        if (auto it = m_streaming.constFind(m.id); it != m_streaming.constEnd()) m.content = it->text;
        out.push_back(m);
    }
    return out;
}

std::optional<qint64> ConversationStore::addMessage(qint64 conversationId, const QString& role,
                                                    const QString& content, MessageState state,
                                                    const MessageStats& stats) {
    if (!m_open) return std::nullopt;
    QSqlQuery q(db());
    q.prepare(QStringLiteral("INSERT INTO messages(conversation_id, role, content, state, created_ms,"
                             " prompt_tokens, cached_prompt_tokens, generated_tokens, ttft_ms, tokens_per_second)"
                             " VALUES(?,?,?,?,?,?,?,?,?,?)"));
    for (const QVariant& v : {QVariant(conversationId), QVariant(role), QVariant(nonNull(content)), QVariant(int(state)),
                              QVariant(QDateTime::currentMSecsSinceEpoch()), QVariant(stats.promptTokens),
                              QVariant(stats.cachedPromptTokens), QVariant(stats.generatedTokens),
                              QVariant(stats.ttftMs), QVariant(stats.tokensPerSecond)})
        q.addBindValue(v);
    if (!exec(q)) return std::nullopt;
    const qint64 id = q.lastInsertId().toLongLong();
    touchConversation(conversationId);
    if (state == MessageState::Streaming) m_streaming.insert(id, Pending{content, nowMs(), false});
    return id;
}

bool ConversationStore::writeStreaming(qint64 messageId, const QString& text) {
    QSqlQuery q(db());
    q.prepare(QStringLiteral("UPDATE messages SET content=? WHERE id=?"));
    q.addBindValue(nonNull(text));
    q.addBindValue(messageId);
    if (!exec(q)) return false;
    ++m_streamingCommits;
    return true;
}

bool ConversationStore::appendStreaming(qint64 messageId, const QString& textSoFar) {
    if (!m_open) return false;
    Pending& p = m_streaming[messageId];
    p.text = textSoFar;
    p.dirty = true;
    const qint64 now = nowMs();
    if (now - p.lastCommitMs < m_commitIntervalMs) return false;
    p.lastCommitMs = now;
    p.dirty = false;
    return writeStreaming(messageId, textSoFar);
}

void ConversationStore::flushStreaming() {
    if (!m_open) return;
    for (auto it = m_streaming.begin(); it != m_streaming.end(); ++it) {
        if (!it->dirty) continue;
        writeStreaming(it.key(), it->text);
        it->dirty = false;
        it->lastCommitMs = nowMs();
    }
}

bool ConversationStore::finishMessage(qint64 messageId, const QString& content, MessageState state,
                                      const MessageStats& stats) {
    if (!m_open) return false;
    m_streaming.remove(messageId);
    QSqlQuery q(db());
    q.prepare(QStringLiteral("UPDATE messages SET content=?, state=?, prompt_tokens=?, cached_prompt_tokens=?,"
                             " generated_tokens=?, ttft_ms=?, tokens_per_second=? WHERE id=?"));
    for (const QVariant& v : {QVariant(nonNull(content)), QVariant(int(state)), QVariant(stats.promptTokens),
                              QVariant(stats.cachedPromptTokens), QVariant(stats.generatedTokens),
                              QVariant(stats.ttftMs), QVariant(stats.tokensPerSecond), QVariant(messageId)})
        q.addBindValue(v);
    return exec(q) && q.numRowsAffected() == 1;
}

bool ConversationStore::deleteMessage(qint64 messageId) {
    if (!m_open) return false;
    m_streaming.remove(messageId);
    QSqlQuery q(db());
    q.prepare(QStringLiteral("DELETE FROM messages WHERE id=?"));
    q.addBindValue(messageId);
    return exec(q) && q.numRowsAffected() == 1;
}

}  // namespace batchscope::app
