// Decoding of the WebSocket API's server messages ("batchscope.v1", docs/websocket-api.md)
// back into engine value types, for the remote Batchscope source. Pure functions; lenient
// about absent fields (older servers), never throws.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QJsonObject>
#include <optional>

#include "engine/metrics/scheduler_snapshot.h"
#include "engine/model/model_info.h"
#include "engine/scheduling/generation.h"
#include "ui/server_metrics.h"

namespace batchscope::app::remote {

std::optional<engine::RequestState> requestStateFromName(const QString& name);
std::optional<engine::FinishReason> finishReasonFromName(const QString& name);
std::optional<engine::WaitReason> waitReasonFromName(const QString& name);

engine::RequestSnapshot requestFromJson(const QJsonObject& o);
engine::StepRecord stepFromJson(const QJsonObject& o);
engine::ModelInfo modelFromJson(const QJsonObject& o);
/// `kv_blocks` (run-length encoded) -> one view per block; empty on a malformed event.
std::vector<engine::KvBlockView> blocksFromJson(const QJsonObject& o);
/// `done` -> the request's result.
engine::GenerationResult resultFromDone(const QJsonObject& o);
/// Fills the statistics of `out` (kv, requestStats, batchStats, errorStats, rates, queue)
/// from a `stats` / `metrics` message.
void applyStatsJson(const QJsonObject& o, engine::SchedulerSnapshot& out);
/// The Server metrics panel's figures from a `metrics` event (recent-window percentiles).
ui::ServerMetricsSample metricsSampleFromStats(const engine::SchedulerSnapshot& stats,
                                               double timeSeconds, double preemptionsPerSecond);

}  // namespace batchscope::app::remote
