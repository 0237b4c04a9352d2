// Chart, block map, controls and main-window tests with hand-made snapshots: no engine.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QApplication>
#include <QClipboard>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QToolButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "tests/ui/snapshot_factory.h"
#include "ui/batch_chart.h"
#include "ui/block_map_widget.h"
#include "ui/chart_data.h"
#include "ui/display_text.h"
#include "ui/latency_histogram.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/output_pane.h"
#include "ui/prompt_composer.h"
#include "ui/request_filter_proxy.h"
#include "ui/request_table_model.h"
#include "ui/request_table_view.h"
#include "ui/scheduler_controls.h"
#include "ui/status_summary.h"
#include "ui/time_series_chart.h"
#include "ui/timeline_bar.h"

using namespace batchscope;
using engine::Priority;
using engine::RequestState;
using tests::makeRequest;
using tests::makeStep;
using ui::RequestTableModel;

class TestUiCharts : public QObject {
    Q_OBJECT
private slots:
    void batchChartKeepsBoundedWindow();
    void timeSeriesChartKeepsBoundedWindowAndThins();
    void latencyHistogramPercentiles();
    void blockMapColours();
    void schedulerControlsEmitOnlyOnUserEdits();
    void mainWindowShowsSnapshotAndEndpoint();
    void settingsPersistAcrossWindows();
};

static engine::SchedulerSnapshot threeRequests() {
    engine::SchedulerSnapshot s;
    s.requests = {makeRequest(1, RequestState::Decoding, Priority::High, 5),
                  makeRequest(2, RequestState::Queued, Priority::Low, 0),
                  makeRequest(3, RequestState::Finished, Priority::Normal, 64)};
    return s;
}

void TestUiCharts::batchChartKeepsBoundedWindow() {
    ui::BatchChart chart;
    chart.resize(600, 300);
    chart.show();
    std::vector<engine::StepRecord> steps;
    for (int i = 0; i < 5000; ++i) steps.push_back(makeStep(i, i % 3 == 0 ? 64 : 0, 8));
    chart.addSteps(steps);
    QVERIFY(chart.storedSteps() <= chart.maxSteps());
    chart.replotImmediately();
    QCOMPARE(chart.plottedBars(), chart.visibleSteps());
    chart.setVisibleSteps(2000);  // more steps than bars: bucketed
    chart.replotImmediately();
    QVERIFY(chart.plottedBars() <= 240);
    QVERIFY(chart.plottedBars() > 100);
    const QString tip = chart.stepToolTip(4998);
    QVERIFY2(tip.contains(QStringLiteral("Step 4998")), qPrintable(tip));
    QVERIFY(tip.contains(QStringLiteral("#100 decode 1")));
    QVERIFY(chart.stepToolTip(10).isEmpty());  // dropped from the bounded history
    chart.addSteps({makeStep(3, 10, 1)});       // older index: a new engine
    QCOMPARE(chart.storedSteps(), 1);
}

void TestUiCharts::timeSeriesChartKeepsBoundedWindowAndThins() {
    ui::TimeSeriesChart chart({{QStringLiteral("a"), QStringLiteral("u"), Qt::blue, false, false}},
                              QStringLiteral("left"), QString());
    chart.resize(500, 300);
    chart.show();
    chart.setWindowSeconds(60);
    for (int i = 0; i <= 2000; ++i) chart.append(i * 0.1, {i == 1500 ? 1000.0 : double(i % 7)});
    QVERIFY(chart.buffer().firstTime() >= 200.0 - 60.0 - 1e-9);
    QCOMPARE(chart.buffer().lastTime(), 200.0);
    QVERIFY(chart.buffer().size() <= 601);
    chart.replotImmediately();
    QVERIFY(chart.plottedPoints(0) <= chart.maxPoints());
    QVector<double> x, y;
    ui::thinMinMax(chart.buffer().times(), chart.buffer().series(0), 50, x, y);
    QVERIFY(x.size() <= 50);
    QVERIFY(std::is_sorted(x.begin(), x.end()));
    QCOMPARE(*std::max_element(y.begin(), y.end()), 1000.0);  // the peak survives thinning
    QVERIFY(chart.valuesToolTip(150.0).contains(QStringLiteral("1000.0")));
}

