// The real window driven by the engine with the simulated executor (through the bridge and
// the GUI controller, exactly as runGui wires them).
// SPDX-License-Identifier: GPL-3.0-or-later
#include <QDir>
#include <QElapsedTimer>
#include <QPlainTextEdit>
#include <QProgressDialog>
#include <QPushButton>
#include <QFile>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "app/bridge/engine_bridge.h"
#include "app/gui/gui_controller.h"
#include "engine/metrics/percentile.h"
#include "engine/runtime/executor_factory.h"
#include "ui/main_window.h"
#include "ui/model_panel.h"
#include "ui/output_pane.h"
#include "ui/request_filter_proxy.h"
#include "ui/request_table_model.h"
#include "ui/request_table_view.h"
#include "ui/scheduler_controls.h"
#include "ui/time_series_chart.h"

using namespace batchscope;
using engine::Priority;
using engine::RequestId;
using engine::RequestState;
using ui::RequestTableModel;

class TestGuiEngine : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void cleanupTestCase();
    void submitGoesQueuedToFinishedWithText();
    void prioritiesDecideOrder();
    void cancelRunningFromTable();
    void changeQueuedPriorityInTable();
    void malformedModelKeepsOldModelServing();
    void cancellingALoadFromTheProgressDialogKeepsOldModel();
    void executorDefaultsApplyToLoadsFromTheWindow();
    void reloadingModelReplacesEngineAndViews();
    void eventLoopStaysResponsiveWith256Requests();
    void switchingModelUnder256RequestsKeepsEventLoopLive();
    void screenshotUnderLoad();
    void cleanShutdownWhileRequestsRun();

private:
    ui::PromptSubmission submission(const QString& prompt, int maxTokens,
                                    Priority priority = Priority::Normal) const;
    RequestId submitOne(const QString& prompt, int maxTokens, Priority priority = Priority::Normal);
    static QList<RequestId> submitAndWait(app::GuiController& controller, const ui::PromptSubmission& s);
    RequestState stateOf(RequestId id) const;
    void setPaused(bool paused);
    void applySettings(const std::function<void(engine::SchedulerSettings&)>& change);
    void cancelAllActive();

    QTemporaryDir m_settingsDir;
    std::unique_ptr<app::EngineBridge> m_bridge;
    std::unique_ptr<ui::MainWindow> m_window;
    std::unique_ptr<app::GuiController> m_controller;
};

void TestGuiEngine::initTestCase() {
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
    QCoreApplication::setOrganizationName(QStringLiteral("batchscope-tests"));
    m_bridge = std::make_unique<app::EngineBridge>();
    m_window = std::make_unique<ui::MainWindow>();
    m_controller = std::make_unique<app::GuiController>(*m_bridge, *m_window);
    m_controller->setInteractive(false);
    m_window->resize(1600, 1000);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QSignalSpy loaded(m_controller.get(), &app::GuiController::modelLoaded);
    QVERIFY(m_controller->loadModel(QStringLiteral("simulated")));
    QVERIFY(loaded.wait(10000));
    QVERIFY(m_bridge->hasEngine());
    QCOMPARE(m_window->modelPanel()->valueOf(QStringLiteral("Architecture")),
             QStringLiteral("simulated"));
}

void TestGuiEngine::init() {
    engine::SchedulerSettings defaults;
    m_window->schedulerControls()->setSettings(defaults);
    m_bridge->applySettings(defaults);
}

void TestGuiEngine::cleanup() { cancelAllActive(); }

void TestGuiEngine::cleanupTestCase() {
    m_controller.reset();
    m_window.reset();
    m_bridge.reset();
}

ui::PromptSubmission TestGuiEngine::submission(const QString& prompt, int maxTokens,
                                               Priority priority) const {
    ui::PromptSubmission s;
    s.prompt = prompt;
    s.options.maxTokens = maxTokens;
    s.options.priority = priority;
    s.options.ignoreEos = true;
    return s;
}

// The controller tokenizes and queues on the bridge's worker; its submitted() signal reports
// the ids back on the GUI thread.
QList<RequestId> TestGuiEngine::submitAndWait(app::GuiController& controller,
                                              const ui::PromptSubmission& s) {
    QSignalSpy spy(&controller, &app::GuiController::submitted);
    if (!controller.submit(s) || !spy.wait(10000)) return {};
    return spy.at(0).at(0).value<QList<RequestId>>();
}

