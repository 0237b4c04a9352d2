// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/api/protocol_encode.h"

#include "engine/model/model_quantizer.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>
#include <unordered_map>

#include "engine/core/wait_description.h"

namespace batchscope::app::api {
namespace {

QString name(std::string_view s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }
QJsonValue rid(engine::RequestId id) { return QJsonValue(qint64(id)); }

QJsonObject reply(const char* type, const QJsonValue& id) {
    QJsonObject o{{QStringLiteral("type"), QLatin1String(type)}};
    if (!id.isUndefined() && !id.isNull()) o.insert(QStringLiteral("id"), id);
    return o;
}

QJsonObject latencyToJson(const engine::LatencySummary& s) {
    return {{"count", qint64(s.count)}, {"mean", s.mean}, {"p50", s.p50}, {"p95", s.p95},
            {"p99", s.p99},             {"max", s.max},   {"min", s.min}, {"sum", s.sum}};
}

QJsonObject kvToJson(const engine::KvStatistics& kv) {
    return {{"total_blocks", kv.totalBlocks},       {"used_blocks", kv.usedBlocks},
            {"cached_blocks", kv.cachedBlocks},     {"free_blocks", kv.freeBlocks},
            {"prefix_queries", qint64(kv.prefixQueries)}, {"prefix_hits", qint64(kv.prefixHits)},
            {"prefix_hit_rate", kv.prefixHitRate()}, {"evictions", qint64(kv.evictions)}};
}

QJsonObject requestStatsToJson(const engine::RequestStatistics& r) {
    QJsonObject reasons;
    for (const auto& [reason, count] : r.finishReasons)
        reasons.insert(name(engine::finishReasonName(reason)), qint64(count));
    return {{"submitted", qint64(r.submitted)},
            {"completed", qint64(r.completed)},
            {"requests_per_second", r.requestsPerSecond},
            {"queue_ms", latencyToJson(r.queueTime)},
            {"ttft_ms", latencyToJson(r.timeToFirstToken)},
            {"tpot_ms", latencyToJson(r.timePerOutputToken)},
            {"end_to_end_ms", latencyToJson(r.endToEnd)},
            {"recent", QJsonObject{{"window_seconds", r.windowSeconds},
                                   {"queue_ms", latencyToJson(r.recentQueueTime)},
                                   {"ttft_ms", latencyToJson(r.recentTimeToFirstToken)},
                                   {"tpot_ms", latencyToJson(r.recentTimePerOutputToken)},
                                   {"end_to_end_ms", latencyToJson(r.recentEndToEnd)}}},
            {"prompt_tokens", qint64(r.promptTokens)},
            {"generated_tokens", qint64(r.generatedTokens)},
            {"finish_reasons", reasons}};
}

QJsonObject batchStatsToJson(const engine::BatchStatistics& b) {
    return {{"steps", qint64(b.steps)},
            {"max_batch_size", b.maxBatchSize},
            {"average_batch_size", b.averageBatchSize},
            {"average_utilization", b.averageUtilization},
            {"average_tokens_per_step", b.averageTokensPerStep},
            {"average_step_ms", b.averageStepMs},
            {"preemptions", qint64(b.preemptions)}};
}

QJsonObject errorStatsToJson(const engine::ErrorStatistics& e) {
    QJsonObject kinds;
    for (const auto& [kind, count] : e.byKind) kinds.insert(QString::fromStdString(kind), qint64(count));
    return {{"total", qint64(e.totalErrors)}, {"failed_steps", qint64(e.failedSteps)},
            {"failed_requests", qint64(e.failedRequests)}, {"by_kind", kinds}};
}

QJsonObject stepToJson(const engine::StepRecord& s) {
    QJsonArray entries;
    for (const auto& e : s.entries)
        entries.append(QJsonObject{{"request_id", rid(e.id)},
                                   {"prefill_tokens", e.prefillTokens},
                                   {"decode_tokens", e.decodeTokens}});
    return {{"index", qint64(s.index)},
            {"start_ms", s.startMs},
            {"duration_ms", s.durationMs},
            {"schedule_us", s.scheduleUs},
            {"requests", entries},
            {"prefill_tokens", s.prefillTokens},
            {"decode_tokens", s.decodeTokens},
            {"kv", QJsonObject{{"used_blocks", s.kvUsedBlocks},
                               {"cached_blocks", s.kvCachedBlocks},
                               {"free_blocks", s.kvFreeBlocks}}},
            {"token_budget", s.tokenBudget},
            {"max_batch_size", s.maxBatchSize},
            {"queue_depth", s.queueDepth},
            {"preempted", s.preempted},
            {"failed", s.failed}};
}

}  // namespace

QString toFrame(const QJsonObject& message) {
    return QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact));
}

