// The Compare tab: the local engine and two OpenAI-compatible servers (in-test servers serving
// the recorded vLLM and SGLang expositions) side by side: one row and one graph per server with
// the scraped figures; closing a tab removes its server; unticking one leaves the charts; a
// figure a server cannot feed shows why. And the Server metrics dock comes to the front.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDockWidget>
#include <QLabel>
#include <QSignalSpy>
#include <QTabBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTest>
#include <cmath>

#include "app/bridge/engine_bridge.h"
#include "app/gui/console_window.h"
#include "app/gui/source_controller.h"
#include "app/remote/local_engine_source.h"
#include "app/remote/openai_source.h"
#include "engine/model/simulated_executor.h"
#include "engine/runtime/engine.h"
#include "fake_openai_server.h"
#include "ui/compare_chart.h"
#include "ui/chat_view.h"
#include "ui/compare_view.h"
#include "ui/main_window.h"

using namespace batchscope;
using ui::CompareView;

namespace {
/// Connects to the fake server and keeps the first scrape only (no second one for an hour),
/// so the figures are exactly those of PREFIX_1.prom.
int addServer(app::ConsoleWindow& console, ui::CompareView& view, const test::FakeOpenAiServer& server) {
    auto spec = app::remote::parseConnection(QStringLiteral("http://127.0.0.1:%1").arg(server.port()), QString());
    if (!spec) return -1;
    app::SourceController* c = console.addRemote(spec.value());
    static_cast<app::remote::OpenAiSource&>(c->source()).setScrapeIntervalMs(3600 * 1000);
    return view.serverCount();
}
/// Keys in row order.
QList<int> keys(const CompareView& view) {
    QList<int> out;
    for (int r = 0; r < view.table()->rowCount(); ++r)
        out << view.table()->item(r, CompareView::Name)->data(Qt::UserRole).toInt();
    return out;
}
QString currentDockTab(ui::MainWindow& w) {
    for (QTabBar* bar : w.findChildren<QTabBar*>(QString(), Qt::FindDirectChildrenOnly))
        for (int i = 0; i < bar->count(); ++i)
            if (bar->tabText(i) == QLatin1String("Server metrics")) return bar->tabText(bar->currentIndex());
    return QStringLiteral("(no tab bar with Server metrics)");
}
}  // namespace

