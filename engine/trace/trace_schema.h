// The SQLite schema of a recorded trace (docs/replay.md, "Schema"). One file per run.
// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

namespace batchscope::engine {

/// meta.schema_version of files this build writes. Readers accept exactly this version and
/// refuse others with a message naming both; bump it on any incompatible change.
inline constexpr int kTraceSchemaVersion = 1;

/// Tables. Times are milliseconds since the scheduler's epoch (its clock when it was built);
/// token counts are tokens; blocks are KV blocks. Rows are append-only. A step's sequences are
/// one JSON text per step (steps.sequence_rows: [[request_id, prefill, decode, context], ...]),
/// not a row each: thirty times fewer inserts for the writer; the step_sequences view unpacks
/// them. attended_context = sum of n * (context - n / 2 + 0.5) over them (the cost model's term).
inline constexpr const char* kTraceSchemaSql = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE requests(
    id INTEGER PRIMARY KEY, arrival_ms REAL NOT NULL, prompt_tokens INTEGER NOT NULL,
    max_tokens INTEGER NOT NULL, priority INTEGER NOT NULL, client TEXT NOT NULL,
    prefix_hashes BLOB, prompt_text TEXT);
CREATE TABLE finishes(
    request_id INTEGER PRIMARY KEY, finish_ms REAL NOT NULL, finish_reason TEXT NOT NULL,
    output_tokens INTEGER NOT NULL, cached_prompt_tokens INTEGER NOT NULL,
    first_scheduled_ms REAL, first_token_ms REAL, preemptions INTEGER NOT NULL);
CREATE TABLE request_events(
    request_id INTEGER NOT NULL, time_ms REAL NOT NULL, kind TEXT NOT NULL, value INTEGER);
CREATE TABLE steps(
    step INTEGER PRIMARY KEY, start_ms REAL NOT NULL, duration_ms REAL NOT NULL,
    schedule_us REAL NOT NULL, prefill_tokens INTEGER NOT NULL, decode_tokens INTEGER NOT NULL,
    generated_tokens INTEGER NOT NULL, sequences INTEGER NOT NULL, kv_used INTEGER NOT NULL,
    kv_cached INTEGER NOT NULL, kv_free INTEGER NOT NULL, queue_depth INTEGER NOT NULL,
    preempted INTEGER NOT NULL, token_budget INTEGER NOT NULL, max_batch_size INTEGER NOT NULL,
    failed INTEGER NOT NULL, attended_context REAL NOT NULL, sequence_rows TEXT NOT NULL);
CREATE VIEW step_sequences AS
    SELECT s.step AS step, json_extract(j.value, '$[0]') AS request_id,
           json_extract(j.value, '$[1]') AS prefill_tokens, json_extract(j.value, '$[2]') AS decode_tokens,
           json_extract(j.value, '$[3]') AS context_tokens
    FROM steps s, json_each(s.sequence_rows) j;
CREATE TABLE settings(
    time_ms REAL NOT NULL, max_batch_size INTEGER NOT NULL, token_budget INTEGER NOT NULL,
    queue_policy TEXT NOT NULL, aging_interval_ms INTEGER NOT NULL, memory_policy TEXT NOT NULL,
    prefix_caching INTEGER NOT NULL, paused INTEGER NOT NULL);
)sql";

}  // namespace batchscope::engine