QJsonObject makeError(const QJsonValue& id, ApiErrorCode code, const QString& message) {
    QJsonObject o = reply("error", id);
    o.insert(QStringLiteral("code"), apiErrorCodeName(code));
    o.insert(QStringLiteral("message"), message);
    return o;
}

QJsonObject makeWelcome(const QJsonValue& id, const ServerInfo& info) {
    QJsonObject o = reply("welcome", id);
    o.insert(QStringLiteral("protocol"), QLatin1String(kProtocolVersion));
    o.insert(QStringLiteral("server"), QStringLiteral("batchscope ") + info.version);
    o.insert(QStringLiteral("model"), info.modelName);
    o.insert(QStringLiteral("limits"),
             QJsonObject{{"context_length", info.contextLength},
                         {"max_message_bytes", info.maxMessageBytes},
                         {"max_requests_per_connection", info.maxRequestsPerConnection},
                         {"rate_per_second", info.ratePerSecond},
                         {"burst", info.burst}});
    return o;
}

QJsonObject makeAccepted(const QJsonValue& id, engine::RequestId requestId, int queuePosition) {
    QJsonObject o = reply("accepted", id);
    o.insert(QStringLiteral("request_id"), rid(requestId));
    o.insert(QStringLiteral("queue_position"), queuePosition);
    return o;
}

QJsonObject makeToken(const QJsonValue& id, const engine::TokenEvent& event) {
    QJsonObject o = reply("token", id);
    o.insert(QStringLiteral("request_id"), rid(event.id));
    o.insert(QStringLiteral("text"), QString::fromUtf8(event.textDelta.data(), qsizetype(event.textDelta.size())));
    o.insert(QStringLiteral("token_id"), event.token);
    o.insert(QStringLiteral("index"), event.index);
    return o;
}

QJsonObject makeDone(const QJsonValue& id, const engine::GenerationResult& r) {
    QJsonObject o = reply("done", id);
    o.insert(QStringLiteral("request_id"), rid(r.id));
    o.insert(QStringLiteral("text"), QString::fromUtf8(r.text.data(), qsizetype(r.text.size())));
    o.insert(QStringLiteral("finish_reason"), name(engine::finishReasonName(r.finishReason)));
    if (!r.errorMessage.empty()) o.insert(QStringLiteral("error"), QString::fromStdString(r.errorMessage));
    o.insert(QStringLiteral("usage"),
             QJsonObject{{"prompt_tokens", r.usage.promptTokens},
                         {"completion_tokens", r.usage.completionTokens},
                         {"cached_prompt_tokens", r.usage.cachedPromptTokens}});
    o.insert(QStringLiteral("timings"),
             QJsonObject{{"queue_ms", r.timings.queueMs},
                         {"ttft_ms", r.timings.timeToFirstTokenMs},
                         {"total_ms", r.timings.totalMs},
                         {"tokens_per_second", r.timings.tokensPerSecond}});
    return o;
}

QJsonObject makeCancelOk(const QJsonValue& id, engine::RequestId requestId) {
    QJsonObject o = reply("cancel_ok", id);
    o.insert(QStringLiteral("request_id"), rid(requestId));
    return o;
}

QJsonObject makePrioritySet(const QJsonValue& id, engine::RequestId requestId,
                            engine::Priority priority) {
    QJsonObject o = reply("priority_set", id);
    o.insert(QStringLiteral("request_id"), rid(requestId));
    o.insert(QStringLiteral("priority"), name(engine::priorityName(priority)));
    return o;
}

QJsonObject makePong(const QJsonValue& id) { return reply("pong", id); }

QJsonObject makeSubscribed(const QJsonValue& id, int topics, int intervalMs, bool subscribed) {
    QJsonObject o = reply(subscribed ? "subscribed" : "unsubscribed", id);
    o.insert(QStringLiteral("topics"), QJsonArray::fromStringList(topicNames(topics)));
    if (subscribed) o.insert(QStringLiteral("interval_ms"), intervalMs);
    return o;
}

