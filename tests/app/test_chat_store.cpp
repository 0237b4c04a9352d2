// SPDX-License-Identifier: GPL-3.0-or-later
// The chat history store: persistence across reopen, search, export, schema migration,
// streaming commits (paced, flushed), crash recovery with a child process killed mid-stream,
// and locked / read-only / corrupt / newer databases (clear message, store closed, no crash).
#include <QCoreApplication>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <cstdio>
#include <unistd.h>

#include "app/chat/conversation_store.h"

using batchscope::app::ConversationStore;
using batchscope::app::MessageState;
using batchscope::app::MessageStats;

namespace {

const char* const kChildEnv = "BATCHSCOPE_CHAT_CRASH_CHILD";
const char* const kReadOnlyChildEnv = "BATCHSCOPE_CHAT_READONLY_CHILD";

// Child process: opens a read-only database and exits with the open status.
int runReadOnlyChild(const QString& path) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
        std::fprintf(stderr, "child: cannot drop root privileges\n");
        return 100;
    }
    ConversationStore store;
    const auto status = store.open(path);
    std::printf("%s\nlist %lld\n", qPrintable(store.openError()),
                static_cast<long long>(store.conversations().size()));
    return int(status);
}

QString streamedText(int tokens) {
    QString text;
    for (int i = 0; i < tokens; ++i) text += QStringLiteral("tok%1 ").arg(i);
    return text;
}

// Child process: streams an answer forever (until killed), printing each committed length.
int runCrashChild(const QString& path) {
    ConversationStore store;
    if (store.open(path) != ConversationStore::OpenStatus::Ok) {
        std::fprintf(stderr, "child: %s\n", qPrintable(store.openError()));
        return 2;
    }
    store.setStreamingCommitIntervalMs(100);
    const qint64 c = *store.createConversation(QStringLiteral("crash"));
    store.addMessage(c, QStringLiteral("user"), QStringLiteral("count"));
    const qint64 m = *store.addMessage(c, QStringLiteral("assistant"), {}, MessageState::Streaming);
    for (int i = 1;; ++i) {
        const QString text = streamedText(i);
        if (store.appendStreaming(m, text)) {
            std::printf("committed %lld\n", static_cast<long long>(text.size()));
            std::fflush(stdout);
        }
        QThread::msleep(2);
    }
}

}  // namespace

class TestChatStore : public QObject {
    Q_OBJECT
private slots:
    void persistsAcrossReopen();
    void searchRenameDelete();
    void exportsMarkdownAndJson();
    void streamingCommitsArePacedAndFlushed();
    void migratesVersion1();
    void crashMidStreamKeepsCommittedText();
    void corruptDatabase();
    void readOnlyDatabase();
    void lockedDatabase();
    void newerSchema();

private:
    QTemporaryDir m_dir;
    QString path(const char* name) const { return m_dir.filePath(QString::fromLatin1(name)); }
};

void TestChatStore::persistsAcrossReopen() {
    const QString file = path("persist.sqlite");
    qint64 c = 0;
    {
        ConversationStore s;
        QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
        c = *s.createConversation(QStringLiteral("First"), QStringLiteral("Be brief."));
        QVERIFY(s.addMessage(c, QStringLiteral("user"), QStringLiteral("Hello")));
        const qint64 a = *s.addMessage(c, QStringLiteral("assistant"), {}, MessageState::Streaming);
        QVERIFY(s.finishMessage(a, QStringLiteral("Hi!"), MessageState::Complete, {12, 0, 3, 4.5, 20.0}));
    }
    ConversationStore s;
    QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
    const auto list = s.conversations();
    QCOMPARE(list.size(), 1);
    QCOMPARE(list[0].title, QStringLiteral("First"));
    QCOMPARE(list[0].systemPrompt, QStringLiteral("Be brief."));
    const auto msgs = s.messages(c);
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[1].content, QStringLiteral("Hi!"));
    QCOMPARE(msgs[1].state, MessageState::Complete);
    QCOMPARE(msgs[1].stats.promptTokens, 12);
    QCOMPARE(msgs[1].stats.generatedTokens, 3);
    QCOMPARE(msgs[1].stats.ttftMs, 4.5);
}

