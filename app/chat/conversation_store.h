// The chat history: conversations and messages in one SQLite database through Qt SQL.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QByteArray>
#include <QElapsedTimer>
#include <QHash>
#include <QString>
#include <QVector>
#include <functional>
#include <optional>

#include "app/chat/conversation_types.h"

class QSqlDatabase;
class QSqlQuery;

namespace batchscope::app {

/// One database (WAL mode, schema version in PRAGMA user_version, migrations applied in
/// order at open). Every write is its own committed transaction, so a killed process loses at
/// most the streaming text not yet committed: appendStreaming() commits at most every
/// streamingCommitIntervalMs() (1 s by default), flushStreaming() commits what is pending.
/// A database that cannot be opened (locked, read-only, corrupt, from a newer version, no
/// SQLite driver) leaves the store closed with a clear openError(); every call then fails
/// softly (empty results, std::nullopt, false). Not thread-safe: use from one thread (the GUI).
class ConversationStore {
public:
    static constexpr int kSchemaVersion = 2;
    enum class OpenStatus { Ok, Locked, ReadOnly, Corrupt, NewerSchema, NoDriver, Error };

    ConversationStore();
    ~ConversationStore();  ///< flushes pending streaming text, closes
    ConversationStore(const ConversationStore&) = delete;
    ConversationStore& operator=(const ConversationStore&) = delete;

    /// AppDataLocation/chat-history.sqlite (the directory is created on open).
    static QString defaultPath();
    /// Opens (creating if absent) and migrates. Streaming messages left by a crash become
    /// Interrupted. On failure the store stays closed; openError() says why.
    OpenStatus open(const QString& path);
    /// After open() failed: chat keeps working on an empty history in memory (nothing is
    /// saved; it is gone at quit). isOpen() and isInMemory() are then true, openError() is
    /// "Chat history is not being saved: <why the file failed> (<path>)".
    OpenStatus openInMemory();
    bool isInMemory() const { return m_open && m_inMemory; }
    void close();
    bool isOpen() const { return m_open; }
    OpenStatus openStatus() const { return m_status; }
    QString openError() const { return m_openError; }
    /// Why the file could not be used, with its path ("" when it opened).
    QString openReason() const { return m_openReason; }
    QString lastError() const { return m_lastError; }
    QString path() const { return m_path; }
    /// How long open() waits for a lock held by another process (ms).
    void setBusyTimeoutMs(int ms) { m_busyTimeoutMs = ms; }
    void setStreamingCommitIntervalMs(qint64 ms) { m_commitIntervalMs = ms; }
    qint64 streamingCommitIntervalMs() const { return m_commitIntervalMs; }
    /// Tests replace the monotonic clock (ms) that paces streaming commits.
    void setClock(std::function<qint64()> clock) { m_clock = std::move(clock); }
    /// Number of commits of streaming text so far (tests, the crash child).
    int streamingCommits() const { return m_streamingCommits; }

    std::optional<qint64> createConversation(const QString& title, const QString& systemPrompt = {});
    bool renameConversation(qint64 id, const QString& title);
    bool setSystemPrompt(qint64 id, const QString& systemPrompt);
    bool deleteConversation(qint64 id);
    /// Newest first. search (case-insensitive, literal) matches titles and message text.
    QVector<ConversationSummary> conversations(const QString& search = {}, int limit = -1);
    std::optional<ConversationSummary> conversation(qint64 id);
    QVector<StoredMessage> messages(qint64 conversationId);

    std::optional<qint64> addMessage(qint64 conversationId, const QString& role, const QString& content,
                                     MessageState state = MessageState::Complete,
                                     const MessageStats& stats = {});
    /// The whole text so far of a Streaming message; committed if the last commit of this
    /// message is older than the interval, else kept pending. Returns true if it committed.
    bool appendStreaming(qint64 messageId, const QString& textSoFar);
    /// Commits every pending streaming text now (stop, quit, model switch).
    void flushStreaming();
    /// Final text, state (Complete/Stopped) and figures; drops pending text of this message.
    bool finishMessage(qint64 messageId, const QString& content, MessageState state,
                       const MessageStats& stats);
    bool deleteMessage(qint64 messageId);

    QString exportMarkdown(qint64 conversationId);
    QByteArray exportJson(qint64 conversationId);

private:
    OpenStatus classify(const QString& error) const;
    bool migrate();
    bool exec(QSqlQuery& query);
    bool execSql(const QString& sql);
    bool writeStreaming(qint64 messageId, const QString& text);
    bool touchConversation(qint64 conversationId);
    QSqlDatabase db() const;
    qint64 nowMs() const;

    QString m_connection;
    QString m_path;
    bool m_open = false;
    bool m_inMemory = false;
    OpenStatus m_status = OpenStatus::Error;
    QString m_openError, m_openReason, m_lastError;
    int m_busyTimeoutMs = 2000;
    qint64 m_commitIntervalMs = 1000;
    std::function<qint64()> m_clock;
    QElapsedTimer m_monotonic;
    struct Pending {
        QString text;
        qint64 lastCommitMs = 0;
        bool dirty = false;
    };
    QHash<qint64, Pending> m_streaming;
    int m_streamingCommits = 0;
};

}  // namespace batchscope::app