QJsonObject modelInfoToJson(const engine::ModelInfo& m) {
    QJsonObject types;
    for (const auto& [type, count] : m.tensorTypeCounts) types.insert(QString::fromStdString(type), count);
    return {{"name", QString::fromStdString(m.name)},
            {"path", QString::fromStdString(m.path)},
            {"architecture", QString::fromStdString(m.architecture)},
            {"backend", QString::fromStdString(m.backend)},
            {"parameter_count", double(m.parameterCount)},
            {"file_size_bytes", double(m.fileSizeBytes)},
            {"weight_bytes", double(m.weightBytes)},
            {"kv_cache_bytes", double(m.kvCacheBytes)},
            {"kv_cache_type", QString::fromStdString(m.kvCacheType)},
            {"context_length", m.contextLength},
            {"vocab_size", m.vocabSize},
            {"embedding_dim", m.embeddingDim},
            {"layer_count", m.layerCount},
            {"head_count", m.headCount},
            {"kv_head_count", m.kvHeadCount},
            {"feed_forward_dim", m.feedForwardDim},
            {"tokenizer", QString::fromStdString(m.tokenizerKind)},
            {"tensor_types", types},
            {"file_type", QString::fromStdString(m.fileType)},
            {"type_mix", QString::fromStdString(engine::tensorTypeMixText(m))},
            {"chat_template_source", QString::fromStdString(m.chatTemplateSource)},
            {"chat_template", QString::fromStdString(m.chatTemplate)}};
}

QJsonObject makeModel(const QJsonValue& id, const engine::ModelInfo& info) {
    QJsonObject o = reply("model", id);
    o.insert(QStringLiteral("model"), modelInfoToJson(info));
    return o;
}

QJsonObject requestSnapshotToJson(const engine::RequestSnapshot& r) {
    QJsonObject o{{"request_id", rid(r.id)},
                  {"state", name(engine::requestStateName(r.state))},
                  {"priority", name(engine::priorityName(r.priority))},
                  {"prompt_preview", QString::fromStdString(r.promptPreview)},
                  {"prompt_tokens", r.promptTokens},
                  {"generated_tokens", r.generatedTokens},
                  {"max_tokens", r.maxTokens},
                  {"cached_prompt_tokens", r.cachedPromptTokens},
                  {"queue_ms", r.queueMs},
                  {"tokens_per_second", r.tokensPerSecond},
                  {"kv_blocks", r.kvBlocks}};
    if (r.timeToFirstTokenMs) o.insert(QStringLiteral("ttft_ms"), *r.timeToFirstTokenMs);
    if (r.waitReason != engine::WaitReason::None) {
        const engine::WaitDetail& d = r.waitDetail;
        o.insert(QStringLiteral("wait_reason"), name(engine::waitReasonName(r.waitReason)));
        o.insert(QStringLiteral("wait_text"), QString::fromStdString(engine::describeWait(r.waitReason, d)));
        o.insert(QStringLiteral("wait_detail"),
                 QJsonObject{{"ahead", d.ahead}, {"kv_blocks_needed", d.kvBlocksNeeded},
                             {"kv_blocks_free", d.kvBlocksFree}, {"kv_blocks_reclaimable", d.kvBlocksReclaimable},
                             {"have", d.have}, {"limit", d.limit}});
    }
    if (r.finishReason != engine::FinishReason::None)
        o.insert(QStringLiteral("finish_reason"), name(engine::finishReasonName(r.finishReason)));
    if (!r.errorMessage.empty()) o.insert(QStringLiteral("error"), QString::fromStdString(r.errorMessage));
    return o;
}

QJsonObject makeRequestList(const QJsonValue& id, const engine::SchedulerSnapshot& snapshot,
                            const std::function<bool(engine::RequestId)>& isOwn) {
    QJsonArray list;
    for (const auto& r : snapshot.requests) {
        QJsonObject o = requestSnapshotToJson(r);
        o.insert(QStringLiteral("own"), isOwn ? isOwn(r.id) : false);
        list.append(o);
    }
    QJsonObject o = reply("requests", id);
    o.insert(QStringLiteral("time_ms"), snapshot.timeMs);
    o.insert(QStringLiteral("queue_depth"), snapshot.queueDepth);
    o.insert(QStringLiteral("running"), snapshot.runningCount);
    o.insert(QStringLiteral("requests"), list);
    return o;
}

