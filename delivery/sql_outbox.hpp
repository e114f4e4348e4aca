#pragma once

#include "delivery/outbox.hpp"

#include <memory>
#include <string>

/// The outbox over the SQL stores' `notifications` and `deliveries` tables
/// (created by the storage's migrations, written by its `write`).
namespace argus::delivery {

/// A deliveries row as the SQL backends read it.
struct sql_delivery_row {
  /// notification_id, receiver, event_manager_id, grp, kind.
  std::string text[5];
  std::string state;
  std::string last_error;
  int64_t seq = 0;
  int64_t attempts = 0;
  int64_t created_at_ms = 0;
  int64_t next_attempt_at_ms = 0;
  int64_t updated_at_ms = 0;
};

domain::delivery to_delivery(const sql_delivery_row& row);

/// Opens a connection of the worker's own to the SQLite file at `path`
/// (the storage has created and migrated it).
caf::expected<std::unique_ptr<outbox>>
open_sqlite_outbox(const std::string& path);

} // namespace argus::delivery
