// SPDX-License-Identifier: GPL-3.0-or-later
#include "engine/trace/trace_recorder.h"

#include <sqlite3.h>

#include <charconv>
#include <cstdio>
#include <spdlog/spdlog.h>

#include "engine/scheduling/sequence.h"
#include "engine/trace/prefix_hash.h"
#include "engine/trace/trace_schema.h"

namespace batchscope::engine {

namespace {
double msOf(const std::optional<TimePoint>& t, double finishMs, TimePoint finishAt) {
    if (!t) return -1;
    return finishMs - std::chrono::duration<double, std::milli>(finishAt - *t).count();
}

std::string queuePolicyName(QueuePolicy p) { return p == QueuePolicy::Fcfs ? "fcfs" : "priority"; }
std::string memoryPolicyName(MemoryPolicy p) { return p == MemoryPolicy::Reserve ? "reserve" : "preempt"; }
}  // namespace

/// The connection and its prepared statements; used by the writer thread only.
struct TraceRecorder::Database {
    sqlite3* db = nullptr;
    sqlite3_stmt* arrival = nullptr;
    sqlite3_stmt* finish = nullptr;
    sqlite3_stmt* event = nullptr;
    sqlite3_stmt* step = nullptr;
    sqlite3_stmt* settings = nullptr;
    ~Database() {
        for (sqlite3_stmt* s : {arrival, finish, event, step, settings}) sqlite3_finalize(s);
        if (db) sqlite3_close(db);
    }
    std::string error() const { return db ? sqlite3_errmsg(db) : "out of memory"; }
    bool exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }
    bool prepare(sqlite3_stmt** s, const char* sql) { return sqlite3_prepare_v2(db, sql, -1, s, nullptr) == SQLITE_OK; }
};

