// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/trace_reader.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "engine/trace/trace_schema.h"

#include "engine/trace/sqlite_handles.h"

namespace batchscope::engine {

namespace {

using Db = SqliteDb;
using Stmt = SqliteStmt;

std::optional<FinishReason> finishReasonFromName(const std::string& name) {
    for (int r = 0; r <= int(FinishReason::Error); ++r)
        if (finishReasonName(FinishReason(r)) == name) return FinishReason(r);
    return std::nullopt;
}

std::optional<double> columnOptional(sqlite3_stmt* s, int col) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(s, col);
}

std::int64_t metaInt(const std::map<std::string, std::string>& meta, const std::string& key, std::int64_t fallback) {
    auto it = meta.find(key);
    if (it == meta.end()) return fallback;
    try {
        return std::stoll(it->second);
    } catch (...) {
        return fallback;
    }
}

}  // namespace

Result<RecordedTrace> readTrace(const std::string& path) {
    if (!std::filesystem::exists(path)) return makeError(ErrorCode::NotFound, "trace file '" + path + "' does not exist");
    Db db;
    const auto bad = [&](const std::string& what) {
        return makeError(ErrorCode::InvalidFormat, "'" + path + "' is not a readable Batchscope trace: " + what);
    };
    // Read-write open (no create) so that a WAL left by a killed writer is recovered.
    if (sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK &&
        (sqlite3_close(db.db), db.db = nullptr,
         sqlite3_open_v2(path.c_str(), &db.db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK))
        return bad(db.db ? sqlite3_errmsg(db.db) : "cannot open");
    const auto prepare = [&](Stmt& st, const char* sql) {
        return sqlite3_prepare_v2(db.db, sql, -1, &st.s, nullptr) == SQLITE_OK;
    };
    RecordedTrace trace;
    {
        Stmt st;
        if (!prepare(st, "SELECT key, value FROM meta")) return bad(sqlite3_errmsg(db.db));
        while (sqlite3_step(st.s) == SQLITE_ROW)
            trace.meta[reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0))] =
                reinterpret_cast<const char*>(sqlite3_column_text(st.s, 1));
    }
    const std::int64_t version = metaInt(trace.meta, "schema_version", -1);
    if (version != kTraceSchemaVersion)
        return bad("schema version " + std::to_string(version) + ", this build reads version " +
                   std::to_string(kTraceSchemaVersion));
    RecordedSetup& setup = trace.setup;
    setup.blockSize = std::int32_t(metaInt(trace.meta, "block_size", 16));
    setup.numKvBlocks = std::int32_t(metaInt(trace.meta, "num_kv_blocks", 0));
    setup.maxSequenceLength = std::int32_t(metaInt(trace.meta, "max_sequence_length", 0));
    setup.minBatchSize = std::int32_t(metaInt(trace.meta, "min_batch_size", 1));
    setup.minBatchWaitMs = metaInt(trace.meta, "min_batch_wait_ms", 5);
    setup.queueCapacity = std::int32_t(metaInt(trace.meta, "queue_capacity", 1024));
    if (setup.blockSize < 1 || setup.numKvBlocks < 1 || setup.maxSequenceLength < 1)
        return bad("meta lacks block_size, num_kv_blocks or max_sequence_length");
    {
        Stmt st;
        if (!prepare(st, "SELECT max_batch_size, token_budget, queue_policy, aging_interval_ms, memory_policy, "
                         "prefix_caching FROM settings ORDER BY rowid LIMIT 1"))
            return bad(sqlite3_errmsg(db.db));
        if (sqlite3_step(st.s) == SQLITE_ROW) {
            SchedulerSettings& s = setup.settings;
            s.maxBatchSize = sqlite3_column_int(st.s, 0);
            s.tokenBudget = sqlite3_column_int(st.s, 1);
            s.queuePolicy = std::strcmp(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 2)), "fcfs") == 0
                                ? QueuePolicy::Fcfs : QueuePolicy::Priority;
            s.agingIntervalMs = sqlite3_column_int64(st.s, 3);
            s.memoryPolicy = std::strcmp(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 4)), "reserve") == 0
                                 ? MemoryPolicy::Reserve : MemoryPolicy::Preempt;
            s.prefixCaching = sqlite3_column_int(st.s, 5) != 0;
        }
    }
    std::unordered_map<std::uint64_t, std::size_t> byId;
    {
        Stmt st;
        if (!prepare(st, "SELECT id, arrival_ms, prompt_tokens, max_tokens, priority, client, prefix_hashes "
                         "FROM requests ORDER BY arrival_ms, id"))
            return bad(sqlite3_errmsg(db.db));
        while (sqlite3_step(st.s) == SQLITE_ROW) {
            RecordedRequest r;
            r.id = std::uint64_t(sqlite3_column_int64(st.s, 0));
            r.arrivalMs = sqlite3_column_double(st.s, 1);
            r.promptTokens = sqlite3_column_int(st.s, 2);
            r.maxTokens = sqlite3_column_int(st.s, 3);
            r.priority = std::clamp(sqlite3_column_int(st.s, 4), 0, kPriorityCount - 1);
            if (const unsigned char* c = sqlite3_column_text(st.s, 5)) r.client = reinterpret_cast<const char*>(c);
            const int bytes = sqlite3_column_bytes(st.s, 6);
            if (bytes % 8 != 0) return bad("request " + std::to_string(r.id) + " has a prefix hash blob of " +
                                           std::to_string(bytes) + " bytes (not a multiple of 8)");
            r.prefixHashes.resize(std::size_t(bytes / 8));
            if (bytes > 0) std::memcpy(r.prefixHashes.data(), sqlite3_column_blob(st.s, 6), std::size_t(bytes));
            if (r.promptTokens < 1) return bad("request " + std::to_string(r.id) + " has an empty prompt");
            byId[r.id] = trace.requests.size();
            trace.requests.push_back(std::move(r));
        }
    }
    {
        Stmt st;
        if (!prepare(st, "SELECT request_id, finish_ms, finish_reason, output_tokens, cached_prompt_tokens, "
                         "first_scheduled_ms, first_token_ms, preemptions FROM finishes"))
            return bad(sqlite3_errmsg(db.db));
        while (sqlite3_step(st.s) == SQLITE_ROW) {
            auto it = byId.find(std::uint64_t(sqlite3_column_int64(st.s, 0)));
            if (it == byId.end()) continue;   // arrived before the recording started
            RecordedRequest& r = trace.requests[it->second];
            const std::string reason = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 2));
            auto parsed = finishReasonFromName(reason);
            if (!parsed) return bad("request " + std::to_string(r.id) + " has an unknown finish reason '" + reason + "'");
            r.finished = true;
            r.finishMs = sqlite3_column_double(st.s, 1);
            r.finishReason = *parsed;
            r.outputTokens = sqlite3_column_int(st.s, 3);
            r.cachedPromptTokens = sqlite3_column_int(st.s, 4);
            r.firstScheduledMs = columnOptional(st.s, 5);
            r.firstTokenMs = columnOptional(st.s, 6);
            r.preemptions = sqlite3_column_int(st.s, 7);
        }
    }
    {
        Stmt st;
        if (!prepare(st, "SELECT request_id, time_ms, value FROM request_events WHERE kind = 'priority' ORDER BY rowid"))
            return bad(sqlite3_errmsg(db.db));
        while (sqlite3_step(st.s) == SQLITE_ROW) {
            auto it = byId.find(std::uint64_t(sqlite3_column_int64(st.s, 0)));
            if (it == byId.end()) continue;
            trace.requests[it->second].priorityChanges.emplace_back(
                sqlite3_column_double(st.s, 1), std::clamp(sqlite3_column_int(st.s, 2), 0, kPriorityCount - 1));
        }
    }
    {
        Stmt st;
        if (!prepare(st, "SELECT step, start_ms, duration_ms, schedule_us, prefill_tokens, decode_tokens, sequences, "
                         "preempted, kv_used, kv_cached, kv_free, failed, attended_context, generated_tokens, queue_depth, "
                         "token_budget, max_batch_size FROM steps ORDER BY step"))
            return bad(sqlite3_errmsg(db.db));
        while (sqlite3_step(st.s) == SQLITE_ROW) {
            RecordedStep s;
            s.index = sqlite3_column_int64(st.s, 0);
            s.startMs = sqlite3_column_double(st.s, 1);
            s.durationMs = sqlite3_column_double(st.s, 2);
            s.scheduleUs = sqlite3_column_double(st.s, 3);
            s.prefillTokens = sqlite3_column_int(st.s, 4);
            s.decodeTokens = sqlite3_column_int(st.s, 5);
            s.sequences = sqlite3_column_int(st.s, 6);
            s.preempted = sqlite3_column_int(st.s, 7);
            s.kvUsed = sqlite3_column_int(st.s, 8);
            s.kvCached = sqlite3_column_int(st.s, 9);
            s.kvFree = sqlite3_column_int(st.s, 10);
            s.failed = sqlite3_column_int(st.s, 11) != 0;
            s.attendedContext = sqlite3_column_double(st.s, 12);
            s.generatedTokens = sqlite3_column_int(st.s, 13);
            s.queueDepth = sqlite3_column_int(st.s, 14);
            s.tokenBudget = sqlite3_column_int(st.s, 15);
            s.maxBatchSize = sqlite3_column_int(st.s, 16);
            trace.steps.push_back(s);
        }
    }
    return trace;
}

