#include "storage/sqlite_outbox_retention.hpp"

#include "domain/error.hpp"
#include "domain/retention.hpp"
#include "storage/outbox_parent.hpp"
#include "storage/sqlite_parent_check.hpp"

#include <string>

namespace argus::storage {

namespace {

// The facts `domain::drops_notification` needs of the next notifications in
// outbox order. The body's three fields come out of one parse (a
// json_extract of several paths yields them as one small array), in a
// materialized window so SQLite does not substitute that parse into each
// use of it. Notifications not fanned out yet (a backlog of the worker's
// under load) are skipped by notifications_unfanned, not read at every
// pass. The parent is looked up by the key of the alerts table and
// the pending deliveries by deliveries_by_state. json_extract gives a text
// back only up to a NUL byte, which the API can carry: a parent key with
// one ("\u0000" in the array's text) is not compared in SQL, its fourth
// column is NULL, and when the parent decides (`domain::parent_decides`)
// it is looked up with the key as the body has it.
constexpr const char* window_sql =
    "WITH w AS MATERIALIZED (SELECT seq, event_manager_id, fanned_out,"
    " json_extract(body, '$.at_ms', '$.parent.dedup_key', '$.parent.id') AS k"
    " FROM notifications WHERE fanned_out = 1 AND seq > ?1 ORDER BY seq"
    " LIMIT ?2)"
    " SELECT seq, json_extract(k, '$[0]') < ?3, fanned_out,"
    " CASE WHEN instr(k, '\\u0000') > 0 THEN NULL ELSE EXISTS (SELECT 1"
    " FROM alerts a WHERE a.event_manager_id = w.event_manager_id"
    " AND a.dedup_key = json_extract(k, '$[1]')"
    " AND a.id = json_extract(k, '$[2]') AND a.status = 'active') END,"
    " EXISTS (SELECT 1 FROM deliveries d"
    " WHERE d.state = 'pending' AND d.seq = w.seq)"
    " FROM w ORDER BY seq";

} // namespace

caf::expected<store::dropped_notifications>
sqlite_outbox_retention::step(domain::time_point cutoff, uint64_t after,
                              size_t at_most) {
  auto window = prepared(window_, window_sql);
  if (!window)
    return window.error();
  std::vector<int64_t> gone;
  store::dropped_notifications result;
  result.last_seq = after;
  size_t looked_at = 0;
  bool all_old = true;
  {
    reset_on_exit guard{*window};
    sqlite3_bind_int64(*window, 1, static_cast<int64_t>(after));
    sqlite3_bind_int64(*window, 2, static_cast<int64_t>(at_most));
    sqlite3_bind_int64(*window, 3, domain::to_millis(cutoff));
    int rc;
    while ((rc = sqlite3_step(*window)) == SQLITE_ROW) {
      auto seq = sqlite3_column_int64(*window, 0);
      domain::notification_facts facts;
      facts.made_before_cutoff = sqlite3_column_int(*window, 1) != 0;
      facts.fanned_out = sqlite3_column_int(*window, 2) != 0;
      facts.parent_active = sqlite3_column_int(*window, 3) != 0;
      facts.delivery_pending = sqlite3_column_int(*window, 4) != 0;
      if (sqlite3_column_type(*window, 3) == SQLITE_NULL &&
          domain::parent_decides(facts)) {
        auto active = parent_active_at(seq);
        if (!active)
          return active.error();
        facts.parent_active = *active;
      }
      ++looked_at;
      result.last_seq = static_cast<uint64_t>(seq);
      all_old = all_old && facts.made_before_cutoff;
      if (domain::drops_notification(facts))
        gone.push_back(seq);
    }
    if (rc != SQLITE_DONE)
      return fail("read the outbox past retention");
  }
  for (auto seq : gone) {
    if (auto err = erase(erase_deliveries_,
                         "DELETE FROM deliveries WHERE seq = ?", seq))
      return err;
    if (auto err = erase(erase_notification_,
                         "DELETE FROM notifications WHERE seq = ?", seq))
      return err;
  }
  result.notifications = gone.size();
  result.more = looked_at >= at_most && all_old;
  return result;
}

caf::expected<bool> sqlite_outbox_retention::parent_active_at(int64_t seq) {
  auto stmt = prepared(body_, "SELECT body, event_manager_id FROM"
                              " notifications WHERE seq = ?");
  if (!stmt)
    return stmt.error();
  reset_on_exit guard{*stmt};
  sqlite3_bind_int64(*stmt, 1, seq);
  if (sqlite3_step(*stmt) != SQLITE_ROW)
    return fail("read a notification's body");
  auto text = [&](int col) {
    return std::string{
        reinterpret_cast<const char*>(sqlite3_column_text(*stmt, col)),
        static_cast<size_t>(sqlite3_column_bytes(*stmt, col))};
  };
  auto parent = parent_named_in(text(0), static_cast<uint64_t>(seq));
  if (!parent)
    return true;
  return parent_is_active(db_, parent_check_, text(1), parent->dedup_key,
                          parent->id);
}

caf::error sqlite_outbox_retention::fail(const char* what) const {
  return make_error(ec::internal, std::string{"sqlite: cannot "} + what + " (" +
                                      sqlite3_errmsg(db_) + ")");
}

caf::expected<sqlite3_stmt*>
sqlite_outbox_retention::prepared(stmt_ptr& slot, const char* sql) {
  if (auto* stmt = prepared_once(db_, slot, sql))
    return stmt;
  return fail("prepare a retention statement");
}

caf::error sqlite_outbox_retention::erase(stmt_ptr& slot, const char* sql,
                                          int64_t seq) {
  auto stmt = prepared(slot, sql);
  if (!stmt)
    return stmt.error();
  reset_on_exit guard{*stmt};
  sqlite3_bind_int64(*stmt, 1, seq);
  if (sqlite3_step(*stmt) != SQLITE_DONE)
    return fail("delete a notification past retention");
  return {};
}

} // namespace argus::storage