class RemoteCompareTest : public QObject {
    Q_OBJECT
private slots:
    void localEngineAndTwoServersSideBySide() {
        app::EngineBridge bridge;
        engine::EngineConfig config;
        config.numKvBlocks = 256;
        auto engine = engine::Engine::create(config, std::make_unique<engine::SimulatedExecutor>());
        QVERIFY(engine.ok());
        bridge.setEngine(std::move(engine.value()));
        app::remote::LocalEngineSource local(bridge);
        local.setMetricsIntervalMs(200);
        local.start();
        app::ConsoleWindow console;
        ui::MainWindow localWindow;
        console.addLocal(&localWindow, &local);
        CompareView& view = *console.compareView();
        QCOMPARE(view.serverCount(), 1);
        QCOMPARE(console.tabs()->indexOf(&view), -1);  // no Compare tab for the local engine alone

        test::FakeOpenAiServer vllm, sglang;
        sglang.metricsPrefix = "sglang_metrics";
        QVERIFY(vllm.listen() && sglang.listen());
        QCOMPARE(addServer(console, view, vllm), 2);
        QCOMPARE(addServer(console, view, sglang), 3);
        QCOMPARE(console.tabs()->count(), 4);  // local, two servers, Compare (last)
        QCOMPARE(console.tabs()->indexOf(&view), 3);
        // A remote tab's chat view is off, with the reason shown (not just greyed out).
        QVERIFY(!console.windowAt(1)->chatView()->isHistoryAvailable());
        QVERIFY(console.windowAt(1)->chatView()->findChildren<QLabel*>().size() > 0);
        const QList<int> k = keys(view);
        QCOMPARE(k.size(), 3);
        const int kLocal = k[0], kVllm = k[1], kSglang = k[2];

        // The local engine, busy with a few requests.
        ui::PromptSubmission s;
        s.prompt = QStringLiteral("compare");
        s.options.maxTokens = 64;
        s.options.ignoreEos = true;
        s.count = 4;
        local.submit(s.prompt, s.options, s.count);

        // The recorded expositions' figures, one row each (tests/api/remote_metrics_test.cpp
        // checks the same numbers against the reader).
        QTRY_COMPARE_WITH_TIMEOUT(view.cellText(kVllm, CompareView::Running), QStringLiteral("3"), 15000);
        QCOMPARE(view.cellText(kVllm, CompareView::Waiting), QStringLiteral("2"));
        QCOMPARE(view.cellText(kVllm, CompareView::KvUsage), QStringLiteral("25.0"));
        QCOMPARE(view.cellText(kVllm, CompareView::TtftP50), QStringLiteral("35.0"));
        QCOMPARE(view.cellText(kVllm, CompareView::TtftP99), QStringLiteral("79.0"));
        QCOMPARE(view.cellText(kVllm, CompareView::ItlP50), QStringLiteral("17.50"));
        QCOMPARE(view.cellText(kVllm, CompareView::E2eP50), QStringLiteral("800"));
        QCOMPARE(view.cellText(kVllm, CompareView::E2eP99), QStringLiteral("1475"));
        QCOMPARE(view.cellText(kVllm, CompareView::State), QStringLiteral("connected"));
        QCOMPARE(view.cellText(kVllm, CompareView::GenerationRate), QStringLiteral("—"));  // one scrape: no rate yet
        QTRY_COMPARE_WITH_TIMEOUT(view.cellText(kSglang, CompareView::Running), QStringLiteral("162"), 15000);
        QCOMPARE(view.cellText(kSglang, CompareView::Waiting), QStringLiteral("26"));
        QCOMPARE(view.cellText(kSglang, CompareView::KvUsage), QStringLiteral("28.0"));
        QCOMPARE(view.cellText(kSglang, CompareView::TtftP50), QStringLiteral("300.0"));
        QCOMPARE(view.cellText(kSglang, CompareView::TtftP99), QStringLiteral("725.0"));
        QCOMPARE(view.cellText(kSglang, CompareView::E2eP50), QStringLiteral("1200"));
        // Names follow the model each server reports.
        QTRY_VERIFY_WITH_TIMEOUT(view.cellText(kSglang, CompareView::Name).contains("Llama-3.1-8B-Instruct"), 5000);

        // One graph per server (requests: running and waiting), with the same figures.
        const ui::CompareChart* kv = view.chart(CompareView::KvChart);
        const ui::CompareChart* requests = view.chart(CompareView::RequestsChart);
        QCOMPARE(kv->graphCount(), 3);
        QCOMPARE(requests->graphCount(), 6);
        QCOMPARE(kv->lastValue(view.graphsOf(kVllm, CompareView::KvChart)[0]), 25.0);
        QCOMPARE(kv->lastValue(view.graphsOf(kSglang, CompareView::KvChart)[0]), 28.0);
        QCOMPARE(requests->lastValue(view.graphsOf(kVllm, CompareView::RequestsChart)[0]), 3.0);
        QCOMPARE(requests->lastValue(view.graphsOf(kSglang, CompareView::RequestsChart)[1]), 26.0);

        // The local engine's row and graphs fill from its snapshots.
        QCOMPARE(view.cellText(kLocal, CompareView::State), QStringLiteral("local"));
        const int localGen = view.graphsOf(kLocal, CompareView::GenerationChart)[0];
        QTRY_VERIFY_WITH_TIMEOUT(view.chart(CompareView::GenerationChart)->pointCount(localGen) >= 2, 15000);
        QTRY_VERIFY_WITH_TIMEOUT(view.chart(CompareView::GenerationChart)->lastValue(localGen) > 0, 15000);
        QVERIFY(view.cellText(kLocal, CompareView::GenerationRate) != QStringLiteral("—"));
        QVERIFY(view.cellText(kLocal, CompareView::KvUsage) != QStringLiteral("—"));

        // Untick SGLang: it leaves the charts, stays in the table.
        view.table()->item(view.rowOf(kSglang), CompareView::Name)->setCheckState(Qt::Unchecked);
        QVERIFY(!kv->isGraphVisible(view.graphsOf(kSglang, CompareView::KvChart)[0]));
        QVERIFY(kv->isGraphVisible(view.graphsOf(kVllm, CompareView::KvChart)[0]));
        QCOMPARE(view.serverCount(), 3);

        // A picture for the docs (not compared).
        console.showCompare();
        console.resize(1500, 900);
        console.show();
        QVERIFY(QTest::qWaitForWindowExposed(&console));
        view.replotImmediately();
        QVERIFY(console.grab().save(QCoreApplication::applicationDirPath() + "/remote_compare.png"));

        // Closing the vLLM tab removes its row and graphs.
        emit console.tabs()->tabCloseRequested(1);
        QCOMPARE(view.serverCount(), 2);
        QCOMPARE(view.rowOf(kVllm), -1);
        QCOMPARE(kv->graphCount(), 2);
    }

