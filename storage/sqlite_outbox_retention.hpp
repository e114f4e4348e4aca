#pragma once

#include "storage/sqlite_statement.hpp"
#include "storage/store.hpp"

#include <sqlite3.h>

#include <caf/expected.hpp>

/// The outbox's part of retention on an SQLite store
/// (`store::drop_notifications`).
namespace argus::storage {

class sqlite_outbox_retention {
public:
  /// Works on the store's own connection `db`.
  explicit sqlite_outbox_retention(sqlite3* db) : db_(db) {}

  /// One step, in the transaction the caller opened on `db`.
  caf::expected<store::dropped_notifications>
  step(domain::time_point cutoff, uint64_t after, size_t at_most);

private:
  /// Whether the parent of notification `seq` is active, looked up with
  /// its key as the body has it. A body that does not read counts as
  /// active: its notification stays.
  caf::expected<bool> parent_active_at(int64_t seq);
  caf::error fail(const char* what) const;
  caf::expected<sqlite3_stmt*> prepared(stmt_ptr& slot, const char* sql);
  caf::error erase(stmt_ptr& slot, const char* sql, int64_t seq);

  sqlite3* db_;
  stmt_ptr window_;
  stmt_ptr erase_deliveries_;
  stmt_ptr erase_notification_;
  stmt_ptr body_;
  stmt_ptr parent_check_;
};

} // namespace argus::storage
