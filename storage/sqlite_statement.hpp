#pragma once

#include <sqlite3.h>

#include <memory>

/// Prepared statements kept by a SQLite connection's users (the store and
/// the delivery outbox).
namespace argus::storage {

struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

/// A prepared statement, finalized with its owner.
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

/// Returns a cached statement to its pristine state when a use ends, however
/// it ends, so the next use starts clean and no stale text binding lingers.
struct reset_on_exit {
  sqlite3_stmt* stmt;
  ~reset_on_exit() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

} // namespace argus::storage
