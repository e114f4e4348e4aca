#pragma once

#include <sqlite3.h>

#include <memory>
#include <string_view>

/// Prepared statements kept by a SQLite connection's users (the store and
/// the delivery outbox).
namespace argus::storage {

struct stmt_finalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

/// A prepared statement, finalized with its owner.
using stmt_ptr = std::unique_ptr<sqlite3_stmt, stmt_finalizer>;

/// The statement in `slot`, prepared on `db` on first use and kept for
/// reuse; null when it does not prepare (`sqlite3_errmsg(db)` says why).
inline sqlite3_stmt* prepared_once(sqlite3* db, stmt_ptr& slot,
                                   std::string_view sql) {
  if (!slot) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr) != SQLITE_OK)
      return nullptr;
    slot.reset(stmt);
  }
  return slot.get();
}

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
