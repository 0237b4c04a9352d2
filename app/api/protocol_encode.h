// Server -> client messages of the "batchscope.v1" protocol, built from engine value types.
// Pure functions; the JSON shapes are documented in docs/websocket-api.md.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <functional>
#include <vector>

#include "app/api/protocol.h"
#include "engine/metrics/scheduler_snapshot.h"
#include "engine/model/model_info.h"
#include "engine/scheduling/generation.h"

namespace batchscope::app::api {

/// Server facts the `welcome` reply announces.
struct ServerInfo {
    QString version;
    QString modelName;
    std::int32_t contextLength = 0;
    qint64 maxMessageBytes = 0;
    int maxRequestsPerConnection = 0;
    double ratePerSecond = 0;
    double burst = 0;
};

/// One request's state change between two snapshots (topic `requests`).
struct RequestChange {
    engine::RequestId id = engine::kInvalidRequestId;
    engine::RequestState state = engine::RequestState::Queued;
    std::optional<engine::RequestState> previous;  ///< nullopt: first seen
    engine::Priority priority = engine::Priority::Normal;
    engine::WaitReason waitReason = engine::WaitReason::None;
    engine::FinishReason finishReason = engine::FinishReason::None;
};

/// Compact JSON text of one frame.
QString toFrame(const QJsonObject& message);

QJsonObject makeError(const QJsonValue& id, ApiErrorCode code, const QString& message);
QJsonObject makeWelcome(const QJsonValue& id, const ServerInfo& info);
QJsonObject makeAccepted(const QJsonValue& id, engine::RequestId requestId, int queuePosition);
QJsonObject makeToken(const QJsonValue& id, const engine::TokenEvent& event);
QJsonObject makeDone(const QJsonValue& id, const engine::GenerationResult& result);
QJsonObject makeCancelOk(const QJsonValue& id, engine::RequestId requestId);
QJsonObject makePrioritySet(const QJsonValue& id, engine::RequestId requestId,
                            engine::Priority priority);
QJsonObject makePong(const QJsonValue& id);
QJsonObject makeSubscribed(const QJsonValue& id, int topics, int intervalMs, bool subscribed);
QJsonObject makeModel(const QJsonValue& id, const engine::ModelInfo& info);
/// `requests` reply; isOwn tells which requests belong to the asking connection.
QJsonObject makeRequestList(const QJsonValue& id, const engine::SchedulerSnapshot& snapshot,
                            const std::function<bool(engine::RequestId)>& isOwn);
QJsonObject makeStats(const QJsonValue& id, const engine::SchedulerSnapshot& snapshot);

// Telemetry events (no id).
QJsonObject makeStepsEvent(const std::vector<engine::StepRecord>& steps);
QJsonObject makeRequestChangesEvent(double timeMs, const std::vector<RequestChange>& changes);
QJsonObject makeMetricsEvent(const engine::SchedulerSnapshot& snapshot);
/// `kv_blocks`: the block map, run-length encoded as [state, owner, ref_count, count] runs
/// (state 0 free, 1 cached, 2 owned; owner 0 when not owned).
QJsonObject makeKvBlocksEvent(const engine::SchedulerSnapshot& snapshot);
/// Whether two block maps are equal (the server sends `kv_blocks` only when it changed).
bool sameBlocks(const std::vector<engine::KvBlockView>& a, const std::vector<engine::KvBlockView>& b);

/// State changes from `before` (may be null) to `after`, in `after`'s request order.
std::vector<RequestChange> diffRequestStates(const engine::SchedulerSnapshot* before,
                                             const engine::SchedulerSnapshot& after);

QJsonObject modelInfoToJson(const engine::ModelInfo& info);
QJsonObject requestSnapshotToJson(const engine::RequestSnapshot& request);

}  // namespace batchscope::app::api
