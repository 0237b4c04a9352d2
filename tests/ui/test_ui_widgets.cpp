// Widget tests with hand-made snapshots (table, composer, output pane): no engine involved.
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

class TestUiWidgets : public QObject {
    Q_OBJECT
private slots:
    void tableModelRowsAndColours();
    void tableModelUpdatesInPlaceAndKeepsTerminal();
    void tableSortingAndStateFilter();
    void tableHistoryIsBounded();
    void priorityEditEmitsIntent();
    void deleteKeyCancelsSelectedActiveRows();
    void composerSubmitsWithOptions();
    void composerBurstIsMixed();
    void outputPaneBatchesAndFinalTextWins();
    void timelineSegmentsFollowEvents();
};

static engine::SchedulerSnapshot threeRequests() {
    engine::SchedulerSnapshot s;
    s.requests = {makeRequest(1, RequestState::Decoding, Priority::High, 5),
                  makeRequest(2, RequestState::Queued, Priority::Low, 0),
                  makeRequest(3, RequestState::Finished, Priority::Normal, 64)};
    return s;
}

void TestUiWidgets::tableModelRowsAndColours() {
    RequestTableModel model;
    model.applySnapshot(threeRequests());
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.index(0, RequestTableModel::Id).data().toULongLong(), 1ull);
    QCOMPARE(model.index(0, RequestTableModel::State).data().toString(), QStringLiteral("Decoding"));
    QCOMPARE(model.index(1, RequestTableModel::Priority).data().toString(), QStringLiteral("Low"));
    QCOMPARE(model.index(1, RequestTableModel::WaitReason).data().toString(),
             QStringLiteral("KV memory: needs 3 blocks, 1 free, 0 reclaimable from the prefix cache"));
    QCOMPARE(model.index(2, RequestTableModel::FinishReason).data().toString(),
             QStringLiteral("max tokens"));
    QCOMPARE(model.index(2, RequestTableModel::GeneratedTokens).data().toString(),
             QStringLiteral("64 / 64"));
    const QColor decoding = model.index(0, RequestTableModel::State).data(Qt::ForegroundRole).value<QColor>();
    const QColor finished = model.index(2, RequestTableModel::State).data(Qt::ForegroundRole).value<QColor>();
    QCOMPARE(decoding, ui::stateColor(RequestState::Decoding));
    QCOMPARE(finished, ui::stateColor(RequestState::Finished));
    QVERIFY(decoding != finished);
    QVERIFY(!model.index(0, RequestTableModel::Prompt).data(Qt::ForegroundRole).isValid());
}

void TestUiWidgets::tableModelUpdatesInPlaceAndKeepsTerminal() {
    RequestTableModel model;
    model.applySnapshot(threeRequests());
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    engine::SchedulerSnapshot next;
    next.requests = {makeRequest(1, RequestState::Finished, Priority::High, 64),
                     makeRequest(2, RequestState::Prefilling, Priority::Low, 0),
                     makeRequest(3, RequestState::Decoding, Priority::Normal, 1)};  // stale copy
    model.applySnapshot(next);
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.requestAt(0).state, RequestState::Finished);
    QCOMPARE(model.requestAt(1).state, RequestState::Prefilling);
    QCOMPARE(model.requestAt(2).state, RequestState::Finished);  // terminal is final
    engine::GenerationResult result;
    result.id = 2;
    result.finishReason = engine::FinishReason::Cancelled;
    model.applyFinished(result);
    QCOMPARE(model.requestAt(1).state, RequestState::Cancelled);
}