Result<std::shared_ptr<TraceRecorder>> TraceRecorder::open(const std::string& path,
                                                            const std::map<std::string, std::string>& meta,
                                                            const TraceRecorderOptions& options) {
    if (path.empty()) return makeError(ErrorCode::InvalidArgument, "trace file name is empty");
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::remove((path + suffix).c_str());
    auto db = std::make_unique<Database>();
    const auto fail = [&](const std::string& what) {
        return makeError(ErrorCode::InvalidArgument, "cannot record the trace '" + path + "': " + what + ": " + db->error());
    };
    if (sqlite3_open_v2(path.c_str(), &db->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
        return fail("open");
    // WAL: a committed transaction survives the process being killed; NORMAL syncs at
    // checkpoints only (an OS crash may lose the last commits, a killed process does not).
    if (!db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")) return fail("journal mode");
    if (!db->exec("BEGIN;") || !db->exec(kTraceSchemaSql)) return fail("schema");
    sqlite3_stmt* m = nullptr;
    if (!db->prepare(&m, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)")) return fail("meta");
    auto all = meta;
    all["schema_version"] = std::to_string(kTraceSchemaVersion);
    all["prefix_hash_block_size"] = std::to_string(options.blockSize);
    for (const auto& [k, v] : all) {
        sqlite3_bind_text(m, 1, k.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(m, 2, v.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(m) != SQLITE_DONE) {
            sqlite3_finalize(m);
            return fail("meta");
        }
        sqlite3_reset(m);
    }
    sqlite3_finalize(m);
    if (!db->exec("COMMIT;")) return fail("commit");
    const bool prepared =
        db->prepare(&db->arrival, "INSERT OR REPLACE INTO requests VALUES(?,?,?,?,?,?,?,?)") &&
        db->prepare(&db->finish, "INSERT OR REPLACE INTO finishes VALUES(?,?,?,?,?,?,?,?)") &&
        db->prepare(&db->event, "INSERT INTO request_events VALUES(?,?,?,?)") &&
        db->prepare(&db->step, "INSERT OR REPLACE INTO steps VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)") &&
        db->prepare(&db->settings, "INSERT INTO settings VALUES(?,?,?,?,?,?,?,?)");
    if (!prepared) return fail("statements");
    return std::shared_ptr<TraceRecorder>(new TraceRecorder(path, std::move(db), options));
}

TraceRecorder::TraceRecorder(std::string path, std::unique_ptr<Database> db, const TraceRecorderOptions& options)
    : m_path(std::move(path)), m_options(options), m_db(std::move(db)) {
    m_writer = std::thread([this] { writerLoop(); });
}

TraceRecorder::~TraceRecorder() { close(); }

void TraceRecorder::close() {
    std::lock_guard closeLock(m_closeMutex);
    {
        std::lock_guard lock(m_mutex);
        m_closing = true;
    }
    m_wake.notify_all();
    if (m_writer.joinable()) m_writer.join();
}

void TraceRecorder::flush() {
    std::unique_lock lock(m_mutex);
    const std::int64_t target = m_queued;
    m_wake.notify_all();
    m_done.wait(lock, [&] { return m_written >= target || !m_error.empty() || m_writerDone; });
}

std::string TraceRecorder::lastError() const {
    std::lock_guard lock(m_mutex);
    return m_error;
}

std::int64_t TraceRecorder::droppedRows() const {
    std::lock_guard lock(m_mutex);
    return m_dropped;
}

void TraceRecorder::push(trace_rows::Item item) {
    std::lock_guard lock(m_mutex);
    if (m_closing || !m_error.empty()) return;
    if (std::int64_t(m_queue.size()) >= m_options.maxQueuedRows) {
        ++m_dropped;
        return;
    }
    m_queue.push_back(std::move(item));
    ++m_queued;
}

void TraceRecorder::writerLoop() {
    std::vector<trace_rows::Item> batch;
    while (true) {
        bool closing = false;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait_for(lock, m_options.commitInterval, [this] { return m_closing; });
            closing = m_closing;
            batch.swap(m_queue);
        }
        if (!batch.empty()) {
            writeBatch(batch);
            {
                std::lock_guard lock(m_mutex);
                m_written += std::int64_t(batch.size());
            }
            batch.clear();
            m_done.notify_all();
        }
        if (closing) break;
    }
    std::int64_t dropped = 0;
    {
        std::lock_guard lock(m_mutex);
        dropped = m_dropped;
    }
    if (dropped > 0) {
        spdlog::warn("trace '{}': {} rows dropped (the writer fell behind)", m_path, dropped);
        const std::string sql = "INSERT OR REPLACE INTO meta(key, value) VALUES('dropped_rows', '" + std::to_string(dropped) + "');";
        m_db->exec(sql.c_str());
    }
    m_db->exec("PRAGMA wal_checkpoint(TRUNCATE);");
    m_db.reset();
    {
        std::lock_guard lock(m_mutex);
        m_writerDone = true;
    }
    m_done.notify_all();
}

void TraceRecorder::writeBatch(std::vector<trace_rows::Item>& items) {
    Database& d = *m_db;
    bool ok = d.exec("BEGIN;");
    const auto run = [&](sqlite3_stmt* s) {
        ok = ok && sqlite3_step(s) == SQLITE_DONE;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
    };
    for (auto& item : items) {
        if (!ok) break;
        if (auto* a = std::get_if<trace_rows::Arrival>(&item)) {
            sqlite3_bind_int64(d.arrival, 1, std::int64_t(a->id));
            sqlite3_bind_double(d.arrival, 2, a->arrivalMs);
            sqlite3_bind_int(d.arrival, 3, a->promptTokens);
            sqlite3_bind_int(d.arrival, 4, a->maxTokens);
            sqlite3_bind_int(d.arrival, 5, a->priority);
            sqlite3_bind_text(d.arrival, 6, a->client.c_str(), -1, SQLITE_STATIC);
            sqlite3_bind_blob(d.arrival, 7, a->prefixHashes.data(), int(a->prefixHashes.size() * sizeof(std::uint64_t)), SQLITE_STATIC);
            if (a->hasText) sqlite3_bind_text(d.arrival, 8, a->promptText.c_str(), -1, SQLITE_STATIC);
            run(d.arrival);
        } else if (auto* f = std::get_if<trace_rows::Finish>(&item)) {
            sqlite3_bind_int64(d.finish, 1, std::int64_t(f->id));
            sqlite3_bind_double(d.finish, 2, f->finishMs);
            sqlite3_bind_text(d.finish, 3, finishReasonName(f->reason).data(), int(finishReasonName(f->reason).size()), SQLITE_STATIC);
            sqlite3_bind_int(d.finish, 4, f->outputTokens);
            sqlite3_bind_int(d.finish, 5, f->cachedPromptTokens);
            if (f->firstScheduledMs >= 0) sqlite3_bind_double(d.finish, 6, f->firstScheduledMs);
            if (f->firstTokenMs >= 0) sqlite3_bind_double(d.finish, 7, f->firstTokenMs);
            sqlite3_bind_int(d.finish, 8, f->preemptions);
            run(d.finish);
        } else if (auto* e = std::get_if<trace_rows::Event>(&item)) {
            sqlite3_bind_int64(d.event, 1, std::int64_t(e->id));
            sqlite3_bind_double(d.event, 2, e->timeMs);
            sqlite3_bind_text(d.event, 3, e->kind, -1, SQLITE_STATIC);
            sqlite3_bind_int64(d.event, 4, e->value);
            run(d.event);
        } else if (auto* st = std::get_if<trace_rows::Step>(&item)) {
            const StepRecord& r = st->record;
            const std::int64_t v[] = {r.index, r.prefillTokens, r.decodeTokens, r.generatedTokens,
                                      std::int64_t(r.entries.size()), r.kvUsedBlocks, r.kvCachedBlocks, r.kvFreeBlocks,
                                      r.queueDepth, r.preempted, r.tokenBudget, r.maxBatchSize, r.failed ? 1 : 0};
            sqlite3_bind_int64(d.step, 1, v[0]);
            sqlite3_bind_double(d.step, 2, r.startMs);
            sqlite3_bind_double(d.step, 3, r.durationMs);
            sqlite3_bind_double(d.step, 4, r.scheduleUs);
            for (int i = 1; i < 13; ++i) sqlite3_bind_int64(d.step, 4 + i, v[i]);
            double attended = 0;
            std::string& rows = m_rowsBuffer;   // reused: no allocation per step
            rows.assign(1, '[');
            char buf[96];
            for (const auto& e : r.entries) {
                const double n = e.prefillTokens + e.decodeTokens;
                attended += n * (e.contextTokens - n / 2 + 0.5);
                // to_chars: a few times faster than snprintf, and this runs per sequence per step.
                char* p = buf;
                if (rows.size() > 1) *p++ = ',';
                *p++ = '[';
                p = std::to_chars(p, buf + sizeof buf, static_cast<unsigned long long>(e.id)).ptr;
                for (std::int32_t v : {e.prefillTokens, e.decodeTokens, e.contextTokens}) {
                    *p++ = ',';
                    p = std::to_chars(p, buf + sizeof buf, v).ptr;
                }
                *p++ = ']';
                rows.append(buf, p);
            }
            rows += ']';
            sqlite3_bind_double(d.step, 17, attended);
            sqlite3_bind_text(d.step, 18, rows.c_str(), int(rows.size()), SQLITE_TRANSIENT);
            run(d.step);
        } else if (auto* s = std::get_if<trace_rows::Settings>(&item)) {
            const std::string qp = queuePolicyName(s->settings.queuePolicy), mp = memoryPolicyName(s->settings.memoryPolicy);
            sqlite3_bind_double(d.settings, 1, s->timeMs);
            sqlite3_bind_int(d.settings, 2, s->settings.maxBatchSize);
            sqlite3_bind_int(d.settings, 3, s->settings.tokenBudget);
            sqlite3_bind_text(d.settings, 4, qp.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(d.settings, 5, s->settings.agingIntervalMs);
            sqlite3_bind_text(d.settings, 6, mp.c_str(), -1, SQLITE_TRANSIENT);
            sqlite3_bind_int(d.settings, 7, s->settings.prefixCaching ? 1 : 0);
            sqlite3_bind_int(d.settings, 8, s->settings.paused ? 1 : 0);
            run(d.settings);
        }
    }
    ok = ok && d.exec("COMMIT;");
    if (!ok) {
        const std::string message = "writing the trace '" + m_path + "' failed: " + d.error();
        d.exec("ROLLBACK;");
        spdlog::error("{}", message);
        std::lock_guard lock(m_mutex);
        if (m_error.empty()) m_error = message;
        m_queue.clear();
        return;
    }
    m_commits.fetch_add(1);
}

void TraceRecorder::onSubmitted(RequestId id, double arrivalMs, std::span<const TokenId> prompt,
                                const std::string& promptText, const GenerationOptions& options) {
    trace_rows::Arrival a{id, arrivalMs, std::int32_t(prompt.size()), options.maxTokens, int(options.priority),
                          options.client, prefixBlockHashes(prompt, m_options.blockSize), {}, m_options.recordPromptText};
    if (a.hasText) a.promptText = promptText;
    push(std::move(a));
}

void TraceRecorder::onPriorityChanged(RequestId id, double timeMs, Priority priority) {
    push(trace_rows::Event{id, timeMs, "priority", int(priority)});
}

void TraceRecorder::onFinished(const Sequence& seq, double finishMs) {
    const TimePoint at = seq.finishedAt.value_or(TimePoint{});
    push(trace_rows::Finish{seq.id, finishMs, seq.finishReason, seq.generatedCount(), seq.cachedPromptTokens,
                            seq.preemptions, msOf(seq.firstScheduled, finishMs, at),
                            msOf(seq.firstToken, finishMs, at)});
    if (seq.finishReason == FinishReason::Cancelled) push(trace_rows::Event{seq.id, finishMs, "cancelled", 0});
}

void TraceRecorder::onStep(const StepRecord& step, std::span<const RequestId> preempted) {
    for (RequestId id : preempted) push(trace_rows::Event{id, step.startMs, "preempted", step.index});
    push(trace_rows::Step{step});
}

void TraceRecorder::onSettings(const SchedulerSettings& settings, double timeMs) {
    push(trace_rows::Settings{settings, timeMs});
}

}  // namespace batchscope::engine