RequestId TestGuiEngine::submitOne(const QString& prompt, int maxTokens, Priority priority) {
    const auto ids = submitAndWait(*m_controller, submission(prompt, maxTokens, priority));
    return ids.size() == 1 ? ids.front() : engine::kInvalidRequestId;
}

RequestState TestGuiEngine::stateOf(RequestId id) const {
    const auto* r = m_window->requestModel()->request(id);
    return r ? r->state : RequestState::Queued;
}

void TestGuiEngine::applySettings(const std::function<void(engine::SchedulerSettings&)>& change) {
    // Through the controls, as a user would: settingsChanged reaches the bridge.
    engine::SchedulerSettings s = m_window->schedulerSettings();
    change(s);
    m_window->schedulerControls()->setSettings(s);
    emit m_window->schedulerControls()->settingsChanged(s);
}

void TestGuiEngine::setPaused(bool paused) {
    if (m_window->schedulerSettings().paused != paused)
        m_window->schedulerControls()->pauseButton()->click();
    QCOMPARE(m_window->schedulerSettings().paused, paused);
}

void TestGuiEngine::cancelAllActive() {
    if (!m_bridge || !m_bridge->hasEngine()) return;
    const auto snap = m_bridge->engine()->snapshot();
    for (const auto& r : snap.requests) m_bridge->cancel(r.id);
    setPaused(false);
    QTRY_VERIFY_WITH_TIMEOUT(m_bridge->engine()->snapshot().runningCount == 0 &&
                                 m_bridge->engine()->snapshot().queueDepth == 0, 10000);
}

void TestGuiEngine::submitGoesQueuedToFinishedWithText() {
    setPaused(true);
    m_window->composer()->setPrompt(QStringLiteral("Hello from the test"));
    QSignalSpy submitted(m_window.get(), &ui::MainWindow::submitRequested);
    m_window->activateWindow();
    m_window->composer()->editor()->setFocus();
    QTest::keyClick(m_window->composer()->editor(), Qt::Key_Return, Qt::ControlModifier);
    QCOMPARE(submitted.count(), 1);  // Ctrl+Enter in the real window (no ambiguous shortcut)
    const auto snapshot = [this] { return m_bridge->latestSnapshot(); };
    QTRY_VERIFY_WITH_TIMEOUT(m_window->requestModel()->rowCount() > 0, 5000);
    const RequestId id = m_window->requestModel()->requestAt(
        m_window->requestModel()->rowCount() - 1).id;
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(id), RequestState::Queued, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->outputPane()->currentRequest(), id, 5000);  // auto-selected
    QVERIFY(snapshot());
    setPaused(false);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(id), RequestState::Finished, 10000);
    const QString text = m_window->outputPane()->textOf(id);
    QVERIFY(!text.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(m_window->outputPane()->shownText(), text, 2000);
    const QModelIndex gen = m_window->requestModel()->index(
        m_window->requestModel()->rowOf(id), RequestTableModel::GeneratedTokens);
    QCOMPARE(gen.data().toString(), QStringLiteral("64 / 64"));
}

void TestGuiEngine::prioritiesDecideOrder() {
    applySettings([](engine::SchedulerSettings& s) {
        s.maxBatchSize = 1;
        s.agingIntervalMs = 0;
        s.queuePolicy = engine::QueuePolicy::Priority;
    });
    setPaused(true);
    QList<RequestId> finishedOrder;
    auto connection = connect(m_bridge.get(), &app::EngineBridge::requestFinished, this,
                              [&](const engine::GenerationResult& r) { finishedOrder << r.id; });
    const RequestId low = submitOne(QStringLiteral("low"), 4, Priority::Low);
    const RequestId normal = submitOne(QStringLiteral("normal"), 4, Priority::Normal);
    const RequestId high = submitOne(QStringLiteral("high"), 4, Priority::High);
    const RequestId critical = submitOne(QStringLiteral("critical"), 4, Priority::Critical);
    QVERIFY(low && normal && high && critical);
    setPaused(false);
    QTRY_COMPARE_WITH_TIMEOUT(finishedOrder.size(), 4, 10000);
    disconnect(connection);
    QCOMPARE(finishedOrder, (QList<RequestId>{critical, high, normal, low}));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(low), RequestState::Finished, 5000);
}

