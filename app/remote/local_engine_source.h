// The in-process engine as a ServerSource: EngineBridge's signals and calls behind the same
// interface the remote sources implement, so one SourceController can feed a window from either.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include "app/bridge/engine_bridge.h"
#include "app/remote/server_source.h"

namespace batchscope::app::remote {

/// GUI thread only. Does not own the bridge. Every panel can be fed; settings can be changed.
/// The bridge already delivers on the GUI thread (queued from the engine thread, batched), so
/// the forwarding connections are direct. serverMetrics() is derived from the snapshots at
/// most once per metricsIntervalMs() (as a remote server's are scraped), for Compare.
class LocalEngineSource : public ServerSource {
    Q_OBJECT
public:
    explicit LocalEngineSource(EngineBridge& bridge, QObject* parent = nullptr);

    QString displayName() const override { return tr("Local engine"); }
    QString kindName() const override { return QStringLiteral("local"); }
    QList<std::pair<SourcePanel, QString>> unavailablePanels() const override { return {}; }
    bool canChangeSettings() const override { return true; }

    void start() override;
    void stop() override;
    void submit(const QString& prompt, const engine::GenerationOptions& options, int count) override;
    void cancel(engine::RequestId id) override;
    void setPriority(engine::RequestId id, engine::Priority priority) override;
    void applySettings(const engine::SchedulerSettings& settings) override { m_bridge.applySettings(settings); }
    void resetStatistics() override { m_bridge.resetStatistics(); }

    void setMetricsIntervalMs(int ms) { m_metricsIntervalMs = ms; }
    int metricsIntervalMs() const { return m_metricsIntervalMs; }

private:
    void onSnapshot(const SnapshotPtr& snapshot);

    EngineBridge& m_bridge;
    int m_metricsIntervalMs = 1000;
    double m_lastMetricsMs = -1e18;
    std::int64_t m_lastPreemptions = 0;
};

}  // namespace batchscope::app::remote