void TestUiWidgets::tableSortingAndStateFilter() {
    RequestTableModel model;
    engine::SchedulerSnapshot s;
    s.requests = {makeRequest(1, RequestState::Decoding, Priority::Normal, 5),
                  makeRequest(2, RequestState::Decoding, Priority::Normal, 40),
                  makeRequest(3, RequestState::Queued, Priority::Normal, 0),
                  makeRequest(4, RequestState::Finished, Priority::Normal, 12),
                  makeRequest(5, RequestState::Prefilling, Priority::Normal, 0)};
    model.applySnapshot(s);
    ui::RequestFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(RequestTableModel::GeneratedTokens, Qt::DescendingOrder);
    // Numeric, not lexical: 40 > 12 > 5.
    QCOMPARE(proxy.index(0, 0).data().toULongLong(), 2ull);
    QCOMPARE(proxy.index(1, 0).data().toULongLong(), 4ull);
    QCOMPARE(proxy.index(2, 0).data().toULongLong(), 1ull);
    proxy.setStateFilter(ui::RequestFilterProxy::StateFilter::Running);
    QCOMPARE(proxy.rowCount(), 3);
    proxy.setStateFilter(ui::RequestFilterProxy::StateFilter::Waiting);
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data().toULongLong(), 3ull);
    proxy.setStateFilter(ui::RequestFilterProxy::StateFilter::All);
    proxy.setFilterFixedString(QStringLiteral("number 4"));
    QCOMPARE(proxy.rowCount(), 1);
    // Dynamic: a state change moves a row in or out of the filter.
    proxy.setFilterFixedString(QString());
    proxy.setStateFilter(ui::RequestFilterProxy::StateFilter::Finished);
    QCOMPARE(proxy.rowCount(), 1);
    s.requests = {makeRequest(1, RequestState::Finished, Priority::Normal, 64)};
    model.applySnapshot(s);
    QCOMPARE(proxy.rowCount(), 2);
}

void TestUiWidgets::tableHistoryIsBounded() {
    RequestTableModel model;
    model.setMaxRows(50);
    engine::SchedulerSnapshot s;
    s.requests.push_back(makeRequest(1, RequestState::Decoding));  // oldest, but active
    for (engine::RequestId id = 2; id <= 120; ++id)
        s.requests.push_back(makeRequest(id, RequestState::Finished));
    model.applySnapshot(s);
    QCOMPARE(model.rowCount(), 50);
    QVERIFY(model.rowOf(1) >= 0);     // active rows are never dropped
    QVERIFY(model.rowOf(120) >= 0);   // newest finished kept
    QCOMPARE(model.rowOf(2), -1);     // oldest finished dropped
    for (int row = 0; row < model.rowCount(); ++row)
        QCOMPARE(model.rowOf(model.requestAt(row).id), row);
}

void TestUiWidgets::priorityEditEmitsIntent() {
    RequestTableModel model;
    model.applySnapshot(threeRequests());
    QSignalSpy spy(&model, &RequestTableModel::priorityChangeRequested);
    const QModelIndex queued = model.index(1, RequestTableModel::Priority);
    QVERIFY(model.flags(queued) & Qt::ItemIsEditable);
    QVERIFY(model.setData(queued, int(Priority::Critical), Qt::EditRole));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).value<engine::RequestId>(), engine::RequestId(2));
    QCOMPARE(spy.at(0).at(1).value<Priority>(), Priority::Critical);
    const QModelIndex finished = model.index(2, RequestTableModel::Priority);
    QVERIFY(!(model.flags(finished) & Qt::ItemIsEditable));
    QVERIFY(!model.setData(finished, int(Priority::High), Qt::EditRole));
    QVERIFY(!model.setData(queued, 9, Qt::EditRole));
    QCOMPARE(spy.count(), 1);
}

void TestUiWidgets::deleteKeyCancelsSelectedActiveRows() {
    RequestTableModel model;
    model.applySnapshot(threeRequests());
    ui::RequestTableView view(&model);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy spy(&view, &ui::RequestTableView::cancelRequested);
    view.table()->selectAll();
    view.table()->setFocus();
    QTest::keyClick(view.table(), Qt::Key_Delete);
    QCOMPARE(spy.count(), 1);
    auto ids = spy.at(0).at(0).value<QList<engine::RequestId>>();
    std::sort(ids.begin(), ids.end());
    QCOMPARE(ids, (QList<engine::RequestId>{1, 2}));  // the finished one is not cancelled
    QSignalSpy prio(&view, &ui::RequestTableView::priorityChangeRequested);
    view.setPriorityOfSelected(Priority::Low);
    QCOMPARE(prio.count(), 1);  // #1 High -> Low; #2 is already Low; #3 finished
}

