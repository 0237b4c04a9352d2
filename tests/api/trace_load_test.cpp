// `batchscope load` and the trace load driver against a real `batchscope serve` child process
// (simulated executor), and `batchscope workload` writing the workload it reads.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include "app/api/trace_load_driver.h"
#include "engine/trace/trace_import.h"
#include "engine/trace/workload_generator.h"

using namespace batchscope;
namespace api = batchscope::app::api;

namespace {

const QString kToken = QStringLiteral("0123456789abcdef0123456789abcdef-load");

QString sourceDir() {
    const QByteArray env = qgetenv("BATCHSCOPE_SOURCE_DIR");
    return env.isEmpty() ? QStringLiteral(BATCHSCOPE_SOURCE_DIR) : QString::fromLocal8Bit(env);
}

struct Run {
    int exitCode = -1;
    QString out, err;
};

}  // namespace

class TraceLoadTest : public QObject {
    Q_OBJECT

    QString m_binary;
    QProcess m_serve;
    QUrl m_url;
    QTemporaryDir m_dir;

    Run runCli(const QStringList& args, int timeoutMs = 60000) {
        QProcess p;
        p.start(m_binary, args);
        Run r;
        if (!p.waitForFinished(timeoutMs)) {
            p.kill();
            p.waitForFinished();
            r.err = "timed out";
            return r;
        }
        r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        r.out = QString::fromUtf8(p.readAllStandardOutput());
        r.err = QString::fromUtf8(p.readAllStandardError());
        return r;
    }

private slots:
    void initTestCase() {
        m_binary = QString::fromLocal8Bit(qgetenv("BATCHSCOPE_BINARY"));
        if (m_binary.isEmpty() || !QFileInfo(m_binary).isExecutable())
            QSKIP("BATCHSCOPE_BINARY does not name the batchscope executable (set by CTest)");
        QVERIFY(m_dir.isValid());
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("XDG_CONFIG_HOME", m_dir.path());  // no token file of the user's is touched
        m_serve.setProcessEnvironment(env);
        m_serve.start(m_binary, {"serve", "--model", "simulated", "--port", "0", "--token", kToken});
        QVERIFY2(m_serve.waitForStarted(10000), qPrintable(m_serve.errorString()));
        QString line;
        QVERIFY(QTest::qWaitFor([&] {
            line += QString::fromUtf8(m_serve.readAllStandardOutput());
            return line.contains('\n') || m_serve.state() == QProcess::NotRunning;
        }, 30000));
        QVERIFY2(line.startsWith("listening on ws://"), qPrintable(line + m_serve.readAllStandardError()));
        m_url = QUrl(line.mid(int(strlen("listening on "))).trimmed());
        QVERIFY(m_url.port() > 0);
    }

    void cleanupTestCase() {
        if (m_serve.state() == QProcess::NotRunning) return;
        m_serve.terminate();
        if (!m_serve.waitForFinished(15000)) m_serve.kill();
    }

