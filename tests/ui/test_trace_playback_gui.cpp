// Playback and what-if in the app (offscreen): a trace recorded in the test is opened in a
// console tab, scrubbed forwards and backwards and played; the request table, the charts and
// the block map get the recorded run. A what-if with one variant fills the panel's table with
// the figures of the same replay function `batchscope replay` uses.
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QSignalSpy>
#include <QSlider>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <qcustomplot.h>

#include "app/gui/console_window.h"
#include "app/gui/playback_controller.h"
#include "app/gui/what_if_controller.h"
#include "engine/trace/replay_bench.h"
#include "engine/trace/trace_replay.h"
#include "ui/batch_chart.h"
#include "ui/block_map_widget.h"
#include "ui/main_window.h"
#include "ui/output_pane.h"
#include "ui/timeline_bar.h"
#include "ui/playback_bar.h"
#include "ui/request_table_model.h"
#include "ui/time_series_chart.h"
#include "ui/what_if_panel.h"

using namespace batchscope;

class TracePlaybackGuiTest : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void opensScrubsAndPlays();
    void badTraceIsReported();
    void whatIfShowsBaselineAndVariant();

private:
    struct Opened {
        app::PlaybackController* playback = nullptr;
        app::WhatIfController* whatIf = nullptr;
        ui::MainWindow* window = nullptr;
    };
    Opened open(app::ConsoleWindow& console);
    QTemporaryDir m_dir;
    QString m_path;
};

void TracePlaybackGuiTest::initTestCase() {
    QVERIFY(m_dir.isValid());
    m_path = m_dir.filePath(QStringLiteral("run.sqlite"));
    engine::SyntheticWorkloadOptions o;
    o.requests = 150;
    o.ratePerSecond = 60;
    o.seed = 9;
    engine::ReplayWorkload w;
    w.requests = engine::syntheticWorkload(o);
    engine::RecordedSetup setup;
    setup.settings.maxBatchSize = 8;
    setup.settings.tokenBudget = 128;
    setup.numKvBlocks = 120;
    setup.maxSequenceLength = 1024;
    auto r = engine::replayWorkload(w, engine::StepCostModel({2.0, 0.02, 0.3, 0.05, 2e-5}), setup,
                                    m_path.toStdString());
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
}

TracePlaybackGuiTest::Opened TracePlaybackGuiTest::open(app::ConsoleWindow& console) {
    Opened o;
    QSignalSpy opened(&console, &app::ConsoleWindow::traceOpened);
    console.openTrace(m_path);
    if (!opened.wait(30000) && opened.isEmpty()) return o;
    o.playback = opened.first().at(0).value<app::PlaybackController*>();
    o.whatIf = opened.first().at(1).value<app::WhatIfController*>();
    o.window = console.windowAt(console.tabs()->currentIndex());
    return o;
}

void TracePlaybackGuiTest::opensScrubsAndPlays() {
    app::ConsoleWindow console;
    console.setInteractive(false);
    console.resize(1400, 900);
    console.show();
    const Opened o = open(console);
    QVERIFY(o.playback && o.window);
    QCOMPARE(console.playbacks().size(), 1);
    const engine::TracePlayback& p = o.playback->playback();
    ui::MainWindow& w = *o.window;

    // Scrub to the middle: the table lists the requests there, the charts have the history.
    const double mid = (p.startMs() + p.endMs()) / 2;
    o.playback->seek(mid);
    const engine::SchedulerSnapshot expected = p.snapshotAt({mid});
    QVERIFY(expected.runningCount > 0);
    for (const engine::RequestSnapshot& r : expected.requests) {
        const engine::RequestSnapshot* shown = w.requestModel()->request(r.id);
        QVERIFY2(shown, qPrintable(QStringLiteral("request %1 not in the table").arg(r.id)));
        QCOMPARE(int(shown->state), int(r.state));
        QCOMPARE(shown->generatedTokens, r.generatedTokens);
    }
    const std::int64_t stepsByMid = p.lastStepEndedBy(mid) + 1;
    QCOMPARE(std::int64_t(w.batchChart()->storedSteps()), std::min<std::int64_t>(stepsByMid, w.batchChart()->maxSteps()));
    // A sample every 100 ms of trace time up to the position, then the frame's own.
    const int samples = int((mid - p.startMs()) / 100.0);
    QVERIFY2(w.kvChart()->buffer().size() >= samples && samples >= 10,
             qPrintable(QStringLiteral("%1 samples, %2 expected").arg(w.kvChart()->buffer().size()).arg(samples)));
    QCOMPARE(w.kvChart()->buffer().series(0).back(), double(expected.kv.usedBlocks));
    QCOMPARE(w.kvChart()->buffer().lastTime(), mid / 1000.0);
    QCOMPARE(w.throughputChart()->buffer().size(), w.kvChart()->buffer().size());
    // The Gantt timeline of a finished request: waiting, then running, up to its finish.
    const engine::RequestSnapshot* finished = nullptr;
    for (const engine::RequestSnapshot& r : expected.requests)
        if (engine::isTerminal(r.state) && r.timeToFirstTokenMs && r.queueMs > 0) finished = &r;
    QVERIFY(finished);
    w.showRequest(finished->id);
    const auto& segments = w.outputPane()->timeline()->segments();
    QVERIFY2(segments.size() >= 2, qPrintable(QString::number(segments.size())));
    QCOMPARE(segments.front().phase, ui::TimelineBar::Phase::Waiting);
    QCOMPARE(segments.front().startMs, finished->arrivalMs);
    QCOMPARE(segments.back().endMs, finished->events.back().timeMs);
    int owned = 0;
    for (const engine::KvBlockView& b : w.blockMap()->blocks()) owned += b.state == engine::KvBlockView::State::Owned;
    QCOMPARE(owned, expected.kv.usedBlocks);

    // Backwards: the views are rebuilt and hold nothing from after the new time.
    const int rebuilds = o.playback->rebuilds();
    const double early = p.startMs() + (p.endMs() - p.startMs()) * 0.2;
    o.playback->seek(early);
    QCOMPARE(o.playback->rebuilds(), rebuilds + 1);
    QVERIFY(w.requestModel()->rowCount() > 0);
    for (int row = 0; row < w.requestModel()->rowCount(); ++row)
        QVERIFY(w.requestModel()->requestAt(row).arrivalMs <= early);
    QCOMPARE(std::int64_t(w.batchChart()->storedSteps()), p.lastStepEndedBy(early) + 1);
    QVERIFY(w.kvChart()->buffer().lastTime() <= early / 1000.0 + 1e-9);
    qInfo("rebuild (scrub) took %.2f ms", o.playback->lastRebuildMs());

    // The slider is the user's way there: a page step forward seeks.
    const double before = o.playback->timeMs();
    o.playback->bar()->slider()->triggerAction(QAbstractSlider::SliderPageStepAdd);
    QVERIFY(o.playback->timeMs() > before);

    // Play: time moves on by itself, frame after frame; at 100x it soon stops at the end.
    o.playback->setSpeed(0.1);
    QCOMPARE(o.playback->speed(), 0.1);
    QSignalSpy frames(o.playback, &app::PlaybackController::frameShown);
    const double t0 = o.playback->timeMs();
    o.playback->play();
    QTRY_VERIFY_WITH_TIMEOUT(frames.size() >= 5, 10000);
    QVERIFY(o.playback->timeMs() > t0);
    QVERIFY(o.playback->isPlaying());
    o.playback->setSpeed(100);
    QCOMPARE(o.playback->speed(), 100.0);
    QTRY_VERIFY_WITH_TIMEOUT(!o.playback->isPlaying(), 30000);   // ~2.5 s of trace at 100x
    QCOMPARE(o.playback->timeMs(), p.endMs());
    // At the end every request has finished, and the table has every one.
    o.playback->seek(p.startMs());
    o.playback->seek(p.endMs());
    QCOMPARE(w.requestModel()->rowCount(), 150);
    for (int row = 0; row < w.requestModel()->rowCount(); ++row)
        QVERIFY(engine::isTerminal(w.requestModel()->requestAt(row).state));
}