void TestGuiEngine::cancelRunningFromTable() {
    const RequestId id = submitOne(QStringLiteral("a long story"), 4000);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(id), RequestState::Decoding, 5000);
    const auto kvUsed = [this] {
        const auto& b = m_window->kvChart()->buffer();
        return b.size() ? b.series(0).back() : -1.0;
    };
    QTRY_VERIFY_WITH_TIMEOUT(kvUsed() > 0, 5000);
    m_window->requestView()->selectRequest(id);
    m_window->requestView()->table()->setFocus();
    QTest::keyClick(m_window->requestView()->table(), Qt::Key_Delete);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(id), RequestState::Cancelled, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(kvUsed(), 0.0, 5000);
    const auto* r = m_window->requestModel()->request(id);
    QCOMPARE(r->finishReason, engine::FinishReason::Cancelled);
    QVERIFY(r->generatedTokens < 4000);
}

void TestGuiEngine::changeQueuedPriorityInTable() {
    setPaused(true);
    const RequestId a = submitOne(QStringLiteral("first"), 8, Priority::Low);
    const RequestId b = submitOne(QStringLiteral("second"), 8, Priority::Low);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->requestModel()->rowOf(b) >= 0, 5000);
    // Edit the priority cell in place, as the delegate does.
    RequestTableModel* model = m_window->requestModel();
    QVERIFY(model->setData(model->index(model->rowOf(b), RequestTableModel::Priority),
                           int(Priority::Critical), Qt::EditRole));
    const auto engineSees = [this, b] {
        for (const auto& r : m_bridge->engine()->snapshot().requests)
            if (r.id == b) return r.priority;
        return Priority::Low;
    };
    QTRY_COMPARE_WITH_TIMEOUT(engineSees(), Priority::Critical, 5000);
    QList<RequestId> order;
    auto connection = connect(m_bridge.get(), &app::EngineBridge::requestFinished, this,
                              [&](const engine::GenerationResult& r) { order << r.id; });
    applySettings([](engine::SchedulerSettings& s) { s.maxBatchSize = 1; s.agingIntervalMs = 0; });
    setPaused(false);
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), 2, 10000);
    disconnect(connection);
    QCOMPARE(order, (QList<RequestId>{b, a}));
    QTRY_COMPARE_WITH_TIMEOUT(model->request(b)->priority, Priority::Critical, 5000);
}

void TestGuiEngine::malformedModelKeepsOldModelServing() {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("broken.gguf"));
    {
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("GGUF\x03\x00\x00\x00 this is not a model", 28);
    }
    engine::Engine* before = m_bridge->engine();
    QSignalSpy failed(m_controller.get(), &app::GuiController::modelLoadFailed);
    QVERIFY(m_controller->loadModel(path));
    QVERIFY(failed.wait(10000));
    const QString error = failed.at(0).at(0).toString();
    QVERIFY2(error.contains(QStringLiteral("broken.gguf")), qPrintable(error));
    QCOMPARE(m_controller->lastError(), error);
    QVERIFY(m_window->statusBar()->currentMessage().contains(QStringLiteral("broken.gguf")));
    QCOMPARE(m_bridge->engine(), before);  // the old model keeps serving
    QCOMPARE(m_window->modelPanel()->valueOf(QStringLiteral("Architecture")),
             QStringLiteral("simulated"));
    const RequestId id = submitOne(QStringLiteral("still alive?"), 8);
    QVERIFY(id != engine::kInvalidRequestId);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(id), RequestState::Finished, 10000);
}

