// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/local_engine_source.h"

#include <QPointer>

#include "app/remote/remote_decode.h"

namespace batchscope::app::remote {

LocalEngineSource::LocalEngineSource(EngineBridge& bridge, QObject* parent)
    : ServerSource(parent), m_bridge(bridge) {
    connect(&bridge, &EngineBridge::snapshotUpdated, this, &ServerSource::snapshotUpdated);
    connect(&bridge, &EngineBridge::tokensGenerated, this, &ServerSource::tokensGenerated);
    connect(&bridge, &EngineBridge::requestFinished, this, &ServerSource::requestFinished);
    connect(&bridge, &EngineBridge::modelChanged, this, &ServerSource::modelChanged);
    connect(&bridge, &EngineBridge::snapshotUpdated, this, &LocalEngineSource::onSnapshot);
}

void LocalEngineSource::onSnapshot(const SnapshotPtr& snapshot) {
    if (!snapshot) return;
    if (snapshot->timeMs < m_lastMetricsMs) m_lastMetricsMs = -1e18;  // a new engine: its clock restarts
    if (snapshot->timeMs < m_lastMetricsMs + m_metricsIntervalMs) return;
    const std::int64_t preemptions = snapshot->batchStats.preemptions;
    double rate = 0;
    if (m_lastMetricsMs > -1e17 && snapshot->timeMs > m_lastMetricsMs)
        rate = double(std::max<std::int64_t>(0, preemptions - m_lastPreemptions)) * 1000.0 /
               (snapshot->timeMs - m_lastMetricsMs);
    m_lastMetricsMs = snapshot->timeMs;
    m_lastPreemptions = preemptions;
    emit serverMetrics(metricsSampleFromStats(*snapshot, snapshot->timeMs / 1000.0, rate));
}

void LocalEngineSource::start() { setState(ConnectionState::Local, tr("Local engine")); }

void LocalEngineSource::stop() { setState(ConnectionState::Stopped, tr("Stopped")); }

void LocalEngineSource::submit(const QString& prompt, const engine::GenerationOptions& options, int count) {
    QPointer<LocalEngineSource> self(this);
    const bool started = m_bridge.submitAsync(prompt, options, std::max(1, count),
                                              [self](const QList<engine::RequestId>& ids, const QString& error) {
                                                  if (self) emit self->submitted(ids, error);
                                              });
    if (!started)
        emit submitted({}, m_bridge.isSwitching() ? tr("the model is being switched; submit again when it is loaded")
                                                  : tr("no model is loaded"));
}

void LocalEngineSource::cancel(engine::RequestId id) {
    if (!m_bridge.cancel(id)) emit notice(tr("Request #%1 is no longer waiting or running").arg(id));
}

void LocalEngineSource::setPriority(engine::RequestId id, engine::Priority priority) {
    if (!m_bridge.setPriority(id, priority)) emit notice(tr("Request #%1 is no longer waiting or running").arg(id));
}

}  // namespace batchscope::app::remote