void TestUiCharts::latencyHistogramPercentiles() {
    ui::LatencyHistogram chart(QStringLiteral("TTFT"));
    std::vector<double> samples;
    for (int i = 1; i <= 100; ++i) samples.push_back(i);
    chart.setSamples(samples);
    QCOMPARE(chart.sampleCount(), 100);
    QCOMPARE(chart.p50(), 50.5);
    QVERIFY(qAbs(chart.p95() - 95.05) < 1e-9);
    QVERIFY(qAbs(chart.p99() - 99.01) < 1e-9);
    double total = 0;
    for (double c : chart.binCounts()) total += c;
    QCOMPARE(total, 100.0);
    QCOMPARE(chart.binCounts().size(), ui::LatencyHistogram::binCount());
    chart.setSamples({});
    QCOMPARE(chart.sampleCount(), 0);
    QCOMPARE(chart.p99(), 0.0);
}

void TestUiCharts::blockMapColours() {
    using B = engine::KvBlockView;
    ui::BlockMapWidget map;
    map.resize(200, 100);
    std::vector<B> blocks = {{B::State::Free, 0, 0}, {B::State::Cached, 0, 0},
                             {B::State::Owned, 1, 5}, {B::State::Owned, 2, 6},
                             {B::State::Owned, 1, 5}};
    map.setBlocks(blocks);
    QCOMPARE(map.colorOf(blocks[2]), ui::requestColor(5));
    QVERIFY(map.colorOf(blocks[2]) != map.colorOf(blocks[3]));
    QCOMPARE(map.colorOf(blocks[2]), map.colorOf(blocks[4]));
    QVERIFY(map.colorOf(blocks[0]) != map.colorOf(blocks[1]));
    QVERIFY(map.colorOf(blocks[1]) != map.colorOf(blocks[2]));
    // The painted pixels use those colours: sample the centre of the owned cell.
    map.show();
    QVERIFY(QTest::qWaitForWindowExposed(&map));
    const QImage image = map.grab().toImage();
    int columns = 0, cell = 0;
    map.layoutGrid(columns, cell);
    QVERIFY(columns >= 1 && cell > 4);
    // Block 2's top-left corner area, away from the shared-block dot in its centre.
    const QPoint corner(1 + (2 % columns) * cell + 1, 1 + (2 / columns) * cell + 1);
    QCOMPARE(map.blockAt(corner), 2);
    QCOMPARE(image.pixelColor(corner * image.devicePixelRatio()).rgb(), ui::requestColor(5).rgb());
    QSignalSpy clicked(&map, &ui::BlockMapWidget::blockClicked);
    QTest::mouseClick(&map, Qt::LeftButton, {}, corner);
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.at(0).at(0).value<engine::RequestId>(), engine::RequestId(5));
}

void TestUiCharts::schedulerControlsEmitOnlyOnUserEdits() {
    ui::SchedulerControls controls;
    QSignalSpy spy(&controls, &ui::SchedulerControls::settingsChanged);
    engine::SchedulerSettings s;
    s.maxBatchSize = 7;
    s.tokenBudget = 300;
    s.queuePolicy = engine::QueuePolicy::Fcfs;
    s.memoryPolicy = engine::MemoryPolicy::Reserve;
    s.prefixCaching = false;
    controls.setSettings(s);
    QCOMPARE(spy.count(), 0);
    const auto back = controls.settings();
    QCOMPARE(back.maxBatchSize, 7);
    QCOMPARE(back.tokenBudget, 300);
    QCOMPARE(back.queuePolicy, engine::QueuePolicy::Fcfs);
    QCOMPARE(back.memoryPolicy, engine::MemoryPolicy::Reserve);
    QVERIFY(!back.prefixCaching);
    controls.pauseButton()->click();
    QCOMPARE(spy.count(), 1);
    QVERIFY(spy.at(0).at(0).value<engine::SchedulerSettings>().paused);
    QCOMPARE(spy.at(0).at(0).value<engine::SchedulerSettings>().maxBatchSize, 7);
}