void TestGuiEngine::cancellingALoadFromTheProgressDialogKeepsOldModel() {
    // A device loader that reports progress, then blocks until its stop token fires: the load
    // is still running when the user presses Cancel, whatever the machine's speed. (It uses the
    // device-loader hook that the CUDA backend registers in the real app.)
    std::atomic<bool> sawStop{false};
    engine::registerCudaExecutorFactory(
        [&sawStop](const engine::ExecutorOptions&, const engine::LoadProgress& progress,
                   std::stop_token stop) -> engine::Result<std::unique_ptr<engine::ModelExecutor>> {
            if (progress) progress(0.25, "weights");
            while (!stop.stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
            sawStop = true;
            return engine::makeError(engine::ErrorCode::Cancelled, "model load cancelled");
        });
    // Undone however the test ends (a failed QVERIFY returns early); a still-blocked worker is
    // cancelled and joined by the loader's destructor.
    struct Restore {
        app::GuiController& controller;
        ~Restore() {
            engine::registerCudaExecutorFactory({});
            controller.setInteractive(false);
        }
    } restore{*m_controller};
    engine::Engine* before = m_bridge->engine();
    m_controller->setInteractive(true);
    QSignalSpy failed(m_controller.get(), &app::GuiController::modelLoadFailed);
    QVERIFY(m_controller->loadModel(QStringLiteral("/models/slow.gguf")));
    QVERIFY(m_controller->isLoading());
    auto* dialog = m_window->findChild<QProgressDialog*>();
    QVERIFY(dialog);
    QTRY_VERIFY_WITH_TIMEOUT(dialog->value() == 250, 5000);  // the loader's progress arrived
    QVERIFY(dialog->labelText().contains(QStringLiteral("weights")));
    auto* cancel = dialog->findChild<QPushButton*>();
    QVERIFY(cancel);
    cancel->click();
    QVERIFY(failed.wait(10000));
    QVERIFY(sawStop);
    QVERIFY(!m_controller->isLoading());
    QCOMPARE(m_bridge->engine(), before);
    QVERIFY2(m_window->statusBar()->currentMessage().contains(QStringLiteral("previous model keeps serving")),
             qPrintable(m_window->statusBar()->currentMessage()));
    QTRY_VERIFY_WITH_TIMEOUT(m_window->findChild<QProgressDialog*>() == nullptr, 5000);
    const RequestId id = submitOne(QStringLiteral("still serving after a cancelled load"), 4);
    QVERIFY(id != engine::kInvalidRequestId);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(id), RequestState::Finished, 10000);
}

void TestGuiEngine::executorDefaultsApplyToLoadsFromTheWindow() {
    // `batchscope gui --kv-type f32 --threads 1` hands these to the controller; the demo model
    // (F16 weights) would get an F16 KV cache under auto.
    QSignalSpy loaded(m_controller.get(), &app::GuiController::modelLoaded);
    engine::ExecutorOptions defaults;
    defaults.device = engine::DeviceKind::Cpu;
    defaults.threads = 1;
    defaults.kvCache = engine::KvCacheType::F32;
    m_controller->setExecutorDefaults(defaults);
    QVERIFY(m_controller->loadModel(QString()));  // the demo model
    QVERIFY(loaded.wait(20000));
    QVERIFY2(m_window->modelPanel()->valueOf(QStringLiteral("KV cache")).endsWith(QStringLiteral("(F32)")),
             qPrintable(m_window->modelPanel()->valueOf(QStringLiteral("KV cache"))));
    m_controller->setExecutorDefaults(engine::ExecutorOptions{});
    QVERIFY(m_controller->loadModel(QString()));
    QVERIFY(loaded.wait(20000));
    QVERIFY2(m_window->modelPanel()->valueOf(QStringLiteral("KV cache")).endsWith(QStringLiteral("(F16)")),
             qPrintable(m_window->modelPanel()->valueOf(QStringLiteral("KV cache"))));
    QVERIFY(m_controller->loadModel(QStringLiteral("simulated")));  // what the other tests use
    QVERIFY(loaded.wait(10000));
}

void TestGuiEngine::reloadingModelReplacesEngineAndViews() {
    const RequestId old = submitOne(QStringLiteral("before the reload"), 4);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(old), RequestState::Finished, 10000);
    engine::Engine* before = m_bridge->engine();
    QSignalSpy loaded(m_controller.get(), &app::GuiController::modelLoaded);
    QVERIFY(m_controller->loadModel(QStringLiteral("simulated")));
    QVERIFY(loaded.wait(10000));
    QVERIFY(m_bridge->engine() != before);
    QCOMPARE(m_window->requestModel()->rowCount(), 0);
    // The new engine numbers its requests from 1 again; the table must show them.
    const RequestId fresh = submitOne(QStringLiteral("after the reload"), 4);
    QCOMPARE(fresh, RequestId(1));
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(fresh), RequestState::Finished, 10000);
    QCOMPARE(m_window->requestModel()->request(fresh)->promptPreview,
             std::string("after the reload"));
}

