#pragma once

#include "domain/error.hpp"
#include "storage/sqlite_statement.hpp"

#include <sqlite3.h>

#include <caf/expected.hpp>

#include <string>
#include <string_view>

/// The exact parent check of the SQLite outbox queries.
namespace argus::storage {

/// Whether the JSON text `body` may hold a NUL byte in a string ("\u0000"),
/// where SQLite's JSON functions cut it short: a parent key there cannot
/// be compared in SQL.
inline bool may_hold_nul(std::string_view body) {
  return body.find("\\u0000") != std::string_view::npos;
}

/// Whether `id` is the active alert of (`manager`, `dedup_key`) on `db`.
/// The key is bound as it is, NUL bytes and all: the outbox queries make
/// this test in SQL, but SQLite's JSON functions cut a text short at a NUL
/// byte, so a parent key with one (`"\u0000"` in the body) is left to
/// this. `slot` keeps the statement.
inline caf::expected<bool> parent_is_active(sqlite3* db, stmt_ptr& slot,
                                            std::string_view manager,
                                            std::string_view dedup_key,
                                            std::string_view id) {
  auto* s =
      prepared_once(db, slot,
                    "SELECT 1 FROM alerts WHERE event_manager_id = ?"
                    " AND dedup_key = ? AND id = ? AND status = 'active'");
  if (s != nullptr) {
    reset_on_exit guard{s};
    int i = 0;
    for (auto text : {manager, dedup_key, id})
      sqlite3_bind_text(s, ++i, text.data(), static_cast<int>(text.size()),
                        SQLITE_STATIC);
    auto rc = sqlite3_step(s);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
      return rc == SQLITE_ROW;
  }
  return make_error(ec::internal,
                    std::string{"sqlite: cannot look up a notification's"
                                " parent ("} +
                        sqlite3_errmsg(db) + ")");
}

} // namespace argus::storage