void TracePlaybackGuiTest::badTraceIsReported() {
    app::ConsoleWindow console;
    console.setInteractive(false);
    QSignalSpy failed(&console, &app::ConsoleWindow::traceOpenFailed);
    console.openTrace(m_dir.filePath(QStringLiteral("missing.sqlite")));
    QVERIFY(failed.wait(10000));
    QVERIFY2(failed.first().at(1).toString().contains(QStringLiteral("does not exist")),
             qPrintable(failed.first().at(1).toString()));
    QCOMPARE(console.playbacks().size(), 0);
}

void TracePlaybackGuiTest::whatIfShowsBaselineAndVariant() {
    app::ConsoleWindow console;
    console.setInteractive(false);
    const Opened o = open(console);
    QVERIFY(o.whatIf && o.window);
    auto* panel = o.window->findChild<ui::WhatIfPanel*>();
    QVERIFY(panel);
    panel->maxBatchSizeBox()->setValue(2);
    QCOMPARE(panel->editorAssignments(), QStringLiteral("max_batch_size=2"));
    panel->addVariant(panel->editorAssignments());
    QSignalSpy done(o.whatIf, &app::WhatIfController::finished);
    panel->runButton()->click();
    QVERIFY(!panel->runButton()->isEnabled());   // running, off the GUI thread
    QVERIFY(done.wait(120000));
    QVERIFY2(done.first().at(0).toBool(), qPrintable(done.first().at(1).toString()));
    QCOMPARE(panel->progressBar()->value(), panel->progressBar()->maximum());

    // The same function the CLI calls, run here directly: the rows carry its figures.
    auto direct = engine::replayTraceWithSettings(m_path.toStdString(), {"max_batch_size=2"});
    QVERIFY(direct.ok());
    QTableWidget* table = panel->table();
    QCOMPARE(table->rowCount(), 3);   // recorded, replay (baseline), the variant
    QCOMPARE(table->verticalHeaderItem(1)->text(), QStringLiteral("replay"));
    QCOMPARE(table->verticalHeaderItem(2)->text(), QStringLiteral("max_batch_size=2"));
    const auto figure = [&](int row, int col) { return table->item(row, col)->data(Qt::UserRole).toDouble(); };
    for (int row = 1; row < 3; ++row) {
        const engine::RunSummary& s = direct->columns[std::size_t(row)].summary;
        QCOMPARE(figure(row, 0), s.ttft.p50);
        QCOMPARE(figure(row, 4), s.tpot.p90);
        QCOMPARE(figure(row, 8), s.endToEnd.p99);
        QCOMPARE(figure(row, 12), s.generatedTokensPerSecond);
        QCOMPARE(figure(row, 14), double(s.preemptions));
        QCOMPARE(figure(row, 16), double(s.completed));
    }
    QVERIFY(figure(2, 0) > figure(1, 0));   // 2 sequences a step: a longer wait for the first token
    QCOMPARE(panel->ttftPlot()->graphCount(), 3);
    for (int g = 0; g < 3; ++g) QVERIFY(panel->ttftPlot()->graph(g)->dataCount() > 100);
    QCOMPARE(panel->endToEndPlot()->graphCount(), 3);
}

QTEST_MAIN(TracePlaybackGuiTest)
#include "test_trace_playback_gui.moc"
