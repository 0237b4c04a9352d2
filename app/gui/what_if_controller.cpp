// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/gui/what_if_controller.h"

#include <QMetaObject>
#include <QPointer>
#include <QThreadPool>
#include <functional>
#include <mutex>

#include "engine/trace/replay_bench.h"

namespace batchscope::app {

/// What the worker may reach: the controller, while it lives (cleared by its destructor).
struct WhatIfController::Shared {
    std::mutex mutex;
    QPointer<WhatIfController> controller;
};

WhatIfController::WhatIfController(QString tracePath, ui::WhatIfPanel& panel, QObject* parent)
    : QObject(parent), m_path(std::move(tracePath)), m_panel(panel), m_shared(std::make_shared<Shared>()) {
    m_shared->controller = this;
    connect(&panel, &ui::WhatIfPanel::runRequested, this, [this](const QStringList& v) { run(v); });
}

WhatIfController::~WhatIfController() {
    std::lock_guard lock(m_shared->mutex);
    m_shared->controller = nullptr;
}

bool WhatIfController::run(const QStringList& variants) {
    if (m_running) return false;
    m_running = true;
    m_panel.setRunning(true);
    std::vector<std::string> sets;
    for (const QString& v : variants) sets.push_back(v.toStdString());
    QThreadPool::globalInstance()->start([path = m_path.toStdString(), sets, shared = m_shared] {
        // Posts `fn` to the controller's (GUI) thread while the controller exists.
        const auto post = [&shared](std::function<void(WhatIfController&)> fn) {
            std::lock_guard lock(shared->mutex);
            if (WhatIfController* c = shared->controller)
                QMetaObject::invokeMethod(c, [c, fn = std::move(fn)] { fn(*c); }, Qt::QueuedConnection);
        };
        auto report = engine::replayTraceWithSettings(path, sets, {}, [&](int done, int total, const std::string& name) {
            post([done, total, n = QString::fromStdString(name)](WhatIfController& c) {
                c.m_panel.setProgress(done, total, n);
            });
        });
        auto result = std::make_shared<engine::Result<engine::ReplayReport>>(std::move(report));
        post([result](WhatIfController& c) { c.onDone(std::move(*result)); });
    });
    return true;
}

void WhatIfController::onDone(engine::Result<engine::ReplayReport> report) {
    m_running = false;
    m_panel.setRunning(false);
    if (!report) {
        m_report.reset();
        const QString error = QString::fromStdString(report.error().message);
        m_panel.setError(error);
        emit finished(false, error);
        return;
    }
    m_report = std::move(report.value());
    const engine::StepCostModel& cost = m_report->cost;
    m_panel.setResults(runsOf(*m_report),
                       tr("%1 requests replayed (%2 unfinished in the trace left out); step-cost model fit: "
                          "R² %3, MAPE %4 %")
                           .arg(m_report->requests).arg(m_report->leftOut)
                           .arg(cost.r2(), 0, 'f', 3).arg(cost.mape(), 0, 'f', 1));
    emit finished(true, QString());
}

QList<ui::WhatIfRun> WhatIfController::runsOf(const engine::ReplayReport& report) {
    QList<ui::WhatIfRun> runs;
    for (const engine::ReplayColumn& c : report.columns) {
        const engine::RunSummary& s = c.summary;
        ui::WhatIfRun r;
        r.name = QString::fromStdString(c.name);
        r.figures = {s.ttft.p50, s.ttft.p90, s.ttft.p99, s.tpot.p50, s.tpot.p90, s.tpot.p99,
                     s.endToEnd.p50, s.endToEnd.p90, s.endToEnd.p99, s.queue.p50, s.queue.p90, s.queue.p99,
                     s.generatedTokensPerSecond, s.requestsPerSecond, double(s.preemptions),
                     100.0 * s.prefixHitRate, double(s.completed)};
        for (const engine::RequestOutcome& o : c.outcomes) {
            if (o.firstTokenMs >= 0 && o.outputTokens > 0) r.ttftMs << o.firstTokenMs - o.arrivalMs;
            const bool failed = o.finishReason == engine::FinishReason::Cancelled ||
                                o.finishReason == engine::FinishReason::Error ||
                                o.finishReason == engine::FinishReason::Timeout;
            if (o.finishMs >= 0 && !failed) r.endToEndMs << o.finishMs - o.arrivalMs;
        }
        runs << r;
    }
    return runs;
}

}  // namespace batchscope::app
