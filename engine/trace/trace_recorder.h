// Records a run into a SQLite trace (engine/trace/trace_schema.h) from a background writer:
// the engine thread only appends events to a queue.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "engine/core/result.h"
#include "engine/scheduling/scheduler_trace_sink.h"

namespace batchscope::engine {

struct TraceRecorderOptions {
    /// Longest time between two commits: an abrupt end (kill -9) loses at most this much.
    std::chrono::milliseconds commitInterval{250};
    std::int32_t blockSize = 16;      ///< tokens per block of the prefix hash chain (the KV block size)
    bool recordPromptText = false;    ///< keep each prompt's text (off: lengths and hashes only)
    /// Queued rows at most: when the writer falls this far behind (a disk slower than the
    /// engine), further rows are dropped and counted (meta.dropped_rows) instead of growing
    /// memory or slowing the engine.
    std::int64_t maxQueuedRows = 1 << 20;
};

namespace trace_rows {
/// Queued rows, one struct per table (see trace_schema.h for the columns).
struct Arrival {
    RequestId id;
    double arrivalMs;
    std::int32_t promptTokens, maxTokens, priority;
    std::string client;
    std::vector<std::uint64_t> prefixHashes;
    std::string promptText;
    bool hasText;
};
struct Finish {
    RequestId id;
    double finishMs;
    FinishReason reason;
    std::int32_t outputTokens, cachedPromptTokens, preemptions;
    double firstScheduledMs, firstTokenMs;   // < 0: none
};
struct Event {
    RequestId id;
    double timeMs;
    const char* kind;
    std::int64_t value;
};
struct Step {
    StepRecord record;
};
struct Settings {
    SchedulerSettings settings;
    double timeMs;
};
using Item = std::variant<Arrival, Finish, Event, Step, Settings>;
}  // namespace trace_rows

/// A SchedulerTraceSink writing one SQLite file (WAL journal, a commit at least every
/// commitInterval). Threading: the sink calls come from the engine thread and submitters and
/// only copy into a queue under a mutex; one writer thread owns the database connection.
/// close() (or destruction) writes what is queued, commits and joins the writer. Write errors
/// are kept (lastError) and stop the writing; they never reach the engine.
class TraceRecorder final : public SchedulerTraceSink {
public:
    /// Creates `path` (replacing an existing file and its -wal/-shm) with the schema and `meta`
    /// (schema_version is added). Errors: the file cannot be created or written.
    static Result<std::shared_ptr<TraceRecorder>> open(const std::string& path,
                                                       const std::map<std::string, std::string>& meta,
                                                       const TraceRecorderOptions& options = {});
    ~TraceRecorder() override;
    TraceRecorder(const TraceRecorder&) = delete;
    TraceRecorder& operator=(const TraceRecorder&) = delete;

    /// Writes everything queued, commits and stops the writer; idempotent. Events arriving
    /// after close() are dropped.
    void close();
    /// Blocks until everything queued before the call is committed (tests).
    void flush();
    const std::string& path() const { return m_path; }
    std::string lastError() const;
    std::int64_t commits() const { return m_commits.load(); }
    /// Rows dropped because the writer was maxQueuedRows behind.
    std::int64_t droppedRows() const;

    void onSubmitted(RequestId id, double arrivalMs, std::span<const TokenId> prompt, const std::string& promptText,
                     const GenerationOptions& options) override;
    void onPriorityChanged(RequestId id, double timeMs, Priority priority) override;
    void onFinished(const Sequence& seq, double finishMs) override;
    void onStep(const StepRecord& step, std::span<const RequestId> preempted) override;
    void onSettings(const SchedulerSettings& settings, double timeMs) override;

private:
    struct Database;
    TraceRecorder(std::string path, std::unique_ptr<Database> db, const TraceRecorderOptions& options);
    void push(trace_rows::Item item);
    void writerLoop();
    void writeBatch(std::vector<trace_rows::Item>& items);

    std::string m_path;
    TraceRecorderOptions m_options;
    std::unique_ptr<Database> m_db;   // writer thread only (after construction)
    std::string m_rowsBuffer;         // writer thread only: a step's sequence_rows JSON
    mutable std::mutex m_mutex;       // m_queue, m_closing, m_error, m_written, m_queued
    std::condition_variable m_wake, m_done;
    std::vector<trace_rows::Item> m_queue;
    std::int64_t m_queued = 0, m_written = 0, m_dropped = 0;
    bool m_closing = false;
    bool m_writerDone = false;
    std::mutex m_closeMutex;          // serialises close()
    std::string m_error;
    std::atomic<std::int64_t> m_commits{0};
    std::thread m_writer;
};

}  // namespace batchscope::engine