QJsonObject makeStats(const QJsonValue& id, const engine::SchedulerSnapshot& s) {
    QJsonObject o = reply("stats", id);
    o.insert(QStringLiteral("time_ms"), s.timeMs);
    o.insert(QStringLiteral("running"), s.running);
    o.insert(QStringLiteral("queue_depth"), s.queueDepth);
    o.insert(QStringLiteral("running_requests"), s.runningCount);
    o.insert(QStringLiteral("requests"), requestStatsToJson(s.requestStats));
    o.insert(QStringLiteral("batches"), batchStatsToJson(s.batchStats));
    o.insert(QStringLiteral("kv"), kvToJson(s.kv));
    o.insert(QStringLiteral("errors"), errorStatsToJson(s.errorStats));
    o.insert(QStringLiteral("prompt_tokens_per_second"), s.promptTokensPerSecond);
    o.insert(QStringLiteral("generated_tokens_per_second"), s.generatedTokensPerSecond);
    return o;
}

QJsonObject makeStepsEvent(const std::vector<engine::StepRecord>& steps) {
    QJsonArray list;
    for (const auto& s : steps) list.append(stepToJson(s));
    return {{"type", "steps"}, {"steps", list}};
}

QJsonObject makeRequestChangesEvent(double timeMs, const std::vector<RequestChange>& changes) {
    QJsonArray list;
    for (const auto& c : changes) {
        QJsonObject o{{"request_id", rid(c.id)},
                      {"state", name(engine::requestStateName(c.state))},
                      {"priority", name(engine::priorityName(c.priority))}};
        if (c.previous) o.insert(QStringLiteral("previous_state"), name(engine::requestStateName(*c.previous)));
        if (c.waitReason != engine::WaitReason::None)
            o.insert(QStringLiteral("wait_reason"), name(engine::waitReasonName(c.waitReason)));
        if (c.finishReason != engine::FinishReason::None)
            o.insert(QStringLiteral("finish_reason"), name(engine::finishReasonName(c.finishReason)));
        list.append(o);
    }
    return {{"type", "request_changes"}, {"time_ms", timeMs}, {"changes", list}};
}

QJsonObject makeMetricsEvent(const engine::SchedulerSnapshot& s) {
    QJsonObject o = makeStats(QJsonValue(), s);
    o.insert(QStringLiteral("type"), QStringLiteral("metrics"));
    return o;
}

QJsonObject makeKvBlocksEvent(const engine::SchedulerSnapshot& s) {
    QJsonArray runs;
    size_t i = 0;
    while (i < s.blocks.size()) {
        const engine::KvBlockView& b = s.blocks[i];
        size_t j = i + 1;
        while (j < s.blocks.size() && s.blocks[j].state == b.state && s.blocks[j].owner == b.owner &&
               s.blocks[j].refCount == b.refCount)
            ++j;
        const qint64 owner = b.state == engine::KvBlockView::State::Owned ? qint64(b.owner) : 0;
        runs.append(QJsonArray{int(b.state), owner, int(b.refCount), qint64(j - i)});
        i = j;
    }
    return {{"type", "kv_blocks"}, {"time_ms", s.timeMs}, {"block_size", s.blockSize},
            {"total_blocks", qint64(s.blocks.size())}, {"runs", runs}};
}

bool sameBlocks(const std::vector<engine::KvBlockView>& a, const std::vector<engine::KvBlockView>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
        return x.state == y.state && x.owner == y.owner && x.refCount == y.refCount;
    });
}

std::vector<RequestChange> diffRequestStates(const engine::SchedulerSnapshot* before,
                                             const engine::SchedulerSnapshot& after) {
    std::unordered_map<engine::RequestId, engine::RequestState> old;
    if (before)
        for (const auto& r : before->requests) old.emplace(r.id, r.state);
    std::vector<RequestChange> changes;
    for (const auto& r : after.requests) {
        const auto it = old.find(r.id);
        if (it != old.end() && it->second == r.state) continue;
        RequestChange c{r.id, r.state, std::nullopt, r.priority, r.waitReason, r.finishReason};
        if (it != old.end()) c.previous = it->second;
        changes.push_back(c);
    }
    return changes;
}

}  // namespace batchscope::app::api