void TestUiWidgets::composerSubmitsWithOptions() {
    ui::PromptComposer composer;
    composer.show();
    QVERIFY(QTest::qWaitForWindowExposed(&composer));
    QSignalSpy spy(&composer, &ui::PromptComposer::submitRequested);
    composer.submit();
    QCOMPARE(spy.count(), 0);  // empty prompt is not submitted
    composer.setPrompt(QStringLiteral("Hello"));
    composer.editor()->setFocus();
    QTest::keyClick(composer.editor(), Qt::Key_Return, Qt::ControlModifier);
    QCOMPARE(spy.count(), 1);
    const auto s = spy.at(0).at(0).value<ui::PromptSubmission>();
    QCOMPARE(s.prompt, QStringLiteral("Hello"));
    QCOMPARE(s.options.maxTokens, 64);
    QCOMPARE(s.options.priority, Priority::Normal);
    QCOMPARE(s.count, 1);
}

void TestUiWidgets::composerBurstIsMixed() {
    const auto burst = ui::PromptComposer::burst(100);
    QCOMPARE(burst.size(), 100);
    QSet<int> priorities, lengths;
    for (const auto& s : burst) {
        priorities.insert(int(s.options.priority));
        lengths.insert(s.options.maxTokens);
        QVERIFY(!s.prompt.isEmpty());
        QVERIFY(!s.selectWhenVisible);
    }
    QCOMPARE(priorities.size(), 4);
    QVERIFY(lengths.size() >= 5);
}

void TestUiWidgets::outputPaneBatchesAndFinalTextWins() {
    ui::OutputPane pane;
    pane.setCurrentRequest(7);
    pane.appendTokens({{7, 1, 0, "Hel"}, {8, 1, 0, "other"}, {7, 2, 1, "lo"}, {7, 3, 2, ""}});
    QCOMPARE(pane.textOf(7), QStringLiteral("Hello"));
    QCOMPARE(pane.textOf(8), QStringLiteral("other"));
    QTRY_COMPARE(pane.shownText(), QStringLiteral("Hello"));  // via the batching timer
    pane.appendTokens({{7, 4, 3, " world STOP"}});
    engine::GenerationResult result;
    result.id = 7;
    result.text = "Hello world";
    result.finishReason = engine::FinishReason::StopString;
    pane.finishRequest(result);
    pane.flush();
    QCOMPARE(pane.shownText(), QStringLiteral("Hello world"));
    pane.setCurrentRequest(8);
    QCOMPARE(pane.shownText(), QStringLiteral("other"));
    pane.setMaxTexts(5);
    for (engine::RequestId id = 100; id < 120; ++id) pane.appendTokens({{id, 1, 0, "x"}});
    QVERIFY(pane.textOf(100).isEmpty());
    QCOMPARE(pane.textOf(119), QStringLiteral("x"));
    QCOMPARE(pane.textOf(8), QStringLiteral("other"));  // the shown one is kept
}

void TestUiWidgets::timelineSegmentsFollowEvents() {
    using K = engine::RequestEvent::Kind;
    std::vector<engine::RequestEvent> events = {
        {K::Queued, 0, 0},       {K::Scheduled, 10, 0},  {K::PrefillChunk, 10, 16},
        {K::PrefillChunk, 15, 16}, {K::FirstToken, 20, 0}, {K::Preempted, 40, 0},
        {K::Resumed, 50, 0},     {K::FirstToken, 55, 0}, {K::Finished, 70, 0}};
    const auto segs = ui::TimelineBar::buildSegments(events, 1000);
    using P = ui::TimelineBar::Phase;
    QCOMPARE(int(segs.size()), 6);
    QCOMPARE(segs[0].phase, P::Waiting);
    QCOMPARE(segs[1].phase, P::Prefill);
    QCOMPARE(segs[2].phase, P::Decode);
    QCOMPARE(segs[3].phase, P::Preempted);
    QCOMPARE(segs[4].phase, P::Prefill);
    QCOMPARE(segs[5].phase, P::Decode);
    QCOMPARE(segs.back().endMs, 70.0);  // finished: not extended to now
    events.pop_back();
    QCOMPARE(ui::TimelineBar::buildSegments(events, 1000).back().endMs, 1000.0);
}

QTEST_MAIN(TestUiWidgets)
#include "test_ui_widgets.moc"
