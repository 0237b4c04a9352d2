// SPDX-License-Identifier: GPL-3.0-or-later
// `--chat-template FILE` on the command line (the built executable, through BATCHSCOPE_BINARY):
// a good file is the template in use (`chat` says so, `serve` too) and renders as written
// (`chat-template`); a bad file (unparsable, missing, empty) is a clear error naming the file
// and its problem, a non-zero exit, before any model loads, for every command that takes it.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

struct Run {
    int exitCode = -1;
    bool crashed = false;
    QString out, err;
};

}  // namespace

class TestCliChatTemplate : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void chatUsesTheFile();
    void chatTemplateRendersTheFile();
    void serveReportsTheFile();
    void badFilesAreClearErrors_data();
    void badFilesAreClearErrors();

private:
    Run run(const QStringList& args, int timeoutMs = 60000);
    QString write(const QString& name, const QByteArray& text);
    QString m_binary;
    QTemporaryDir m_dir;
    QString m_good, m_broken;
};

void TestCliChatTemplate::initTestCase() {
    m_binary = QString::fromLocal8Bit(qgetenv("BATCHSCOPE_BINARY"));
    if (m_binary.isEmpty() || !QFileInfo(m_binary).isExecutable())
        QSKIP("BATCHSCOPE_BINARY does not name the batchscope executable (set by CTest)");
    QVERIFY(m_dir.isValid());
    m_good = write("bracket.jinja",
                   "{% for m in messages %}[{{ m.role }}]{{ m.content }}\n{% endfor %}"
                   "{% if add_generation_prompt %}[assistant]{% endif %}");
    m_broken = write("broken.jinja", "{% for m in messages %}{{ m.content }");
}

QString TestCliChatTemplate::write(const QString& name, const QByteArray& text) {
    const QString path = m_dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(text) != text.size()) qFatal("cannot write %s", qPrintable(path));
    return path;
}

Run TestCliChatTemplate::run(const QStringList& args, int timeoutMs) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("XDG_CONFIG_HOME", m_dir.path());  // no settings or token file of the user's
    env.insert("XDG_DATA_HOME", m_dir.path());
    env.insert("QT_QPA_PLATFORM", "offscreen");
    p.setProcessEnvironment(env);
    p.start(m_binary, args);
    Run r;
    if (!p.waitForStarted(10000)) return r;
    if (!p.waitForFinished(timeoutMs)) {  // never hang the suite
        p.kill();
        p.waitForFinished(5000);
        r.err = QStringLiteral("(timed out)");
        return r;
    }
    r.crashed = p.exitStatus() != QProcess::NormalExit;
    r.exitCode = p.exitCode();
    r.out = QString::fromUtf8(p.readAllStandardOutput());
    r.err += QString::fromUtf8(p.readAllStandardError());
    return r;
}

void TestCliChatTemplate::chatUsesTheFile() {
    const Run r = run({"chat", "--model", "simulated", "--chat-template", m_good, "--message", "hi",
                       "--max-tokens", "3"});
    QVERIFY2(!r.crashed && r.exitCode == 0, qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("[chat template: file: %1]").arg(m_good)), qPrintable(r.err));
    // Without the option: the model's own (the simulated model's built-in ChatML).
    const Run own = run({"chat", "--model", "simulated", "--message", "hi", "--max-tokens", "3"});
    QVERIFY2(own.exitCode == 0, qPrintable(own.err));
    QVERIFY2(own.err.contains(QStringLiteral("[chat template: built-in: chatml")), qPrintable(own.err));
}

void TestCliChatTemplate::chatTemplateRendersTheFile() {
    const QString messages = write("messages.json",
                                   R"([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])");
    const Run r = run({"chat-template", "--template", m_good, "--messages", messages});
    QVERIFY2(r.exitCode == 0, qPrintable(r.err));
    QCOMPARE(r.out, QStringLiteral("[system]be brief\n[user]hi\n[assistant]"));
    QVERIFY2(r.err.contains(QStringLiteral("file: %1").arg(m_good)), qPrintable(r.err));
    const Run bad = run({"chat-template", "--template", m_broken, "--messages", messages});
    QVERIFY(!bad.crashed && bad.exitCode != 0);
    QVERIFY2(bad.err.contains(m_broken), qPrintable(bad.err));
    QVERIFY(bad.out.isEmpty());
}

void TestCliChatTemplate::serveReportsTheFile() {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("XDG_CONFIG_HOME", m_dir.path());
    p.setProcessEnvironment(env);
    p.start(m_binary, {"serve", "--model", "simulated", "--port", "0", "--chat-template", m_good});
    QVERIFY2(p.waitForStarted(10000), qPrintable(p.errorString()));
    QString err;
    const bool seen = QTest::qWaitFor([&] {
        err += QString::fromUtf8(p.readAllStandardError());
        return err.contains(QStringLiteral("Ctrl+C")) || p.state() == QProcess::NotRunning;
    }, 30000);
    p.terminate();
    if (!p.waitForFinished(10000)) p.kill();
    QVERIFY2(seen, qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("chat template: file: %1").arg(m_good)), qPrintable(err));
}

void TestCliChatTemplate::badFilesAreClearErrors_data() {
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("problem");
    const QString missing = m_dir.filePath(QStringLiteral("missing.jinja"));
    const QString empty = write("empty.jinja", "");
    // Every command with the shared engine options takes it, and the GUI's command too.
    for (const char* command : {"chat", "generate", "serve", "demo", "gui"})
        QTest::newRow(command) << command << m_broken << QString();
    QTest::newRow("chat-missing") << "chat" << missing << QStringLiteral("cannot be read");
    QTest::newRow("chat-empty") << "chat" << empty << QStringLiteral("empty");
}

void TestCliChatTemplate::badFilesAreClearErrors() {
    QFETCH(QString, command);
    QFETCH(QString, file);
    QFETCH(QString, problem);
    QStringList args{command, "--model", "simulated", "--chat-template", file};
    if (command == QLatin1String("chat")) args << "--message" << "hi";
    if (command == QLatin1String("generate")) args << "--prompt" << "hi";
    if (command == QLatin1String("serve")) args << "--port" << "0";
    if (command == QLatin1String("gui")) args << "--no-api";
    const Run r = run(args, 30000);
    QVERIFY2(!r.crashed, qPrintable(r.err));
    QVERIFY2(r.exitCode > 0, qPrintable(QStringLiteral("exit %1: %2").arg(r.exitCode).arg(r.err)));
    QVERIFY2(r.err.contains(QStringLiteral("error: --chat-template: chat template %1").arg(file)), qPrintable(r.err));
    if (!problem.isEmpty()) QVERIFY2(r.err.contains(problem), qPrintable(r.err));
    // Refused before the model loads: no progress line.
    QVERIFY2(!r.err.contains(QStringLiteral("loading model")), qPrintable(r.err));
}

QTEST_GUILESS_MAIN(TestCliChatTemplate)
#include "test_cli_chat_template.moc"
