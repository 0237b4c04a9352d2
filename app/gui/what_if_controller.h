// Runs what-if replays of a trace for the what-if panel, off the GUI thread.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QList>
#include <QObject>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>

#include "engine/trace/replay_report.h"
#include "ui/what_if_panel.h"

namespace batchscope::app {

/// GUI thread only. run() hands the trace and the variants to engine::replayTraceWithSettings
/// (the function `batchscope replay` calls) on a QThreadPool thread; progress and the report
/// come back through queued invocations, guarded so that a closed panel is never touched.
/// One run at a time.
class WhatIfController : public QObject {
    Q_OBJECT
public:
    WhatIfController(QString tracePath, ui::WhatIfPanel& panel, QObject* parent = nullptr);
    ~WhatIfController() override;

    /// False (and nothing starts) while a run is in progress.
    bool run(const QStringList& variants);
    bool isRunning() const { return m_running; }
    /// The last report (empty before the first run, or after a failed one).
    const std::optional<engine::ReplayReport>& lastReport() const { return m_report; }
    /// The panel's rows of a report, in its column order (recorded, replay, variants).
    static QList<ui::WhatIfRun> runsOf(const engine::ReplayReport& report);

signals:
    /// After the panel shows the results (ok) or the error.
    void finished(bool ok, const QString& error);

private:
    struct Shared;
    void onDone(engine::Result<engine::ReplayReport> report);

    QString m_path;
    ui::WhatIfPanel& m_panel;
    bool m_running = false;
    std::optional<engine::ReplayReport> m_report;
    std::shared_ptr<Shared> m_shared;   // outlives this while a job runs
};

}  // namespace batchscope::app
