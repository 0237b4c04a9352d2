// The console attached to a real `batchscope serve` child process (the built binary) over the
// WebSocket API: the live view, submit / cancel / reprioritise from the window, a wrong token,
// and the server killed mid-stream and started again (reconnect with backoff).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QLabel>
#include <QProcess>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTcpServer>
#include <QTest>
#include <algorithm>

#include "app/gui/console_window.h"
#include "app/gui/source_controller.h"
#include "app/remote/batchscope_source.h"
#include "ui/batch_chart.h"
#include "ui/block_map_widget.h"
#include "ui/main_window.h"
#include "ui/request_table_model.h"
#include "ui/server_metrics_panel.h"
#include "ui/time_series_chart.h"

using namespace batchscope;
using app::remote::ConnectionState;

namespace {
const QString kToken = QStringLiteral("remote-console-test-token-0123456789");

/// `batchscope serve --model simulated` on loopback; the URL is read from its stdout.
class ServeProcess {
public:
    ~ServeProcess() { kill(); }
    bool start(quint16 port = 0) {
        const QString binary = qEnvironmentVariable("BATCHSCOPE_BINARY");
        if (binary.isEmpty()) return false;
        m_proc.setProgram(binary);
        m_proc.setArguments({"serve", "--model", "simulated", "--port", QString::number(port), "--token", kToken});
        m_proc.setProcessChannelMode(QProcess::SeparateChannels);
        m_proc.start();
        QByteArray out;
        const bool ok = QTest::qWaitFor([&] {
            out += m_proc.readAllStandardOutput();
            return out.contains("listening on ws://") || m_proc.state() == QProcess::NotRunning;
        }, 30000);
        const int at = out.indexOf("ws://");
        if (!ok || at < 0) return false;
        url = QUrl(QString::fromUtf8(out.mid(at, out.indexOf('\n', at) - at)).trimmed());
        return url.port() > 0;
    }
    void kill() {
        if (m_proc.state() == QProcess::NotRunning) return;
        m_proc.kill();  // SIGKILL: the server goes away without closing its sockets cleanly
        m_proc.waitForFinished(10000);
    }
    QUrl url;

private:
    QProcess m_proc;
};

engine::RequestState stateOf(ui::MainWindow& w, engine::RequestId id) {
    const int row = w.requestModel()->rowOf(id);
    return row < 0 ? engine::RequestState::Queued : w.requestModel()->requestAt(row).state;
}

ui::PromptSubmission submission(const QString& prompt, int maxTokens) {
    ui::PromptSubmission s;
    s.prompt = prompt;
    s.options.maxTokens = maxTokens;
    s.options.ignoreEos = true;
    return s;
}

/// Submits through the window's composer signal; the id the server gave.
engine::RequestId submitFromWindow(ui::MainWindow& w, app::remote::ServerSource& source, const QString& prompt,
                                   int maxTokens) {
    QSignalSpy spy(&source, &app::remote::ServerSource::submitted);
    emit w.submitRequested(submission(prompt, maxTokens));
    if (!spy.wait(10000) || spy.front().at(0).value<QList<engine::RequestId>>().isEmpty()) return 0;
    return spy.front().at(0).value<QList<engine::RequestId>>().front();
}
}  // namespace

class RemoteConsoleTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        if (qEnvironmentVariable("BATCHSCOPE_BINARY").isEmpty())
            QSKIP("BATCHSCOPE_BINARY is not set (CTest sets it to the built batchscope)");
        qRegisterMetaType<QList<engine::RequestId>>();
    }

    void fullLiveViewOfARemoteServe() {
        ServeProcess serve;
        QVERIFY(serve.start());
        ui::MainWindow window;
        app::remote::BatchscopeSource source(serve.url, kToken);
        app::SourceController controller(source, window);
        QSignalSpy finished(&source, &app::remote::ServerSource::requestFinished);
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 15000);
        QVERIFY(controller.stateLabel()->text().contains("connected"));
        QTRY_VERIFY_WITH_TIMEOUT(window.windowTitle().contains("simulated"), 10000);

        // Submit from the composer: the request finishes in the table the window uses.
        const engine::RequestId id = submitFromWindow(window, source, "hello remote", 8);
        QVERIFY(id > 0);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(window, id) == engine::RequestState::Finished, 15000);
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 5000);
        const auto result = finished.front().at(0).value<engine::GenerationResult>();
        QCOMPARE(result.id, id);
        QCOMPARE(result.finishReason, engine::FinishReason::MaxTokens);
        QCOMPARE(result.usage.completionTokens, 8);
        QVERIFY(!result.text.empty());
        const int row = window.requestModel()->rowOf(id);
        QCOMPARE(window.requestModel()->requestAt(row).promptPreview, std::string("hello remote"));

        // Telemetry: per-step batch composition and the metrics charts are fed.
        QTRY_VERIFY_WITH_TIMEOUT(window.batchChart()->storedSteps() > 0, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window.serverMetricsPanel()->chart(0)->buffer().size() > 0, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window.kvChart()->buffer().size() > 0, 10000);
        QVERIFY(window.panelUnavailableReason(ui::MainWindow::Panel::KvBlockMap).isEmpty());
        QVERIFY(window.panelUnavailableReason(ui::MainWindow::Panel::BatchComposition).isEmpty());
        QVERIFY(!window.panelUnavailableReason(ui::MainWindow::Panel::Scheduler).isEmpty());

        // Reprioritise and cancel a long request from the window.
        const engine::RequestId longId = submitFromWindow(window, source, "a long one", 8000);
        QVERIFY(longId > 0);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(window, longId) == engine::RequestState::Decoding, 15000);
        // The KV block map (kv_blocks topic): the running request owns blocks in it.
        auto ownedBy = [&](engine::RequestId owner) {
            const auto& blocks = window.blockMap()->blocks();
            return std::count_if(blocks.begin(), blocks.end(), [owner](const engine::KvBlockView& b) {
                return b.state == engine::KvBlockView::State::Owned && b.owner == owner;
            });
        };
        QTRY_VERIFY_WITH_TIMEOUT(ownedBy(longId) > 0, 10000);
        QVERIFY(window.blockMap()->blocks().size() > 100);  // every block of the server's pool
        emit window.priorityChangeRequested(longId, engine::Priority::Critical);
        QTRY_VERIFY_WITH_TIMEOUT(window.requestModel()->requestAt(window.requestModel()->rowOf(longId)).priority ==
                                     engine::Priority::Critical, 10000);
        emit window.cancelRequested({longId});
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(window, longId) == engine::RequestState::Cancelled, 10000);
        QCOMPARE(source.ownActiveCount(), 0);
        // Another client's request cannot be cancelled: the window says so.
        QSignalSpy notices(&source, &app::remote::ServerSource::notice);
        emit window.cancelRequested({engine::RequestId(999999)});
        QCOMPARE(notices.size(), 1);
    }

    void wrongTokenShowsUnauthorized() {
        ServeProcess serve;
        QVERIFY(serve.start());
        ui::MainWindow window;
        app::remote::BatchscopeSource source(serve.url, "wrong-wrong-wrong-wrong-token");
        app::SourceController controller(source, window);
        source.backoff().setLimits(50, 200);
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Unauthorized), 15000);
        QVERIFY(controller.stateLabel()->text().contains("unauthorized"));
        QVERIFY(source.stateMessage().contains("refused the access token"));
        QTest::qWait(500);  // not retried
        QCOMPARE(int(source.state()), int(ConnectionState::Unauthorized));
    }

    void serverKilledMidStreamThenBack() {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        ServeProcess serve;
        QVERIFY(serve.start(port));
        app::ConsoleWindow console;
        auto spec = app::remote::parseConnection(serve.url.toString(), kToken);
        QVERIFY(spec.ok());
        app::SourceController* controller = console.addRemote(spec.value());
        auto& source = static_cast<app::remote::BatchscopeSource&>(controller->source());
        source.backoff().setLimits(100, 400);
        ui::MainWindow* window = console.windowAt(0);
        QCOMPARE(console.tabs()->count(), 2);  // the server and Compare
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 15000);
        QSignalSpy finished(&source, &app::remote::ServerSource::requestFinished);
        const engine::RequestId id = submitFromWindow(*window, source, "streaming when killed", 8000);
        QVERIFY(id > 0);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(*window, id) == engine::RequestState::Decoding, 15000);

        serve.kill();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Reconnecting), 10000);
        QVERIFY(console.tabs()->tabText(0).startsWith(QStringLiteral("⚠")));
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 5000);
        const auto lost = finished.back().at(0).value<engine::GenerationResult>();
        QCOMPARE(lost.id, id);
        QCOMPARE(lost.finishReason, engine::FinishReason::Error);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(*window, id) == engine::RequestState::Failed, 5000);
        QTest::qWait(600);  // a few refused attempts with backoff; the window keeps running
        QCOMPARE(int(source.state()), int(ConnectionState::Reconnecting));

        ServeProcess again;
        QVERIFY(again.start(port));
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 15000);
        QVERIFY(!console.tabs()->tabText(0).startsWith(QStringLiteral("⚠")));
        const engine::RequestId after = submitFromWindow(*window, source, "after the restart", 4);
        QVERIFY(after > 0);
    }
};

QTEST_MAIN(RemoteConsoleTest)
#include "test_remote_console.moc"