ReplayWorkload workloadFromTrace(const RecordedTrace& trace) {
    ReplayWorkload w;
    double origin = -1;
    for (const RecordedRequest& r : trace.requests) {
        if (!r.finished) {
            ++w.leftOut;
            continue;
        }
        if (origin < 0) origin = r.arrivalMs;
        WorkloadRequest q;
        q.arrivalSeconds = (r.arrivalMs - origin) / 1000.0;
        q.promptTokens = r.promptTokens;
        q.priority = r.priority;
        q.prefixBlockHashes = r.prefixHashes;
        q.client = r.client;
        if (r.finishReason == FinishReason::Cancelled) {
            // It would have gone on to its max tokens had nobody cancelled it.
            q.outputTokens = std::max(1, r.maxTokens);
            q.cancelAfterSeconds = std::max(0.0, (r.finishMs - r.arrivalMs) / 1000.0);
        } else {
            q.outputTokens = std::max(1, r.outputTokens);
        }
        for (const auto& [atMs, prio] : r.priorityChanges)
            w.priorityChanges.push_back({w.requests.size(), (atMs - origin) / 1000.0, prio});
        w.requests.push_back(std::move(q));
    }
    std::sort(w.priorityChanges.begin(), w.priorityChanges.end(),
              [](const auto& a, const auto& b) { return a.atSeconds < b.atSeconds; });
    return w;
}

}  // namespace batchscope::engine