void TestChatStore::searchRenameDelete() {
    ConversationStore s;
    QCOMPARE(s.open(path("search.sqlite")), ConversationStore::OpenStatus::Ok);
    const qint64 a = *s.createConversation(QStringLiteral("Cooking"));
    const qint64 b = *s.createConversation(QStringLiteral("Travel"));
    s.addMessage(a, QStringLiteral("user"), QStringLiteral("How long to boil an egg? 100%"));
    QCOMPARE(s.conversations().size(), 2);
    QCOMPARE(s.conversations().front().id, a);  // newest activity first
    QCOMPARE(s.conversations(QStringLiteral("EGG")).size(), 1);
    QCOMPARE(s.conversations(QStringLiteral("travel")).front().id, b);
    QCOMPARE(s.conversations(QStringLiteral("0%")).size(), 1);   // % is literal
    QCOMPARE(s.conversations(QStringLiteral("_")).size(), 0);    // _ is literal
    QVERIFY(s.renameConversation(b, QStringLiteral("Trips")));
    QCOMPARE(s.conversation(b)->title, QStringLiteral("Trips"));
    QVERIFY(s.deleteConversation(a));
    QCOMPARE(s.messages(a).size(), 0);  // cascade
    QCOMPARE(s.conversations().size(), 1);
    QVERIFY(!s.deleteConversation(a));
}

void TestChatStore::exportsMarkdownAndJson() {
    ConversationStore s;
    QCOMPARE(s.open(path("export.sqlite")), ConversationStore::OpenStatus::Ok);
    const qint64 c = *s.createConversation(QStringLiteral("Export"), QStringLiteral("sys"));
    s.addMessage(c, QStringLiteral("user"), QStringLiteral("Q \"quoted\""));
    s.addMessage(c, QStringLiteral("assistant"), QStringLiteral("A"), MessageState::Stopped, {5, 2, 1, 3.0, 10.0});
    const QString md = s.exportMarkdown(c);
    QVERIFY2(md.startsWith(QStringLiteral("# Export\n")), qPrintable(md));
    QVERIFY(md.contains(QStringLiteral("## User\n\nQ \"quoted\"")));
    QVERIFY(md.contains(QStringLiteral("(stopped)")));
    QVERIFY(md.contains(QStringLiteral("5 prompt tokens (2 cached)")));
    const QJsonObject root = QJsonDocument::fromJson(s.exportJson(c)).object();
    QCOMPARE(root.value(QStringLiteral("system_prompt")).toString(), QStringLiteral("sys"));
    const auto list = root.value(QStringLiteral("messages")).toArray();
    QCOMPARE(list.size(), 2);
    QCOMPARE(list[0].toObject().value(QStringLiteral("content")).toString(), QStringLiteral("Q \"quoted\""));
    QCOMPARE(list[1].toObject().value(QStringLiteral("stats")).toObject().value(QStringLiteral("cached_prompt_tokens")).toInt(), 2);
    QVERIFY(s.exportJson(9999).isEmpty());
}

void TestChatStore::streamingCommitsArePacedAndFlushed() {
    const QString file = path("stream.sqlite");
    qint64 now = 0, c = 0, m = 0;
    {
        ConversationStore s;
        s.setClock([&now] { return now; });
        QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
        c = *s.createConversation(QStringLiteral("s"));
        m = *s.addMessage(c, QStringLiteral("assistant"), {}, MessageState::Streaming);
        for (int i = 1; i <= 30; ++i) {  // 30 tokens, 100 ms apart: 3 s
            now += 100;
            s.appendStreaming(m, streamedText(i));
        }
        QCOMPARE(s.streamingCommits(), 3);          // at 1 s, 2 s, 3 s: never per token
        QCOMPARE(s.messages(c)[0].content, streamedText(30));  // this process sees the latest
        now += 100;
        s.appendStreaming(m, streamedText(31));     // pending, not committed
        QCOMPARE(s.streamingCommits(), 3);
        s.flushStreaming();                          // stop / quit / model switch
        QCOMPARE(s.streamingCommits(), 4);
        s.appendStreaming(m, streamedText(32));     // pending: the destructor commits it
    }
    ConversationStore s;
    QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
    const auto msgs = s.messages(c);
    QCOMPARE(msgs[0].content, streamedText(32));
    QCOMPARE(msgs[0].state, MessageState::Interrupted);  // never finished
}