void TestUiCharts::mainWindowShowsSnapshotAndEndpoint() {
    ui::MainWindow window;
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto snap = std::make_shared<engine::SchedulerSnapshot>(threeRequests());
    snap->timeMs = 1500;
    snap->kv.totalBlocks = 100;
    snap->kv.usedBlocks = 25;
    snap->queueDepth = 1;
    snap->runningCount = 1;
    snap->generatedTokensPerSecond = 123.4;
    snap->settings.maxBatchSize = 9;
    snap->steps = {makeStep(0, 32, 0), makeStep(1, 0, 2)};
    snap->recentTtftMs = {10, 20, 30};
    window.applySnapshot(snap);
    QCOMPARE(window.requestModel()->rowCount(), 3);
    QCOMPARE(window.batchChart()->storedSteps(), 2);
    QCOMPARE(window.kvChart()->buffer().size(), 1);
    QCOMPARE(window.latencyChart(0)->sampleCount(), 3);
    QCOMPARE(window.schedulerSettings().maxBatchSize, 9);  // follows the engine
    const QString status = window.statusSummary()->text();
    QVERIFY2(status.contains(QStringLiteral("123.4 tok/s")), qPrintable(status));
    QVERIFY(status.contains(QStringLiteral("KV 25%")));
    QVERIFY(status.contains(QStringLiteral("1 running · 1 queued")));
    window.setApiEndpoint(QStringLiteral("ws://127.0.0.1:8765"), QStringLiteral("s3cret"));
    QVERIFY(window.statusSummary()->text().contains(QStringLiteral("ws://127.0.0.1:8765")));
    QVERIFY(!window.statusSummary()->text().contains(QStringLiteral("s3cret")));
    QVERIFY(window.statusSummary()->copyTokenButton()->isVisible());
    window.statusSummary()->copyTokenButton()->click();
    QCOMPARE(QApplication::clipboard()->text(), QStringLiteral("s3cret"));
    engine::ModelInfo info;
    info.name = "tiny";
    info.architecture = "llama";
    info.parameterCount = 15'000'000;
    info.tensorTypeCounts = {{"F32", 3}, {"Q8_0", 7}};
    window.setModelInfo(info);
    QCOMPARE(window.requestModel()->rowCount(), 0);  // a new engine reuses ids: start afresh
    QCOMPARE(window.batchChart()->storedSteps(), 0);
    QCOMPARE(window.modelPanel()->valueOf(QStringLiteral("Architecture")), QStringLiteral("llama"));
    QCOMPARE(window.modelPanel()->valueOf(QStringLiteral("Parameters")), QStringLiteral("15.0 M"));
    QCOMPARE(window.modelPanel()->valueOf(QStringLiteral("Tensor types")),
             QStringLiteral("7 × Q8_0, 3 × F32"));
    info.fileType = "Q4_K_M";
    info.tensorTypeCounts = {{"F32", 57}, {"Q4_K", 97}, {"Q5_0", 12}, {"Q6_K", 25}};
    window.setModelInfo(info);
    QCOMPARE(window.modelPanel()->valueOf(QStringLiteral("Tensor types")),
             QStringLiteral("Q4_K_M: 97 × Q4_K, 57 × F32, 25 × Q6_K, 12 × Q5_0"));
    QVERIFY(window.windowTitle().contains(QStringLiteral("tiny")));
}

void TestUiCharts::settingsPersistAcrossWindows() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("gui.ini")), QSettings::IniFormat);
    {
        ui::MainWindow window;
        engine::SchedulerSettings s;
        s.maxBatchSize = 5;
        s.tokenBudget = 1024;
        s.agingIntervalMs = 0;
        s.prefixCaching = false;
        window.schedulerControls()->setSettings(s);
        window.saveSettings(settings);
    }
    ui::MainWindow restored;
    QSignalSpy spy(&restored, &ui::MainWindow::settingsChanged);
    restored.restoreSettings(settings);
    QCOMPARE(spy.count(), 0);
    const auto s = restored.schedulerSettings();
    QCOMPARE(s.maxBatchSize, 5);
    QCOMPARE(s.tokenBudget, 1024);
    QCOMPARE(s.agingIntervalMs, std::int64_t(0));
    QVERIFY(!s.prefixCaching);
    QVERIFY(settings.contains(QStringLiteral("window/state")));
}

QTEST_MAIN(TestUiCharts)
#include "test_ui_charts.moc"