    void missingFiguresSayWhy() {
        CompareView view;
        const int key = view.addServer(QStringLiteral("tgi"));
        ui::ServerMetricsSample s;
        s.running = 12;
        s.waiting = 3;
        s.generationTokensPerSecond = 2000;
        s.promptTokensPerSecond = 1280;
        s.interTokenMs.p50 = 93.52;
        s.unavailable = {"KV-cache usage: TGI exports none (only batch sizes and token limits)",
                         "preemptions: TGI exports no preemption counter",
                         "TTFT: TGI exports no time-to-first-token histogram"};
        view.addSample(key, s);
        QCOMPARE(view.cellText(key, CompareView::GenerationRate), QStringLiteral("2000.0"));
        QCOMPARE(view.cellText(key, CompareView::PromptRate), QStringLiteral("1280.0"));
        QCOMPARE(view.cellText(key, CompareView::ItlP50), QStringLiteral("93.52"));
        QCOMPARE(view.cellText(key, CompareView::TtftP50), QStringLiteral("—"));
        const QTableWidgetItem* ttft = view.table()->item(view.rowOf(key), CompareView::TtftP50);
        QVERIFY(ttft->toolTip().contains("TGI exports no time-to-first-token histogram"));
        QVERIFY(view.table()->item(view.rowOf(key), CompareView::KvUsage)->toolTip().contains("TGI exports none"));
        // A later sample without latency keeps the last percentiles (no request finished).
        ui::ServerMetricsSample next = s;
        next.interTokenMs = {};
        view.addSample(key, next);
        QCOMPARE(view.cellText(key, CompareView::ItlP50), QStringLiteral("93.52"));
        // Figures not fed draw no line (not a 0).
        QCOMPARE(view.chart(CompareView::KvChart)->pointCount(view.graphsOf(key, CompareView::KvChart)[0]), 0);
        QCOMPARE(view.chart(CompareView::GenerationChart)->pointCount(view.graphsOf(key, CompareView::GenerationChart)[0]), 2);
    }

    void serverMetricsDockComesToTheFront() {
        ui::ServerMetricsSample s;
        s.running = 1;
        {  // the window on screen when the first sample arrives
            ui::MainWindow w;
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            // Hidden until the first sample: no tab of its own yet.
            QCOMPARE(currentDockTab(w), QStringLiteral("(no tab bar with Server metrics)"));
            w.applyServerMetrics(s);
            QTRY_COMPARE_WITH_TIMEOUT(currentDockTab(w), QStringLiteral("Server metrics"), 5000);
        }
        {  // hidden (its console tab is not the current one), shown later
            ui::MainWindow w;
            w.applyServerMetrics(s);
            QTest::qWait(20);
            w.show();
            QVERIFY(QTest::qWaitForWindowExposed(&w));
            QTRY_COMPARE_WITH_TIMEOUT(currentDockTab(w), QStringLiteral("Server metrics"), 5000);
        }
    }
};

QTEST_MAIN(RemoteCompareTest)
#include "test_remote_compare.moc"