void TestChatStore::migratesVersion1() {
    const QString file = path("v1.sqlite");
    {
        QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("v1"));
        d.setDatabaseName(file);
        QVERIFY(d.open());
        QSqlQuery q(d);
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL,"
                                      " system_prompt TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL,"
                                      " updated_ms INTEGER NOT NULL)")));
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL"
                                      " REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL,"
                                      " content TEXT NOT NULL, state INTEGER NOT NULL, created_ms INTEGER NOT NULL)")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO conversations VALUES(1,'old','',1,1)")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO messages VALUES(1,1,'user','kept',1,1)")));
        QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=1")));
        d.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("v1"));
    ConversationStore s;
    QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
    const auto msgs = s.messages(1);
    QCOMPARE(msgs.size(), 1);
    QCOMPARE(msgs[0].content, QStringLiteral("kept"));
    QCOMPARE(msgs[0].stats.promptTokens, 0);  // column added by migration 2
    QVERIFY(s.addMessage(1, QStringLiteral("assistant"), QStringLiteral("new"), MessageState::Complete, {7, 0, 1, 1, 1}));
    QCOMPARE(s.messages(1)[1].stats.promptTokens, 7);
}

void TestChatStore::crashMidStreamKeepsCommittedText() {
    const QString file = path("crash.sqlite");
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QString::fromLatin1(kChildEnv), file);
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {});
    QVERIFY2(child.waitForStarted(10000), "the child process did not start");
    qint64 lastCommitted = 0;
    int commits = 0;
    QByteArray buffer;
    while (commits < 5) {
        QVERIFY2(child.waitForReadyRead(20000), qPrintable(QStringLiteral("child stalled: ") + child.readAllStandardError()));
        buffer += child.readAllStandardOutput();
        while (buffer.contains('\n')) {
            const qsizetype nl = buffer.indexOf('\n');
            const QByteArray line = buffer.left(nl);
            buffer.remove(0, nl + 1);
            if (line.startsWith("committed ")) {
                lastCommitted = line.mid(10).toLongLong();
                ++commits;
            }
        }
    }
    child.kill();  // SIGKILL mid-stream: no destructor, no flush
    QVERIFY(child.waitForFinished(10000));
    QCOMPARE(child.exitStatus(), QProcess::CrashExit);

    ConversationStore s;
    QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
    const auto list = s.conversations();
    QCOMPARE(list.size(), 1);
    const auto msgs = s.messages(list[0].id);
    QCOMPARE(msgs.size(), 2);
    QCOMPARE(msgs[0].content, QStringLiteral("count"));
    QCOMPARE(msgs[1].state, MessageState::Interrupted);
    // At least what the child had reported committed; a prefix of what it streamed.
    QVERIFY2(msgs[1].content.size() >= lastCommitted,
             qPrintable(QStringLiteral("%1 < %2").arg(msgs[1].content.size()).arg(lastCommitted)));
    const QString full = streamedText(msgs[1].content.count(QLatin1Char(' ')));
    QCOMPARE(msgs[1].content, full);
}

void TestChatStore::corruptDatabase() {
    const QString file = path("corrupt.sqlite");
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(8192, 'x'));
    f.close();
    ConversationStore s;
    QCOMPARE(s.open(file), ConversationStore::OpenStatus::Corrupt);
    QVERIFY(!s.isOpen());
    QVERIFY2(s.openError().contains(QStringLiteral("Chat history is off")), qPrintable(s.openError()));
    QVERIFY(!s.createConversation(QStringLiteral("x")));  // soft failure, no crash
    QVERIFY(s.conversations().isEmpty());
}

