// SPDX-License-Identifier: GPL-3.0-or-later
#include "app/remote/remote_decode.h"

#include <QJsonArray>
#include <algorithm>

namespace batchscope::app::remote {
namespace {

template <typename Enum, typename NameFn>
std::optional<Enum> fromName(const QString& name, NameFn nameOf, int count) {
    const QByteArray utf8 = name.toUtf8();
    for (int i = 0; i < count; ++i) {
        const auto e = static_cast<Enum>(i);
        if (nameOf(e) == std::string_view(utf8.constData(), size_t(utf8.size()))) return e;
    }
    return std::nullopt;
}

std::int32_t i32(const QJsonObject& o, const char* key) { return std::int32_t(o.value(QLatin1String(key)).toInteger()); }
double num(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toDouble(); }
std::string str(const QJsonObject& o, const char* key) { return o.value(QLatin1String(key)).toString().toStdString(); }

engine::LatencySummary latencyFromJson(const QJsonObject& o) {
    engine::LatencySummary s;
    s.count = o.value(QLatin1String("count")).toInteger();
    s.mean = num(o, "mean");
    s.p50 = num(o, "p50");
    s.p95 = num(o, "p95");
    s.p99 = num(o, "p99");
    s.max = num(o, "max");
    s.min = num(o, "min");
    s.sum = num(o, "sum");
    return s;
}

ui::LatencyPercentiles percentiles(const engine::LatencySummary& s) {
    if (s.count <= 0) return {};
    return {s.p50, s.p95, s.p99};
}

}  // namespace

std::optional<engine::RequestState> requestStateFromName(const QString& name) {
    return fromName<engine::RequestState>(name, engine::requestStateName, 8);
}
std::optional<engine::FinishReason> finishReasonFromName(const QString& name) {
    return fromName<engine::FinishReason>(name, engine::finishReasonName, 8);
}
std::optional<engine::WaitReason> waitReasonFromName(const QString& name) {
    return fromName<engine::WaitReason>(name, engine::waitReasonName, 8);
}

engine::RequestSnapshot requestFromJson(const QJsonObject& o) {
    engine::RequestSnapshot r;
    r.id = engine::RequestId(o.value(QLatin1String("request_id")).toInteger());
    r.state = requestStateFromName(o.value(QLatin1String("state")).toString()).value_or(engine::RequestState::Queued);
    r.priority = engine::parsePriority(str(o, "priority")).value_or(engine::Priority::Normal);
    r.promptPreview = str(o, "prompt_preview");
    r.promptTokens = i32(o, "prompt_tokens");
    r.generatedTokens = i32(o, "generated_tokens");
    r.maxTokens = i32(o, "max_tokens");
    r.cachedPromptTokens = i32(o, "cached_prompt_tokens");
    r.queueMs = num(o, "queue_ms");
    if (o.contains(QLatin1String("ttft_ms"))) r.timeToFirstTokenMs = num(o, "ttft_ms");
    r.tokensPerSecond = num(o, "tokens_per_second");
    r.kvBlocks = i32(o, "kv_blocks");
    r.finishReason = finishReasonFromName(o.value(QLatin1String("finish_reason")).toString()).value_or(engine::FinishReason::None);
    r.waitReason = waitReasonFromName(o.value(QLatin1String("wait_reason")).toString()).value_or(engine::WaitReason::None);
    const QJsonObject d = o.value(QLatin1String("wait_detail")).toObject();
    r.waitDetail = {i32(d, "ahead"), i32(d, "kv_blocks_needed"), i32(d, "kv_blocks_free"),
                    i32(d, "kv_blocks_reclaimable"), i32(d, "have"), i32(d, "limit")};
    r.errorMessage = str(o, "error");
    return r;
}

engine::StepRecord stepFromJson(const QJsonObject& o) {
    engine::StepRecord s;
    s.index = o.value(QLatin1String("index")).toInteger();
    s.startMs = num(o, "start_ms");
    s.durationMs = num(o, "duration_ms");
    s.scheduleUs = num(o, "schedule_us");
    for (const QJsonValue& v : o.value(QLatin1String("requests")).toArray()) {
        const QJsonObject e = v.toObject();
        s.entries.push_back({engine::RequestId(e.value(QLatin1String("request_id")).toInteger()),
                             i32(e, "prefill_tokens"), i32(e, "decode_tokens")});
    }
    s.prefillTokens = i32(o, "prefill_tokens");
    s.decodeTokens = i32(o, "decode_tokens");
    const QJsonObject kv = o.value(QLatin1String("kv")).toObject();
    s.kvUsedBlocks = i32(kv, "used_blocks");
    s.kvCachedBlocks = i32(kv, "cached_blocks");
    s.kvFreeBlocks = i32(kv, "free_blocks");
    s.tokenBudget = i32(o, "token_budget");
    s.maxBatchSize = i32(o, "max_batch_size");
    s.queueDepth = i32(o, "queue_depth");
    s.preempted = i32(o, "preempted");
    s.failed = o.value(QLatin1String("failed")).toBool();
    return s;
}

engine::ModelInfo modelFromJson(const QJsonObject& o) {
    engine::ModelInfo m;
    m.name = str(o, "name");
    m.path = str(o, "path");
    m.architecture = str(o, "architecture");
    m.backend = str(o, "backend");
    m.parameterCount = std::uint64_t(num(o, "parameter_count"));
    m.fileSizeBytes = std::uint64_t(num(o, "file_size_bytes"));
    m.weightBytes = std::uint64_t(num(o, "weight_bytes"));
    m.kvCacheBytes = std::uint64_t(num(o, "kv_cache_bytes"));
    m.kvCacheType = str(o, "kv_cache_type");
    m.contextLength = i32(o, "context_length");
    m.vocabSize = i32(o, "vocab_size");
    m.embeddingDim = i32(o, "embedding_dim");
    m.layerCount = i32(o, "layer_count");
    m.headCount = i32(o, "head_count");
    m.kvHeadCount = i32(o, "kv_head_count");
    m.feedForwardDim = i32(o, "feed_forward_dim");
    m.tokenizerKind = str(o, "tokenizer");
    m.chatTemplate = str(o, "chat_template");
    m.chatTemplateSource = str(o, "chat_template_source");
    m.fileType = str(o, "file_type");
    const QJsonObject types = o.value(QLatin1String("tensor_types")).toObject();
    for (auto it = types.begin(); it != types.end(); ++it) m.tensorTypeCounts[it.key().toStdString()] = it.value().toInt();
    return m;
}

std::vector<engine::KvBlockView> blocksFromJson(const QJsonObject& o) {
    constexpr qint64 kMaxBlocks = 1 << 22;  // bounds what a hostile server can make us allocate
    const qint64 total = o.value(QLatin1String("total_blocks")).toInteger();
    std::vector<engine::KvBlockView> blocks;
    if (total <= 0 || total > kMaxBlocks) return blocks;
    blocks.reserve(size_t(total));
    for (const QJsonValue& v : o.value(QLatin1String("runs")).toArray()) {
        const QJsonArray run = v.toArray();
        const int state = run.at(0).toInt(-1);
        const qint64 count = run.at(3).toInteger();
        if (run.size() != 4 || state < 0 || state > 2 || count <= 0 || qint64(blocks.size()) + count > total) return {};
        engine::KvBlockView b;
        b.state = static_cast<engine::KvBlockView::State>(state);
        b.owner = b.state == engine::KvBlockView::State::Owned ? engine::RequestId(run.at(1).toInteger())
                                                                : engine::kInvalidRequestId;
        b.refCount = std::uint16_t(std::clamp<qint64>(run.at(2).toInteger(), 0, 65535));
        blocks.insert(blocks.end(), size_t(count), b);
    }
    if (qint64(blocks.size()) != total) return {};
    return blocks;
}

engine::GenerationResult resultFromDone(const QJsonObject& o) {
    engine::GenerationResult r;
    r.id = engine::RequestId(o.value(QLatin1String("request_id")).toInteger());
    r.text = str(o, "text");
    r.finishReason = finishReasonFromName(o.value(QLatin1String("finish_reason")).toString()).value_or(engine::FinishReason::Error);
    r.errorMessage = str(o, "error");
    const QJsonObject u = o.value(QLatin1String("usage")).toObject();
    r.usage = {i32(u, "prompt_tokens"), i32(u, "completion_tokens"), i32(u, "cached_prompt_tokens")};
    const QJsonObject t = o.value(QLatin1String("timings")).toObject();
    r.timings = {num(t, "queue_ms"), num(t, "ttft_ms"), num(t, "total_ms"), num(t, "tokens_per_second")};
    return r;
}

void applyStatsJson(const QJsonObject& o, engine::SchedulerSnapshot& out) {
    out.running = o.value(QLatin1String("running")).toBool();
    out.queueDepth = i32(o, "queue_depth");
    out.runningCount = i32(o, "running_requests");
    out.promptTokensPerSecond = num(o, "prompt_tokens_per_second");
    out.generatedTokensPerSecond = num(o, "generated_tokens_per_second");
    const QJsonObject r = o.value(QLatin1String("requests")).toObject();
    engine::RequestStatistics& rs = out.requestStats;
    rs.submitted = r.value(QLatin1String("submitted")).toInteger();
    rs.completed = r.value(QLatin1String("completed")).toInteger();
    rs.requestsPerSecond = num(r, "requests_per_second");
    rs.queueTime = latencyFromJson(r.value(QLatin1String("queue_ms")).toObject());
    rs.timeToFirstToken = latencyFromJson(r.value(QLatin1String("ttft_ms")).toObject());
    rs.timePerOutputToken = latencyFromJson(r.value(QLatin1String("tpot_ms")).toObject());
    rs.endToEnd = latencyFromJson(r.value(QLatin1String("end_to_end_ms")).toObject());
    const QJsonObject recent = r.value(QLatin1String("recent")).toObject();
    rs.windowSeconds = num(recent, "window_seconds");
    rs.recentQueueTime = latencyFromJson(recent.value(QLatin1String("queue_ms")).toObject());
    rs.recentTimeToFirstToken = latencyFromJson(recent.value(QLatin1String("ttft_ms")).toObject());
    rs.recentTimePerOutputToken = latencyFromJson(recent.value(QLatin1String("tpot_ms")).toObject());
    rs.recentEndToEnd = latencyFromJson(recent.value(QLatin1String("end_to_end_ms")).toObject());
    rs.promptTokens = r.value(QLatin1String("prompt_tokens")).toInteger();
    rs.generatedTokens = r.value(QLatin1String("generated_tokens")).toInteger();
    const QJsonObject b = o.value(QLatin1String("batches")).toObject();
    out.batchStats = {b.value(QLatin1String("steps")).toInteger(), i32(b, "max_batch_size"),
                      num(b, "average_batch_size"), num(b, "average_utilization"),
                      num(b, "average_tokens_per_step"), num(b, "average_step_ms"),
                      b.value(QLatin1String("preemptions")).toInteger()};
    const QJsonObject kv = o.value(QLatin1String("kv")).toObject();
    out.kv.totalBlocks = i32(kv, "total_blocks");
    out.kv.usedBlocks = i32(kv, "used_blocks");
    out.kv.cachedBlocks = i32(kv, "cached_blocks");
    out.kv.freeBlocks = i32(kv, "free_blocks");
    out.kv.prefixQueries = kv.value(QLatin1String("prefix_queries")).toInteger();
    out.kv.prefixHits = kv.value(QLatin1String("prefix_hits")).toInteger();
    out.kv.evictions = kv.value(QLatin1String("evictions")).toInteger();
    const QJsonObject e = o.value(QLatin1String("errors")).toObject();
    out.errorStats.totalErrors = e.value(QLatin1String("total")).toInteger();
    out.errorStats.failedSteps = e.value(QLatin1String("failed_steps")).toInteger();
    out.errorStats.failedRequests = e.value(QLatin1String("failed_requests")).toInteger();
}

ui::ServerMetricsSample metricsSampleFromStats(const engine::SchedulerSnapshot& s, double timeSeconds,
                                               double preemptionsPerSecond) {
    ui::ServerMetricsSample m;
    m.timeSeconds = timeSeconds;
    m.running = s.runningCount;
    m.waiting = s.queueDepth;
    if (s.kv.totalBlocks > 0) m.kvUsagePercent = 100.0 * s.kv.usedBlocks / s.kv.totalBlocks;
    m.promptTokensPerSecond = s.promptTokensPerSecond;
    m.generationTokensPerSecond = s.generatedTokensPerSecond;
    m.preemptionsPerSecond = preemptionsPerSecond;
    m.preemptionsTotal = double(s.batchStats.preemptions);
    m.ttftMs = percentiles(s.requestStats.recentTimeToFirstToken);
    m.interTokenMs = percentiles(s.requestStats.recentTimePerOutputToken);
    m.endToEndMs = percentiles(s.requestStats.recentEndToEnd);
    m.flavour = "batchscope";
    return m;
}

}  // namespace batchscope::app::remote