void TestGuiEngine::eventLoopStaysResponsiveWith256Requests() {
    applySettings([](engine::SchedulerSettings& s) { s.maxBatchSize = 64; s.tokenBudget = 1024; });
    for (int i = 0; i < 256; ++i) {
        const RequestId id = submitOne(QStringLiteral("load %1").arg(i), 10000,
                                       static_cast<Priority>(i % 4));
        QVERIFY(id != engine::kInvalidRequestId);
    }
    QTRY_VERIFY_WITH_TIMEOUT(m_window->requestModel()->rowCount() >= 256, 5000);
    // A 10 ms probe timer: how late does it fire while the GUI digests snapshots?
    std::vector<double> lateness;
    QElapsedTimer clock;
    clock.start();
    qint64 expected = clock.elapsed() + 10;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    connect(&probe, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        lateness.push_back(double(std::max<qint64>(0, now - expected)));
        expected = now + 10;
    });
    probe.start(10);
    QTest::qWait(3000);
    probe.stop();
    const auto snap = m_bridge->engine()->snapshot();
    const auto active = std::count_if(snap.requests.begin(), snap.requests.end(),
                                      [](const auto& r) { return !engine::isTerminal(r.state); });
    QCOMPARE(int(active), 256);  // all still active (running, queued or preempted) while measured
    QVERIFY(lateness.size() > 20);
    std::sort(lateness.begin(), lateness.end());
    const double p99 = engine::percentileOfSorted(lateness, 99);
    qInfo("event-loop lateness with 256 active requests: p50 %.1f ms, p99 %.1f ms, max %.1f ms "
          "(%zu probes)", engine::percentileOfSorted(lateness, 50), p99, lateness.back(), lateness.size());
    // The bound is generous, as in the model-switch test below: a GUI thread that digested
    // snapshots per token would sit at seconds; 161 ms was seen at load average 20 on 2 cores.
    QVERIFY2(p99 < 250.0, qPrintable(QStringLiteral("p99 %1 ms").arg(p99)));
}

void TestGuiEngine::switchingModelUnder256RequestsKeepsEventLoopLive() {
    // The old engine is stopped (256 requests cancelled, its loop joined) and destroyed on the
    // bridge's worker, the new one loads on the loader's thread: the GUI thread only digests
    // the results. A 5 ms probe timer records how late it fires from 200 ms before the switch
    // until 300 ms after it completed (the bound is generous for a loaded 2-core machine).
    applySettings([](engine::SchedulerSettings& s) { s.maxBatchSize = 64; s.tokenBudget = 1024; });
    for (int i = 0; i < 256; ++i)
        QVERIFY(submitOne(QStringLiteral("switch load %1").arg(i), 10000, static_cast<Priority>(i % 4)));
    QTRY_VERIFY_WITH_TIMEOUT(m_bridge->engine()->snapshot().runningCount > 0, 5000);
    engine::Engine* before = m_bridge->engine();
    bool sawSwitching = false;
    auto watch = connect(m_bridge.get(), &app::EngineBridge::switchingChanged, this, [&](bool on) {
        if (on) sawSwitching = m_window->isModelSwitching() ||
                               m_window->windowTitle().contains(QStringLiteral("switching"));
    });
    std::vector<double> lateness;
    QElapsedTimer clock;
    clock.start();
    qint64 expected = clock.elapsed() + 5;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    connect(&probe, &QTimer::timeout, this, [&] {
        const qint64 now = clock.elapsed();
        lateness.push_back(double(std::max<qint64>(0, now - expected)));
        expected = now + 5;
    });
    probe.start(5);
    QTest::qWait(200);
    QSignalSpy loaded(m_controller.get(), &app::GuiController::modelLoaded);
    QElapsedTimer switchClock;
    switchClock.start();
    QVERIFY(m_controller->loadModel(QStringLiteral("simulated")));
    QVERIFY(loaded.wait(30000));
    const qint64 switchMs = switchClock.elapsed();
    QTest::qWait(300);
    probe.stop();
    disconnect(watch);
    // The switch completed: a new engine serves, the views started afresh, nothing says switching.
    QVERIFY(sawSwitching);
    QVERIFY(m_bridge->engine() != before);
    QVERIFY(!m_bridge->isSwitching());
    QVERIFY(!m_window->isModelSwitching());
    QVERIFY(m_window->composer()->isEnabled());
    QCOMPARE(m_window->requestModel()->rowCount(), 0);
    QVERIFY(lateness.size() > 20);
    std::sort(lateness.begin(), lateness.end());
    const double p99 = lateness[size_t(double(lateness.size() - 1) * 0.99)];
    qInfo("event-loop lateness while switching models under 256 requests (switch took %lld ms): "
          "p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu probes at 5 ms)",
          static_cast<long long>(switchMs), lateness[lateness.size() / 2], p99, lateness.back(),
          lateness.size());
    // The goal is p99 <= 50 ms (measured 20 ms at load 17). The assertion is generous, 250 ms:
    // with ctest -j2 next to a sanitizer build the same code measured 62 ms, and a bound that a
    // loaded machine can break would make CI fail at random. It still catches a switch that
    // blocks the GUI thread for the whole stop-and-load.
    QVERIFY2(p99 <= 250.0, qPrintable(QStringLiteral("p99 %1 ms").arg(p99)));
    const RequestId fresh = submitOne(QStringLiteral("after the switch"), 4);
    QVERIFY(fresh != engine::kInvalidRequestId);
    QTRY_COMPARE_WITH_TIMEOUT(stateOf(fresh), RequestState::Finished, 10000);
}