void TestChatStore::readOnlyDatabase() {
    // The database and its directory lose write permission; a child process (as "nobody"
    // when the tests run as root, whom permissions do not stop) opens it.
    const QString dirPath = m_dir.filePath(QStringLiteral("ro"));
    const QString file = dirPath + QStringLiteral("/history.sqlite");
    {
        ConversationStore s;
        QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
        s.createConversation(QStringLiteral("x"));
    }
    QFile::remove(file + QStringLiteral("-wal"));
    QFile::remove(file + QStringLiteral("-shm"));
    const auto readAll = QFileDevice::ReadOwner | QFileDevice::ReadGroup | QFileDevice::ReadOther;
    const auto exeAll = QFileDevice::ExeOwner | QFileDevice::ExeGroup | QFileDevice::ExeOther;
    QVERIFY(QFile::setPermissions(file, readAll));
    QVERIFY(QFile::setPermissions(dirPath, readAll | exeAll));
    QVERIFY(QFile::setPermissions(m_dir.path(), readAll | exeAll | QFileDevice::WriteOwner));
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QString::fromLatin1(kReadOnlyChildEnv), file);
    child.setProcessEnvironment(env);
    child.start(QCoreApplication::applicationFilePath(), {});
    QVERIFY(child.waitForFinished(20000));
    QFile::setPermissions(dirPath, readAll | exeAll | QFileDevice::WriteOwner);
    const QString out = QString::fromUtf8(child.readAllStandardOutput());
    QCOMPARE(child.exitStatus(), QProcess::NormalExit);  // no crash
    QVERIFY2(child.exitCode() == int(ConversationStore::OpenStatus::ReadOnly), qPrintable(out + child.readAllStandardError()));
    QVERIFY2(out.contains(QStringLiteral("Chat history is off")), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("list 0")), qPrintable(out));  // closed: soft empty results
}

void TestChatStore::lockedDatabase() {
    const QString file = path("locked.sqlite");
    {
        ConversationStore s;
        QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);
    }
    QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("locker"));
    d.setDatabaseName(file);
    QVERIFY(d.open());
    QSqlQuery q(d);
    QVERIFY(q.exec(QStringLiteral("BEGIN EXCLUSIVE")));
    {
        ConversationStore s;
        s.setBusyTimeoutMs(50);
        const auto status = s.open(file);
        QVERIFY2(status == ConversationStore::OpenStatus::Locked, qPrintable(s.openError()));
        QVERIFY(!s.isOpen());
    }
    QVERIFY(q.exec(QStringLiteral("ROLLBACK")));
    q.finish();
    d.close();
    d = QSqlDatabase();
    QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    ConversationStore s;
    QCOMPARE(s.open(file), ConversationStore::OpenStatus::Ok);  // released: opens again
}

void TestChatStore::newerSchema() {
    const QString file = path("newer.sqlite");
    {
        QSqlDatabase d = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("newer"));
        d.setDatabaseName(file);
        QVERIFY(d.open());
        QSqlQuery q(d);
        QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=99")));
        d.close();
    }
    QSqlDatabase::removeDatabase(QStringLiteral("newer"));
    ConversationStore s;
    QCOMPARE(s.open(file), ConversationStore::OpenStatus::NewerSchema);
    QVERIFY2(s.openError().contains(QStringLiteral("newer version")), qPrintable(s.openError()));
}

int main(int argc, char** argv) {
    QCoreApplication app(argc, argv);
    if (qEnvironmentVariableIsSet(kChildEnv)) return runCrashChild(qEnvironmentVariable(kChildEnv));
    if (qEnvironmentVariableIsSet(kReadOnlyChildEnv)) return runReadOnlyChild(qEnvironmentVariable(kReadOnlyChildEnv));
    TestChatStore test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_chat_store.moc"
