// The console attached to an OpenAI-compatible server (an in-test HTTP server serving a recorded
// vLLM /metrics exposition and SSE completion streams): metrics into the charts, completions
// streamed into the request table, cancel closes the stream, panels say why they are empty,
// a wrong key, and the server going away and coming back.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QLabel>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTest>
#include <cmath>

#include <QComboBox>
#include <QLineEdit>

#include "app/gui/connect_dialog.h"
#include "app/gui/console_window.h"
#include "app/gui/source_controller.h"
#include "app/remote/local_engine_source.h"
#include "app/remote/openai_source.h"
#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"
#include "fake_openai_server.h"
#include "ui/main_window.h"
#include "ui/output_pane.h"
#include "ui/request_table_model.h"
#include "ui/server_metrics_panel.h"
#include "ui/time_series_chart.h"

using namespace batchscope;
using app::remote::ConnectionState;
using Panel = ui::MainWindow::Panel;

namespace {
engine::RequestState stateOf(ui::MainWindow& w, engine::RequestId id) {
    const int row = w.requestModel()->rowOf(id);
    return row < 0 ? engine::RequestState::Queued : w.requestModel()->requestAt(row).state;
}
double last(const ui::TimeSeriesChart* chart, int series) { return chart->buffer().series(series).back(); }

engine::RequestId submit(ui::MainWindow& w, app::remote::ServerSource& source, const QString& prompt, int maxTokens) {
    QSignalSpy spy(&source, &app::remote::ServerSource::submitted);
    ui::PromptSubmission s;
    s.prompt = prompt;
    s.options.maxTokens = maxTokens;
    s.options.sampling.seed = 7;
    emit w.submitRequested(s);
    if (spy.isEmpty()) return 0;  // submit() answers synchronously
    const auto ids = spy.front().at(0).value<QList<engine::RequestId>>();
    return ids.isEmpty() ? 0 : ids.front();
}
}  // namespace

class RemoteOpenAiTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { qRegisterMetaType<QList<engine::RequestId>>(); }

    void scrapesVllmMetricsAndStreamsCompletions() {
        test::FakeOpenAiServer server;
        QVERIFY(server.listen());
        ui::MainWindow window;
        app::remote::OpenAiSource source(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port())), QString());
        source.setScrapeIntervalMs(150);
        app::SourceController controller(source, window);
        QSignalSpy finished(&source, &app::remote::ServerSource::requestFinished);
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(source.stateMessage().contains("vllm metrics"), 5000);
        QTRY_COMPARE_WITH_TIMEOUT(source.modelName(), server.model, 5000);

        // Panels it cannot feed say why.
        QVERIFY(window.panelUnavailableReason(Panel::BatchComposition).contains("batch composition"));
        QVERIFY(window.panelUnavailableReason(Panel::KvBlockMap).contains("block table"));
        QVERIFY(!window.panelUnavailableReason(Panel::Latency).isEmpty());
        QVERIFY(window.panelUnavailableReason(Panel::Throughput).isEmpty());

        // The second and later scrapes serve the second exposition: the charts show its values.
        QTRY_VERIFY_WITH_TIMEOUT(server.scrapes >= 3, 10000);
        QTRY_VERIFY_WITH_TIMEOUT(window.serverMetricsPanel()->chart(0)->buffer().size() >= 3, 5000);
        const ui::ServerMetricsPanel* panel = window.serverMetricsPanel();
        QCOMPARE(last(panel->chart(0), 0), 5.0);   // vllm:num_requests_running
        QCOMPARE(last(panel->chart(0), 1), 0.0);   // vllm:num_requests_waiting
        QCOMPARE(last(panel->chart(1), 0), 50.0);  // vllm:kv_cache_usage_perc 0.5
        // Percentiles over the window = the 10 TTFT observations added in (0.1, 0.25] s.
        QVERIFY(std::abs(last(panel->chart(3), 0) - 175.0) < 1e-6);    // TTFT p50, ms
        QVERIFY(std::abs(last(panel->chart(3), 1) - 248.5) < 1e-6);    // TTFT p99
        QVERIFY(std::abs(last(panel->chart(3), 2) - 87.5) < 1e-6);     // inter-token p50
        QVERIFY(std::abs(last(panel->chart(3), 4) - 1750.0) < 1e-6);   // end-to-end p50
        // Token rates: the counters grew between the first and second scrape, then stood still.
        const auto& prompt = panel->chart(2)->buffer().series(0);
        QVERIFY(*std::max_element(prompt.begin(), prompt.end()) > 0);
        QCOMPARE(prompt.back(), 0.0);
        QVERIFY(panel->missingText().isEmpty());

        // A completion from the composer streams into the table and the output pane.
        const engine::RequestId id = submit(window, source, QStringLiteral("Hello"), 5);
        QVERIFY(id > 0);
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 10000);
        const auto r = finished.front().at(0).value<engine::GenerationResult>();
        QCOMPARE(r.id, id);
        QCOMPARE(r.text, std::string(" tok0 tok1 tok2 tok3 tok4"));
        QCOMPARE(r.finishReason, engine::FinishReason::MaxTokens);
        QCOMPARE(r.usage.promptTokens, 5);
        QCOMPARE(r.usage.completionTokens, 5);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(window, id) == engine::RequestState::Finished, 5000);
        const QJsonObject sent = server.completionBodies.front();
        QCOMPARE(sent.value("stream").toBool(), true);
        QCOMPARE(sent.value("max_tokens").toInt(), 5);
        QCOMPARE(sent.value("model").toString(), server.model);
        QCOMPARE(sent.value("seed").toInt(), 7);
        QVERIFY(sent.value("stream_options").toObject().value("include_usage").toBool());

        // Cancel = close the stream: the server sees the client go away mid-stream.
        const engine::RequestId endless = submit(window, source, QStringLiteral("talk forever"), 100);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(window, endless) == engine::RequestState::Decoding, 10000);
        emit window.cancelRequested({endless});
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(window, endless) == engine::RequestState::Cancelled, 5000);
        QTRY_COMPARE_WITH_TIMEOUT(server.clientClosedMidStream, 1, 5000);
        QCOMPARE(source.activeRequestCount(), 0);
        // A picture of the remote view next to the binary (for the docs; not compared).
        window.resize(1500, 950);
        window.show();
        QTest::qWait(50);
        window.replotAll();
        QVERIFY(window.grab().save(QCoreApplication::applicationDirPath() + "/remote_openai.png"));
        // No priority change over the OpenAI API: a notice, nothing sent.
        QSignalSpy notices(&source, &app::remote::ServerSource::notice);
        emit window.priorityChangeRequested(endless, engine::Priority::High);
        QCOMPARE(notices.size(), 1);
    }

    /// The same controller fed by the local engine through LocalEngineSource.
    void localEngineThroughTheSameInterface() {
        app::EngineBridge bridge;
        engine::EngineConfig config;
        config.numKvBlocks = 256;
        auto engine = engine::Engine::create(config, std::make_unique<engine::SimulatedExecutor>());
        QVERIFY(engine.ok());
        bridge.setEngine(std::move(engine.value()));
        ui::MainWindow window;
        app::remote::LocalEngineSource source(bridge);
        app::SourceController controller(source, window);
        source.start();
        QCOMPARE(int(source.state()), int(ConnectionState::Local));
        QVERIFY(window.panelUnavailableReason(Panel::KvBlockMap).isEmpty());
        QSignalSpy spy(&source, &app::remote::ServerSource::submitted);
        ui::PromptSubmission s;
        s.prompt = QStringLiteral("local");
        s.options.maxTokens = 4;
        s.options.ignoreEos = true;
        emit window.submitRequested(s);
        QTRY_COMPARE_WITH_TIMEOUT(spy.size(), 1, 10000);
        const auto id = spy.front().at(0).value<QList<engine::RequestId>>().value(0);
        QVERIFY(id > 0);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(window, id) == engine::RequestState::Finished, 10000);
        engine::SchedulerSettings settings = bridge.engine()->settings();
        settings.maxBatchSize = 3;
        emit window.settingsChanged(settings);  // the local engine's settings can be changed
        QTRY_COMPARE_WITH_TIMEOUT(bridge.engine()->settings().maxBatchSize, 3, 5000);
    }

    void connectDialogValidatesAndOpensATab() {
        test::FakeOpenAiServer server;
        QVERIFY(server.listen());
        app::ConsoleWindow console;
        console.showConnectDialog();
        auto* dialog = console.findChild<app::ConnectDialog*>();
        QVERIFY(dialog);
        dialog->urlEdit()->setText(QStringLiteral("ftp://nowhere"));
        dialog->accept();
        QVERIFY(dialog->isVisible());  // refused, with the reason
        QVERIFY(dialog->errorText().contains("unknown scheme"));
        dialog->urlEdit()->setText(QStringLiteral("ws://127.0.0.1:1"));
        dialog->accept();
        QVERIFY(dialog->errorText().contains("token"));  // batchscope needs its token
        dialog->urlEdit()->setText(QStringLiteral("http://127.0.0.1:%1").arg(server.port()));
        dialog->kindBox()->setCurrentIndex(2);  // OpenAI-compatible
        dialog->accept();
        QCOMPARE(console.tabs()->count(), 2);  // the server and Compare
        QCOMPARE(console.remotes().size(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(int(console.remotes().front()->source().state()), int(ConnectionState::Connected), 10000);
        emit console.tabs()->tabCloseRequested(0);
        QCOMPARE(console.tabs()->count(), 1);  // Compare stays
        emit console.tabs()->tabCloseRequested(0);
        QCOMPARE(console.tabs()->count(), 1);  // and cannot be closed
    }

    void wrongKeyIsUnauthorized() {
        test::FakeOpenAiServer server;
        server.requiredToken = QStringLiteral("sk-right");
        QVERIFY(server.listen());
        app::remote::OpenAiSource source(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port())),
                                         QStringLiteral("sk-wrong"));
        source.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Unauthorized), 10000);
        QVERIFY(source.stateMessage().contains("401"));
        app::remote::OpenAiSource right(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.port())),
                                        QStringLiteral("sk-right"));
        right.start();
        QTRY_COMPARE_WITH_TIMEOUT(int(right.state()), int(ConnectionState::Connected), 10000);
    }

    void serverGoneMidStreamThenBack() {
        auto server = std::make_unique<test::FakeOpenAiServer>();
        QVERIFY(server->listen());
        const quint16 port = server->port();
        app::ConsoleWindow console;
        auto spec = app::remote::parseConnection(QStringLiteral("http://127.0.0.1:%1").arg(port), QString());
        QVERIFY(spec.ok());
        app::SourceController* controller = console.addRemote(spec.value());
        auto& source = static_cast<app::remote::OpenAiSource&>(controller->source());
        source.setScrapeIntervalMs(100);
        source.backoff().setLimits(100, 400);
        ui::MainWindow* window = console.windowAt(0);
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 10000);
        QSignalSpy finished(&source, &app::remote::ServerSource::requestFinished);
        const engine::RequestId id = submit(*window, source, QStringLiteral("forever and ever"), 100);
        QTRY_VERIFY_WITH_TIMEOUT(stateOf(*window, id) == engine::RequestState::Decoding, 10000);

        server->shutDown();
        server.reset();
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Reconnecting), 10000);
        QVERIFY(console.tabs()->tabText(0).startsWith(QStringLiteral("⚠")));
        QVERIFY(window->findChild<QLabel*>("connectionState")->text().contains("reconnecting"));
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 5000);
        QCOMPARE(finished.front().at(0).value<engine::GenerationResult>().finishReason, engine::FinishReason::Error);
        QTest::qWait(500);
        QCOMPARE(int(source.state()), int(ConnectionState::Reconnecting));

        test::FakeOpenAiServer back;
        QVERIFY(back.listen(port));
        QTRY_COMPARE_WITH_TIMEOUT(int(source.state()), int(ConnectionState::Connected), 10000);
        QVERIFY(!console.tabs()->tabText(0).startsWith(QStringLiteral("⚠")));
    }
};

QTEST_MAIN(RemoteOpenAiTest)
#include "test_remote_openai.moc"