void TestGuiEngine::screenshotUnderLoad() {
    m_window->composer()->setPrompt(QStringLiteral("Explain continuous batching in LLM serving."));
    m_window->composer()->submitBurst();
    // Long requests keep the scheduler busy while the picture is taken.
    for (int i = 0; i < 48; ++i)
        submitOne(QStringLiteral("Write a long story about request %1.").arg(i), 1200 + 40 * i,
                  static_cast<Priority>(i % 4));
    const RequestId watched = submitOne(
        QStringLiteral("Once upon a time, in a small village by the sea,"), 3000, Priority::High);
    QTRY_VERIFY_WITH_TIMEOUT(m_window->requestModel()->rowOf(watched) >= 0, 5000);
    QTest::qWait(2000);
    m_window->requestView()->selectRequest(watched);
    QTest::qWait(300);
    m_window->replotAll();
    const QImage image = m_window->grab().toImage();
    QVERIFY(!image.isNull());
    const QString out = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("main_window.png"));
    QVERIFY(image.save(out));
    qInfo("screenshot: %s", qPrintable(out));
    if (qEnvironmentVariable("BATCHSCOPE_UPDATE_SCREENSHOT") == QLatin1String("1")) {
        const QString docs = QStringLiteral(BATCHSCOPE_SOURCE_DIR) + QStringLiteral("/docs/screenshot.png");
        QFile::remove(docs);
        QVERIFY(QFile::copy(out, docs));
    }
}

void TestGuiEngine::cleanShutdownWhileRequestsRun() {
    auto bridge = std::make_unique<app::EngineBridge>();
    auto window = std::make_unique<ui::MainWindow>();
    auto controller = std::make_unique<app::GuiController>(*bridge, *window);
    controller->setInteractive(false);
    window->show();
    QSignalSpy loaded(controller.get(), &app::GuiController::modelLoaded);
    QVERIFY(controller->loadModel(QStringLiteral("simulated")));
    QVERIFY(loaded.wait(10000));
    int finished = 0;
    connect(bridge.get(), &app::EngineBridge::requestFinished, this,
            [&](const engine::GenerationResult& r) {
                QCOMPARE(r.finishReason, engine::FinishReason::Cancelled);
                ++finished;
            });
    for (int i = 0; i < 40; ++i) QVERIFY(submitAndWait(*controller, submission(QStringLiteral("x"), 10000)).size() == 1);
    QTRY_VERIFY_WITH_TIMEOUT(window->requestModel()->rowCount() == 40, 5000);
    // A load in flight at shutdown must be cancelled and joined too.
    QVERIFY(controller->loadModel(QStringLiteral("simulated")));
    QElapsedTimer t;
    t.start();
    controller.reset();
    window.reset();
    bridge.reset();  // stops the engine: every request finishes as cancelled
    QCOMPARE(finished, 40);
    QVERIFY2(t.elapsed() < 5000, "shutdown took too long");
}

QTEST_MAIN(TestGuiEngine)
#include "test_gui_engine.moc"
