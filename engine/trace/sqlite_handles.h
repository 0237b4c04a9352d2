// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <sqlite3.h>

namespace batchscope::engine {

/// Owning handles for the read side of a trace (TraceReader, TracePlayback): the connection is
/// closed and the statement finalized when the handle goes out of scope, on every error path.
/// Not copyable; one thread at a time (SQLite connections are used from the opening thread).
struct SqliteDb {
    sqlite3* db = nullptr;
    SqliteDb() = default;
    SqliteDb(const SqliteDb&) = delete;
    SqliteDb& operator=(const SqliteDb&) = delete;
    ~SqliteDb() { if (db) sqlite3_close(db); }
};

struct SqliteStmt {
    sqlite3_stmt* s = nullptr;
    SqliteStmt() = default;
    SqliteStmt(const SqliteStmt&) = delete;
    SqliteStmt& operator=(const SqliteStmt&) = delete;
    ~SqliteStmt() { sqlite3_finalize(s); }
};

}  // namespace batchscope::engine