    /// The driver in-process: every request finishes, the cancel lands, prompts are exact.
    void driverRunsAGeneratedWorkload() {
        engine::WorkloadGeneratorConfig c;
        c.arrivals = {engine::ArrivalProcess::Kind::Gamma, 40, 2};
        c.requests = 24;
        c.promptTokens = engine::LengthDistribution::parse("uniform:8:64").value();
        c.outputTokens = engine::LengthDistribution::parse("fixed:6").value();
        auto generated = engine::generateWorkload(c);
        QVERIFY(generated.ok());
        auto workload = generated.value();
        for (std::size_t i = 0; i < workload.size(); ++i) workload[i].priority = int(i % 4);
        workload[5].outputTokens = 4000;  // ~8 s of decode steps: cancelled long before
        workload[5].cancelAfterSeconds = 0.05;
        workload[7].prefixBlockHashes = {1, 2};
        workload[7].promptTokens = 60;
        api::TraceLoadConfig config;
        config.speed = 2;
        config.connections = 3;
        config.timeoutSeconds = 120;
        const auto r = api::runTraceLoad(m_url, kToken, workload, config);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.requests, 24);
        QCOMPARE(r.sent, 24);
        QCOMPARE(r.failed, 0);
        QCOMPARE(r.cancelled, 1);
        QCOMPARE(r.finished, 23);
        QCOMPARE(r.promptChecked, 24);
        QCOMPARE(r.promptExact, 24);
        QCOMPARE(r.capped, 0);
        QCOMPARE(r.contextLength, 16384);
        QCOMPARE(r.ttftMs.count, 23);
        QCOMPARE(r.endToEndMs.count, 23);
        QCOMPARE(r.sendLagMs.count, 24);
        QCOMPARE(r.ttftFromArrivalMs.count, 23);
        QVERIFY(r.sendLagMs.min >= 0);  // never sent before its time
        QVERIFY(r.ttftFromArrivalMs.max >= r.ttftMs.max);
        QVERIFY(r.ttftMs.p50 > 0 && r.ttftMs.p50 <= r.endToEndMs.p50);
        QVERIFY(qAbs(r.scheduleSeconds - workload.back().arrivalSeconds / 2) < 1e-9);
        QVERIFY(r.achievedRate > 0);
        QVERIFY(r.outputTokensPerSecond > 0);
    }

    /// Contexts smaller than the trace's lengths: lengths are capped and counted, never failed.
    void driverCapsToTheContext() {
        std::vector<engine::WorkloadRequest> w(2);
        w[0].promptTokens = 20000;
        w[0].outputTokens = 4;
        w[1] = {0.01, 30, 3, 1, std::nullopt, {}, ""};
        api::TraceLoadConfig config;
        config.connections = 1;
        config.timeoutSeconds = 120;
        const auto r = api::runTraceLoad(m_url, kToken, w, config);
        QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
        QCOMPARE(r.capped, 1);
        QCOMPARE(r.finished, 2);
        QCOMPARE(r.promptExact, 2);  // 16380 tokens
    }

    /// The commands end to end: generate a workload file, then load it with --speed/--limit.
    void loadCommandPrintsTheSummary() {
        const QString file = m_dir.filePath("w.csv");
        const Run gen = runCli({"workload", "generate", "--arrivals", "poisson", "--rate", "50", "--requests", "12",
                                "--prompt-tokens", "fixed:20", "--output-tokens", "fixed:4", "--seed", "3", "--out", file});
        QVERIFY2(gen.exitCode == 0, qPrintable(gen.out + gen.err));
        QVERIFY(gen.out.contains("12 requests over"));
        auto back = engine::importTrace(file.toStdString());
        QVERIFY(back.ok());
        QCOMPARE(back->requests.size(), std::size_t(12));
        QCOMPARE(back->requests[3].promptTokens, 20);

        const Run load = runCli({"load", "--trace", file, "--url", m_url.toString(), "--token", kToken, "--speed", "2x",
                                 "--limit", "10"});
        QVERIFY2(load.exitCode == 0, qPrintable(load.out + load.err));
        QVERIFY2(load.out.contains("sent 10 of 10, finished 10, cancelled 0, failed 0"), qPrintable(load.out));
        QVERIFY2(load.out.contains("prompts: 10 of 10 exactly"), qPrintable(load.out));
        QVERIFY(load.out.contains("time to first token"));

        const Run azure = runCli({"load", "--trace", sourceDir() + "/tests/engine/trace/data/azure_sample.csv", "--format",
                                  "azure", "--url", m_url.toString(), "--token", kToken, "--speed", "50x", "--limit", "4"});
        QVERIFY2(azure.exitCode == 0, qPrintable(azure.out + azure.err));
        QVERIFY2(azure.out.contains("sent 4 of 4, finished 4"), qPrintable(azure.out));
    }

    void loadCommandErrors() {
        const QString bad = m_dir.filePath("bad.csv");
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.1,12,3\n2023-11-16 18:15:47,12,three\n");
        f.close();
        const Run malformed = runCli({"load", "--trace", bad, "--url", m_url.toString(), "--token", kToken});
        QCOMPARE(malformed.exitCode, 2);
        QVERIFY2(malformed.err.contains("line 3, column 3 (GeneratedTokens): expected a whole number, got 'three'"),
                 qPrintable(malformed.err));

        const QString good = sourceDir() + "/tests/engine/trace/data/workload_sample.csv";
        const Run wrongToken = runCli({"load", "--trace", good, "--url", m_url.toString(), "--token", "wrong-token-wrong-token"});
        QCOMPARE(wrongToken.exitCode, 1);
        QVERIFY2(wrongToken.err.contains("refused"), qPrintable(wrongToken.err));

        const Run badSpeed = runCli({"load", "--trace", good, "--speed", "fast"});
        QCOMPARE(badSpeed.exitCode, 2);
        QVERIFY(badSpeed.err.contains("--speed"));
    }
};

QTEST_GUILESS_MAIN(TraceLoadTest)
#include "trace_load_test.moc"
