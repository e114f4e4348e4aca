#include "storage/alert_row.hpp"
#include "storage/alert_sql.hpp"
#include "storage/sqlite_busy.hpp"
#include "storage/sqlite_checkpointer.hpp"
#include "storage/sqlite_outbox_retention.hpp"
#include "storage/sqlite_statement.hpp"
#include "storage/store.hpp"

#include "config/log.hpp"
#include "delivery/sql_outbox.hpp"
#include "domain/error.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace argus::storage {

namespace {

/// The schema, one step per version; step `i` takes the file from version
/// `i` to `i + 1` (tracked in `PRAGMA user_version`). Released steps are
/// never edited, only appended to, so every old file can be brought forward.
constexpr const char* migrations[] = {
    // 1: tables.
    R"sql(
CREATE TABLE grouping_rules (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  grouping_key TEXT NOT NULL,
  time_window_seconds INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE event_managers (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  grouping_rule_id TEXT NOT NULL,
  webhook_url TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE alerts (
  id TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  event_manager_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  severity TEXT NOT NULL,
  class TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  has_grouping_value INTEGER NOT NULL,
  grouping_value TEXT NOT NULL,
  parent_dedup_key TEXT NOT NULL,
  child_count INTEGER NOT NULL,
  resolve_requested INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  resolved_at_ms INTEGER,
  window_ends_at_ms INTEGER NOT NULL,
  details TEXT NOT NULL,
  PRIMARY KEY (event_manager_id, dedup_key)
);
)sql",
    // 2: indexes for the reads. The listing order is part of each index so
    // SQLite walks the page instead of sorting every match.
    R"sql(
CREATE INDEX alerts_by_created
  ON alerts (created_at_ms DESC, dedup_key, event_manager_id);
CREATE INDEX alerts_by_manager
  ON alerts (event_manager_id, created_at_ms DESC, dedup_key);
CREATE INDEX alerts_by_status
  ON alerts (status, created_at_ms DESC, dedup_key, event_manager_id);
CREATE INDEX alerts_by_dedup_key ON alerts (dedup_key);
CREATE INDEX alerts_by_parent
  ON alerts (event_manager_id, parent_dedup_key, created_at_ms DESC,
             dedup_key);
)sql",
    // 3: the ingest journal's bookkeeping: the last journaled event applied
    // to each alert, and the high-water mark of applied events.
    R"sql(
ALTER TABLE alerts ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX alerts_by_last_seq ON alerts (last_seq);
CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('applied_through', 0);
)sql",
    // 4: notifications (issue 11): each manager's receivers (JSON text,
    // secrets included), and the durable outbox the delivery worker drains
    // through a connection of its own (delivery/sqlite_outbox.cpp).
    R"sql(
ALTER TABLE event_managers ADD COLUMN receivers TEXT NOT NULL DEFAULT '[]';
CREATE TABLE notifications (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  event_manager_id TEXT NOT NULL,
  body TEXT NOT NULL,
  fanned_out INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_unfanned ON notifications (fanned_out, seq);
CREATE TABLE deliveries (
  notification_id TEXT NOT NULL,
  receiver TEXT NOT NULL,
  event_manager_id TEXT NOT NULL,
  grp TEXT NOT NULL,
  kind TEXT NOT NULL,
  seq INTEGER NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  next_attempt_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (notification_id, receiver)
);
CREATE INDEX deliveries_by_state ON deliveries (state, seq, receiver);
CREATE INDEX deliveries_by_seq ON deliveries (seq DESC, receiver);
)sql",
    // 5 (issue 12): rules that group by several fields, each manager's
    // Alertmanager severity mapping, and alerts that end by themselves.
    // '' and 0 are "none": a single key, the default mapping, no end.
    R"sql(
ALTER TABLE grouping_rules ADD COLUMN grouping_keys TEXT NOT NULL DEFAULT '';
ALTER TABLE event_managers ADD COLUMN am_severity TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN expires_at_ms INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6 (issue 12): acknowledgement of alerts, and each manager's PagerDuty
    // routing key (existing managers get a fresh random one) and ack
    // timeout.
    R"sql(
ALTER TABLE alerts ADD COLUMN acknowledged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN acknowledged_at_ms INTEGER;
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN acknowledged_until_ms INTEGER;
ALTER TABLE event_managers ADD COLUMN routing_key TEXT NOT NULL DEFAULT '';
ALTER TABLE event_managers
  ADD COLUMN ack_timeout_seconds INTEGER NOT NULL DEFAULT 0;
UPDATE event_managers SET routing_key = lower(hex(randomblob(16)))
  WHERE routing_key = '';
CREATE UNIQUE INDEX event_managers_by_routing_key
  ON event_managers (routing_key) WHERE routing_key <> '';
)sql",
    // 7 (issue 13): silences. Expired ones stay (they are listed); the
    // matchers are `domain::encode_matchers` text.
    R"sql(
CREATE TABLE silences (
  id TEXT NOT NULL PRIMARY KEY,
  event_manager_id TEXT NOT NULL,
  matchers TEXT NOT NULL,
  starts_at_ms INTEGER NOT NULL,
  ends_at_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  comment TEXT NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
)sql",
    // 8 (issue 13): auto-resolve. Each rule's and manager's limit (0: off),
    // each alert's deadline (0: none) and why it resolved ('' before this
    // was recorded).
    R"sql(
ALTER TABLE grouping_rules
  ADD COLUMN auto_resolve_after_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE event_managers
  ADD COLUMN auto_resolve_after_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN auto_resolve_at_ms INTEGER NOT NULL DEFAULT 0;
)sql",
    // 9 (issue 14): API keys (the SHA-256 of the key text, never the text;
    // managers as `encode_keys` text; 0 for no expiry / not revoked) and the
    // audit log, read newest first.
    R"sql(
CREATE TABLE api_keys (
  id TEXT NOT NULL PRIMARY KEY,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL,
  role TEXT NOT NULL,
  managers TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  kind TEXT NOT NULL,
  object_id TEXT NOT NULL,
  event_manager_id TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at_ms);
)sql",
    // 10 (issue 14): each manager's own rate limit as `encode(rate_limit)`
    // text ("<events/s> <burst>"); '' for none (the node's default).
    R"sql(
ALTER TABLE event_managers ADD COLUMN rate_limit TEXT NOT NULL DEFAULT '';
)sql",
    // 11 (issue 13): maintenance windows and inhibition. A silence's
    // schedule and a manager's inhibit rules as `domain::encode_schedule` /
    // `encode_inhibit_rules` text ('' for none).
    R"sql(
ALTER TABLE silences ADD COLUMN schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE event_managers ADD COLUMN inhibit_rules TEXT NOT NULL DEFAULT '';
)sql",
    // 12: the open parents, newest first, of every manager and of each
    // (the web console's groups, `alert_sql::open_parents` and
    // `open_parents_of_manager`). Partial, so only a parent's opening and
    // resolution write them: the writes that keep a row's status, type and
    // parent (`alert_sql::refresh`) leave them alone. The status index
    // read every active alert, children too, and each one's table row for
    // its type; the manager's, every alert of the manager. The manager,
    // status and type are in both so that counting, and passing over
    // other managers' parents, read no table row (SQLite 3.40 reads the
    // columns of a partial index's condition from the table).
    R"sql(
CREATE INDEX alerts_open_parents
  ON alerts (created_at_ms DESC, dedup_key, event_manager_id, status, type)
  WHERE status = 'active' AND type = 'parent';
CREATE INDEX alerts_open_parents_by_manager
  ON alerts (event_manager_id, created_at_ms DESC, dedup_key, status, type)
  WHERE status = 'active' AND type = 'parent';
)sql",
};

constexpr int latest_version = static_cast<int>(std::size(migrations));

struct db_closer {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using db_ptr = std::unique_ptr<sqlite3, db_closer>;

/// Binds parameters in order and remembers the first failure, so callers
/// check once instead of after every bind.
class binder {
public:
  explicit binder(sqlite3_stmt* stmt) : stmt_(stmt) {}

  /// The text must outlive the statement's use (bound without a copy).
  binder& text(std::string_view x) {
    return check(sqlite3_bind_text(stmt_, next_++, x.data(),
                                   static_cast<int>(x.size()), SQLITE_STATIC));
  }

  /// Copied by SQLite: a UUID's text is written on the stack.
  binder& id(const domain::alert_id& x) {
    return x.with_text([this](std::string_view text) -> binder& {
      return check(sqlite3_bind_text(stmt_, next_++, text.data(),
                                     static_cast<int>(text.size()),
                                     SQLITE_TRANSIENT));
    });
  }

  binder& integer(int64_t x) {
    return check(sqlite3_bind_int64(stmt_, next_++, x));
  }

  /// Milliseconds, or NULL for `no_time`.
  binder& optional_time(domain::time_point t) {
    if (t == domain::no_time)
      return check(sqlite3_bind_null(stmt_, next_++));
    return integer(domain::to_millis(t));
  }

  bool ok() const { return rc_ == SQLITE_OK; }

private:
  binder& check(int rc) {
    if (rc_ == SQLITE_OK)
      rc_ = rc;
    return *this;
  }

  sqlite3_stmt* stmt_;
  int next_ = 1;
  int rc_ = SQLITE_OK;
};

std::string column_text(sqlite3_stmt* stmt, int i) {
  auto data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return data ? std::string(data, sqlite3_column_bytes(stmt, i))
              : std::string{};
}

/// The current row of a statement, as `read_alert_row_into` reads it.
struct sqlite_row {
  sqlite3_stmt* stmt;

  std::string_view text(int i) const {
    auto data = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
    return data ? std::string_view{data, static_cast<size_t>(
                                             sqlite3_column_bytes(stmt, i))}
                : std::string_view{};
  }
  int64_t integer(int i) const { return sqlite3_column_int64(stmt, i); }
  bool boolean(int i) const { return integer(i) != 0; }
  bool is_null(int i) const {
    return sqlite3_column_type(stmt, i) == SQLITE_NULL;
  }
};

/// Binds every column of `a` in `alert_sql::columns` order, with `event_count`
/// as given (the upsert adds it to a stored row's count).
void bind_alert(binder& b, const domain::alert& a, int64_t event_count) {
  b.id(a.id)
      .text(a.dedup_key)
      .text(a.event_manager_id)
      .text(a.summary)
      .text(domain::to_string(a.sev))
      .text(a.class_name)
      .text(domain::to_string(a.type))
      .text(domain::to_string(a.status))
      .integer(a.has_grouping_value ? 1 : 0)
      .text(a.grouping_value)
      .text(a.parent_dedup_key)
      .integer(a.child_count)
      .integer(a.resolve_requested ? 1 : 0)
      .integer(event_count)
      .integer(domain::to_millis(a.created_at))
      .integer(domain::to_millis(a.updated_at))
      .optional_time(a.resolved_at)
      .integer(domain::to_millis(a.window_ends_at))
      .text(a.details)
      .integer(static_cast<int64_t>(a.last_seq))
      .integer(domain::to_millis(a.expires_at))
      .integer(a.acknowledged ? 1 : 0)
      .optional_time(a.acknowledged_at)
      .text(a.acknowledged_by)
      .optional_time(a.acknowledged_until)
      .text(domain::to_string(a.resolved_by))
      .integer(domain::to_millis(a.auto_resolve_at));
}

class sqlite_store final : public store {
public:
  sqlite_store(db_ptr db, std::string path,
               std::unique_ptr<wal_checkpointer> checkpointer)
      : db_(std::move(db)), path_(std::move(path)),
        checkpointer_(std::move(checkpointer)) {
    // Replaces SQLite's automatic checkpoints on this connection: the hook
    // only counts, and the checkpointer's thread does the copying.
    sqlite3_wal_hook(db_.get(), &sqlite_store::count_wal_frames, this);
  }

  std::string backend() const override { return "sqlite"; }

  using store::write;

  caf::error write(const std::vector<domain::alert_write>& writes,
                   const notifications& notes,
                   uint64_t applied_through) override {
    return in_transaction(applied_through, [&]() -> caf::error {
      if (auto err = write_all(writes))
        return err;
      if (auto err = add_notifications(notes))
        return err;
      if (applied_through > 0)
        return raise_mark(applied_through);
      return {};
    });
  }

  uint64_t durable_through(uint64_t committed) const override {
    return std::min(committed, checkpointer_->durable_through());
  }

  caf::expected<std::vector<domain::alert>>
  list(const domain::alert_filter& filter) override {
    auto stmt = bound_list(filter);
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    return all_rows(*stmt, "list alerts");
  }

  caf::error
  each_listed(const domain::alert_filter& filter,
              const std::function<void(domain::alert&)>& on_alert) override {
    auto stmt = bound_list(filter);
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    return each_row(*stmt, "list alerts", on_alert);
  }

  caf::expected<int64_t>
  count_matching(const domain::alert_filter& filter) override {
    auto combination = alert_sql::combination_of(filter);
    static const auto sql =
        alert_sql::every_combination(alert_sql::sqlite, alert_sql::count);
    auto stmt =
        prepared(count_of_[combination], sql[combination], "count alerts");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    alert_sql::bind_filters(filter, [&](auto& text) { b.text(text); });
    if (!b.ok())
      return fail("cannot bind count alerts");
    if (sqlite3_step(*stmt) != SQLITE_ROW)
      return fail("cannot count alerts");
    return sqlite3_column_int64(*stmt, 0);
  }

  caf::expected<std::vector<domain::alert>>
  active_where(const std::string& manager_id,
               const domain::column_filter& where,
               const std::function<bool(const domain::alert&)>& keep) override {
    static const auto all_sql =
        alert_sql::active_of_manager(alert_sql::sqlite, false);
    static const auto some_sql =
        alert_sql::active_of_manager(alert_sql::sqlite, true);
    auto values = alert_sql::filter_values(where);
    auto stmt = values ? prepared(active_some_, some_sql, "list active alerts")
                       : prepared(active_all_, all_sql, "list active alerts");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.text(manager_id);
    if (values)
      for (auto& v : *values)
        b.text(v);
    if (!b.ok())
      return fail("cannot bind list active alerts");
    // Only a kept row is copied: a fan-out wants the few sources among
    // thousands of rows.
    std::vector<domain::alert> kept;
    if (auto err = each_row(*stmt, "list active alerts", [&](domain::alert& a) {
          // The query compared the filter's columns, unless it could
          // not.
          if ((values || where.admits(a)) && keep(a))
            kept.push_back(a);
        }))
      return err;
    return kept;
  }

  caf::expected<std::vector<domain::alert>>
  by_dedup_key(const std::string& manager_id,
               const std::string& dedup_key) override {
    static const auto all_sql = "SELECT " + alert_sql::column_list() +
                                " FROM alerts WHERE dedup_key = ?"
                                " ORDER BY event_manager_id";
    static const auto one_sql = "SELECT " + alert_sql::column_list() +
                                " FROM alerts WHERE dedup_key = ?"
                                " AND event_manager_id = ?";
    auto stmt = manager_id.empty()
                    ? prepared(by_key_all_, all_sql, "look up dedupKey")
                    : prepared(by_key_one_, one_sql, "look up dedupKey");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.text(dedup_key);
    if (!manager_id.empty())
      b.text(manager_id);
    return alerts_of(*stmt, b, "look up dedupKey");
  }

  caf::expected<std::vector<domain::alert>>
  children(const std::string& manager_id,
           const std::string& parent_dedup_key) override {
    static const auto sql = "SELECT " + alert_sql::column_list() +
                            " FROM alerts WHERE event_manager_id = ?"
                            " AND parent_dedup_key = ?" +
                            std::string{alert_sql::newest_first};
    auto stmt = prepared(children_, sql, "list children");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.text(manager_id).text(parent_dedup_key);
    return alerts_of(*stmt, b, "list children");
  }

  caf::expected<std::vector<int64_t>> active_children_counts(
      const std::string& manager_id,
      const std::vector<std::string>& parent_dedup_keys) override {
    // alerts_by_parent finds the children; only their status is read.
    static const auto sql =
        "SELECT COUNT(*) FROM alerts WHERE event_manager_id = ?"
        " AND parent_dedup_key = ? AND status = '" +
        std::string{domain::to_string(domain::alert_status::active)} +
        "' AND type = '" +
        std::string{domain::to_string(domain::alert_type::child)} + "'";
    auto stmt = prepared(active_children_, sql, "count active children");
    if (!stmt)
      return stmt.error();
    std::vector<int64_t> counts;
    counts.reserve(parent_dedup_keys.size());
    for (auto& parent : parent_dedup_keys) {
      reset_on_exit guard{*stmt};
      binder b{*stmt};
      b.text(manager_id).text(parent);
      if (!b.ok())
        return fail("cannot bind count active children");
      if (sqlite3_step(*stmt) != SQLITE_ROW)
        return fail("cannot count active children");
      counts.push_back(sqlite3_column_int64(*stmt, 0));
    }
    return counts;
  }

  caf::expected<std::vector<domain::alert>> open_work() override {
    // Active alerts, then the inactive children of active parents (active
    // children are already in the first half).
    static const auto sql = "SELECT " + alert_sql::column_list() +
                            " FROM alerts WHERE status = ?1"
                            " UNION ALL SELECT " +
                            alert_sql::column_list("c") +
                            " FROM alerts AS p JOIN alerts AS c"
                            " ON c.event_manager_id = p.event_manager_id"
                            " AND c.parent_dedup_key = p.dedup_key"
                            " WHERE p.status = ?1 AND p.type = ?2"
                            " AND c.type = ?3 AND c.status <> ?1";
    auto stmt = prepared(open_work_, sql, "load open work");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.text(domain::to_string(domain::alert_status::active))
        .text(domain::to_string(domain::alert_type::parent))
        .text(domain::to_string(domain::alert_type::child));
    return alerts_of(*stmt, b, "load open work");
  }

  caf::expected<uint64_t> applied_through() override {
    auto stmt = prepared(read_mark_,
                         "SELECT value FROM meta WHERE key = 'applied_through'",
                         "read the applied mark");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    if (sqlite3_step(*stmt) != SQLITE_ROW)
      return fail("cannot read the applied mark");
    return static_cast<uint64_t>(sqlite3_column_int64(*stmt, 0));
  }

  caf::expected<std::vector<domain::alert>>
  applied_after(uint64_t seq) override {
    static const auto sql = "SELECT " + alert_sql::column_list() +
                            " FROM alerts WHERE last_seq > ?";
    auto stmt = prepared(applied_after_, sql, "read recently applied alerts");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.integer(static_cast<int64_t>(seq));
    return alerts_of(*stmt, b, "read recently applied alerts");
  }

  caf::expected<std::pair<int64_t, int64_t>> count_by_status() override {
    auto stmt =
        prepared(count_, "SELECT status, COUNT(*) FROM alerts GROUP BY status",
                 "count alerts");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    std::pair<int64_t, int64_t> counts{0, 0};
    auto active = domain::to_string(domain::alert_status::active);
    auto resolved = domain::to_string(domain::alert_status::resolved);
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      auto status = column_text(*stmt, 0);
      if (status == active)
        counts.first = sqlite3_column_int64(*stmt, 1);
      else if (status == resolved)
        counts.second = sqlite3_column_int64(*stmt, 1);
    }
    if (rc != SQLITE_DONE)
      return fail("cannot count alerts");
    return counts;
  }

  caf::expected<dropped> drop_resolved(domain::time_point cutoff,
                                       size_t at_most) override {
    static const auto sql = alert_sql::drop_resolved(alert_sql::sqlite);
    auto stmt = prepared(drop_resolved_, sql, "drop resolved alerts");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.integer(domain::to_millis(cutoff)).integer(static_cast<int64_t>(at_most));
    // One statement outside BEGIN: SQLite commits it on its own.
    if (auto err = step_done(*stmt, b, "drop resolved alerts"))
      return err;
    // Its pages count toward the WAL's bound like a write's: steps back
    // to back grew the WAL of the benchmark to 181 MiB without this.
    after_commit(0);
    dropped result;
    result.alerts = static_cast<size_t>(sqlite3_changes64(db_.get()));
    result.more = result.alerts >= at_most;
    return result;
  }

  caf::expected<dropped_notifications>
  drop_notifications(domain::time_point cutoff, uint64_t after,
                     size_t at_most) override {
    caf::expected<dropped_notifications> result{dropped_notifications{}};
    auto err = in_transaction(0, [&]() -> caf::error {
      result = outbox_retention_.step(cutoff, after, at_most);
      return result ? caf::error{} : result.error();
    });
    if (err)
      return err;
    return result;
  }

  caf::error put(const domain::grouping_rule& rule) override {
    auto stmt =
        prepared(put_rule_,
                 "INSERT INTO grouping_rules (id, name, grouping_key,"
                 " time_window_seconds, created_at_ms, updated_at_ms,"
                 " grouping_keys, auto_resolve_after_seconds)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                 " SET auto_resolve_after_seconds ="
                 " excluded.auto_resolve_after_seconds,"
                 " name = excluded.name, grouping_key = excluded.grouping_key,"
                 " grouping_keys = excluded.grouping_keys,"
                 " time_window_seconds = excluded.time_window_seconds,"
                 " created_at_ms = excluded.created_at_ms,"
                 " updated_at_ms = excluded.updated_at_ms",
                 "store rule");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    // Bound without a copy (SQLITE_STATIC): it must outlive the step.
    auto keys = domain::encode_keys(rule.grouping_keys);
    binder b{*stmt};
    b.text(rule.id)
        .text(rule.name)
        .text(rule.grouping_key)
        .integer(rule.time_window_seconds)
        .integer(domain::to_millis(rule.created_at))
        .integer(domain::to_millis(rule.updated_at))
        .text(keys)
        .integer(rule.auto_resolve_after_seconds);
    return step_done(*stmt, b, "store rule");
  }

  caf::error put(const domain::event_manager& manager) override {
    auto stmt = prepared(
        put_manager_,
        "INSERT INTO event_managers (id, name, description, grouping_rule_id,"
        " webhook_url, created_at_ms, updated_at_ms, receivers, am_severity,"
        " routing_key, ack_timeout_seconds, auto_resolve_after_seconds,"
        " rate_limit, inhibit_rules)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO"
        " UPDATE SET am_severity = excluded.am_severity,"
        " inhibit_rules = excluded.inhibit_rules,"
        " auto_resolve_after_seconds = excluded.auto_resolve_after_seconds,"
        " rate_limit = excluded.rate_limit,"
        " name = excluded.name, description = excluded.description,"
        " grouping_rule_id = excluded.grouping_rule_id,"
        " webhook_url = excluded.webhook_url,"
        " receivers = excluded.receivers,"
        " created_at_ms = excluded.created_at_ms,"
        " updated_at_ms = excluded.updated_at_ms,"
        " routing_key = excluded.routing_key,"
        " ack_timeout_seconds = excluded.ack_timeout_seconds",
        "store event manager");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    // Bound without a copy (SQLITE_STATIC): it must outlive the step.
    auto am_severity = domain::encode(manager.am_severity);
    auto rate_limit = domain::stored_rate_limit(manager);
    binder b{*stmt};
    auto receivers = delivery::to_stored(manager.receivers);
    auto inhibit_rules = domain::encode_inhibit_rules(manager.inhibit_rules);
    b.text(manager.id)
        .text(manager.name)
        .text(manager.description)
        .text(manager.grouping_rule_id)
        .text(manager.webhook_url)
        .integer(domain::to_millis(manager.created_at))
        .integer(domain::to_millis(manager.updated_at))
        .text(receivers)
        .text(am_severity)
        .text(manager.routing_key)
        .integer(manager.ack_timeout_seconds)
        .integer(manager.auto_resolve_after_seconds)
        .text(rate_limit)
        .text(inhibit_rules);
    return step_done(*stmt, b, "store event manager");
  }

  caf::error put(const domain::silence& silence) override {
    auto stmt = prepared(
        put_silence_,
        "INSERT INTO silences (id, event_manager_id, matchers, starts_at_ms,"
        " ends_at_ms, created_by, comment, updated_at_ms, schedule)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " event_manager_id = excluded.event_manager_id,"
        " schedule = excluded.schedule,"
        " matchers = excluded.matchers, starts_at_ms = excluded.starts_at_ms,"
        " ends_at_ms = excluded.ends_at_ms, created_by = excluded.created_by,"
        " comment = excluded.comment, updated_at_ms = excluded.updated_at_ms",
        "store silence");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    // Bound without a copy (SQLITE_STATIC): it must outlive the step.
    auto matchers = domain::encode_matchers(silence.matchers);
    auto schedule = domain::encode_schedule(silence.recurrence);
    binder b{*stmt};
    b.text(silence.id)
        .text(silence.event_manager_id)
        .text(matchers)
        .integer(domain::to_millis(silence.starts_at))
        .integer(domain::to_millis(silence.ends_at))
        .text(silence.created_by)
        .text(silence.comment)
        .integer(domain::to_millis(silence.updated_at))
        .text(schedule);
    return step_done(*stmt, b, "store silence");
  }

  caf::error put(const domain::api_key& key) override {
    auto stmt = prepared(
        put_key_,
        "INSERT INTO api_keys (id, prefix, hash, role, managers,"
        " created_at_ms, expires_at_ms, revoked_at_ms, created_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " prefix = excluded.prefix, hash = excluded.hash,"
        " role = excluded.role, managers = excluded.managers,"
        " created_at_ms = excluded.created_at_ms,"
        " expires_at_ms = excluded.expires_at_ms,"
        " revoked_at_ms = excluded.revoked_at_ms,"
        " created_by = excluded.created_by",
        "store API key");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    // Bound without a copy (SQLITE_STATIC): they must outlive the step.
    auto managers = domain::encode_keys(key.managers);
    std::string role{domain::to_string(key.key_role)};
    binder b{*stmt};
    b.text(key.id)
        .text(key.prefix)
        .text(key.hash)
        .text(role)
        .text(managers)
        .integer(domain::to_millis(key.created_at))
        .integer(domain::to_millis(key.expires_at))
        .integer(domain::to_millis(key.revoked_at))
        .text(key.created_by);
    return step_done(*stmt, b, "store API key");
  }

  caf::error append(const domain::audit_entry& e) override {
    auto stmt =
        prepared(append_audit_,
                 "INSERT INTO audit_log (id, at_ms, actor, action, kind,"
                 " object_id, event_manager_id)"
                 " VALUES (?, ?, ?, ?, ?, ?, ?)",
                 "append to the audit log");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.text(e.id)
        .integer(domain::to_millis(e.at))
        .text(e.actor)
        .text(e.action)
        .text(e.kind)
        .text(e.object_id)
        .text(e.event_manager_id);
    return step_done(*stmt, b, "append to the audit log");
  }

  caf::expected<std::vector<domain::audit_entry>>
  audit(const domain::audit_filter& filter) override {
    auto stmt = prepared(read_audit_,
                         "SELECT id, at_ms, actor, action, kind, object_id,"
                         " event_manager_id FROM audit_log WHERE at_ms >= ?"
                         " ORDER BY at_ms DESC, seq DESC LIMIT ?",
                         "read the audit log");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.integer(domain::to_millis(filter.since)).integer(filter.limit);
    if (!b.ok())
      return fail("cannot bind the audit query");
    std::vector<domain::audit_entry> out;
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      domain::audit_entry e;
      e.id = column_text(*stmt, 0);
      e.at = domain::from_millis(sqlite3_column_int64(*stmt, 1));
      e.actor = column_text(*stmt, 2);
      e.action = column_text(*stmt, 3);
      e.kind = column_text(*stmt, 4);
      e.object_id = column_text(*stmt, 5);
      e.event_manager_id = column_text(*stmt, 6);
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot read the audit log");
    return out;
  }

  caf::error erase_rule(const std::string& id) override {
    return erase(erase_rule_, "DELETE FROM grouping_rules WHERE id = ?", id,
                 "erase rule");
  }

  caf::error erase_manager(const std::string& id) override {
    return erase(erase_manager_, "DELETE FROM event_managers WHERE id = ?", id,
                 "erase event manager");
  }

  caf::expected<std::shared_ptr<delivery::outbox>>
  open_outbox(const std::string&) override {
    auto opened = delivery::open_sqlite_outbox(path_);
    if (!opened)
      return opened.error();
    return std::shared_ptr<delivery::outbox>{std::move(*opened)};
  }

  caf::expected<domain::catalog> load_catalog() override {
    domain::catalog result;
    if (auto err = load_rules(result))
      return err;
    if (auto err = load_managers(result))
      return err;
    if (auto err = load_silences(result))
      return err;
    if (auto err = load_keys(result))
      return err;
    return result;
  }

private:
  caf::error fail(const std::string& what) const {
    return make_error(ec::internal, "sqlite: " + what + " (" +
                                        sqlite3_errmsg(db_.get()) + ")");
  }

  /// The statement in `slot`, prepared on first use and reused after.
  caf::expected<sqlite3_stmt*> prepared(stmt_ptr& slot, std::string_view sql,
                                        const char* what) {
    if (auto* stmt = prepared_once(db_.get(), slot, sql))
      return stmt;
    return fail(std::string{"cannot prepare "} + what);
  }

  /// Steps a statement that returns no rows.
  caf::error step_done(sqlite3_stmt* stmt, const binder& b, const char* what) {
    if (!b.ok())
      return fail(std::string{"cannot bind "} + what);
    if (sqlite3_step(stmt) != SQLITE_DONE)
      return fail(std::string{"cannot "} + what);
    return {};
  }

  /// Runs a parameterless statement such as BEGIN.
  caf::error run(stmt_ptr& slot, const char* sql, const char* what) {
    auto stmt = prepared(slot, sql, what);
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    return step_done(*stmt, binder{*stmt}, what);
  }

  caf::error erase(stmt_ptr& slot, const char* sql, const std::string& id,
                   const char* what) {
    auto stmt = prepared(slot, sql, what);
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.text(id);
    return step_done(*stmt, b, what);
  }

  /// The listing statement of `filter`'s combination of filters, prepared
  /// and bound to `filter`'s texts without a copy (so `filter` must outlive
  /// its steps); the caller resets it.
  caf::expected<sqlite3_stmt*> bound_list(const domain::alert_filter& filter) {
    auto combination = alert_sql::combination_of(filter);
    static const auto sql =
        alert_sql::every_combination(alert_sql::sqlite, alert_sql::list);
    auto stmt = prepared(list_[combination], sql[combination], "list alerts");
    if (!stmt)
      return stmt.error();
    binder b{*stmt};
    alert_sql::bind_filters(filter, [&](auto& text) { b.text(text); });
    // SQLite reads a negative LIMIT as "no limit" and a negative OFFSET as 0.
    b.integer(filter.limit).integer(filter.offset);
    if (!b.ok()) {
      reset_on_exit guard{*stmt};
      return fail("cannot bind list alerts");
    }
    return stmt;
  }

  /// Steps a bound alert query, reading each row into one scratch alert
  /// that `on_row` may copy or move from (it is read over for the next).
  template <class OnRow>
  caf::error each_row(sqlite3_stmt* stmt, const char* what, OnRow&& on_row) {
    domain::alert scratch;
    alert_texts texts;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (auto err =
              read_alert_row_into(sqlite_row{stmt}, texts, "sqlite", scratch))
        return err;
      on_row(scratch);
    }
    if (rc != SQLITE_DONE)
      return fail(std::string{"cannot "} + what);
    return {};
  }

  /// All rows of a bound alert query.
  caf::expected<std::vector<domain::alert>>
  alerts_of(sqlite3_stmt* stmt, const binder& b, const char* what) {
    if (!b.ok())
      return fail(std::string{"cannot bind "} + what);
    return all_rows(stmt, what);
  }

  caf::expected<std::vector<domain::alert>> all_rows(sqlite3_stmt* stmt,
                                                     const char* what) {
    std::vector<domain::alert> result;
    if (auto err = each_row(stmt, what, [&](domain::alert& a) {
          result.push_back(std::move(a));
        }))
      return err;
    return result;
  }

  /// Moves the high-water mark up (never down).
  caf::error raise_mark(uint64_t applied_through) {
    auto stmt = prepared(raise_mark_,
                         "UPDATE meta SET value = MAX(value, ?)"
                         " WHERE key = 'applied_through'",
                         "record the applied mark");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    binder b{*stmt};
    b.integer(static_cast<int64_t>(applied_through));
    return step_done(*stmt, b, "record the applied mark");
  }

  /// Adds notifications to the outbox the delivery worker drains; a repeat
  /// of a stored one (same id, from a journal replay) is skipped.
  caf::error add_notifications(const notifications& notes) {
    if (notes.empty())
      return {};
    auto stmt = prepared(add_note_,
                         "INSERT OR IGNORE INTO notifications"
                         " (id, event_manager_id, body) VALUES (?, ?, ?)",
                         "store notification");
    if (!stmt)
      return stmt.error();
    for (auto& n : notes) {
      auto body = delivery::to_stored(delivery::envelope_of(n));
      reset_on_exit guard{*stmt};
      binder b{*stmt};
      b.text(n.id).text(n.parent->event_manager_id).text(body);
      if (auto err = step_done(*stmt, b, "store notification"))
        return err;
    }
    return {};
  }

  caf::error write_all(const std::vector<domain::alert_write>& writes) {
    static const auto upsert_sql = alert_sql::upsert(alert_sql::sqlite);
    static const auto refresh_sql = alert_sql::refresh(alert_sql::sqlite);
    auto upsert = prepared(upsert_, upsert_sql, "store alert");
    if (!upsert)
      return upsert.error();
    auto refresh = prepared(refresh_, refresh_sql, "store alert");
    if (!refresh)
      return refresh.error();
    for (auto& w : writes) {
      // An alert's first write carries all its events; a later one
      // (a parent gaining a child, a re-trigger) mostly keeps its status,
      // parent and type, and then leaves their indexes alone.
      if (w.event_count_delta != w.snapshot->event_count) {
        auto refreshed = write_one(*refresh, w);
        if (!refreshed)
          return refreshed.error();
        if (*refreshed)
          continue;
      }
      if (auto done = write_one(*upsert, w); !done)
        return done.error();
    }
    return {};
  }

  /// Runs the upsert or the refresh for `w`: whether it changed a row.
  caf::expected<bool> write_one(sqlite3_stmt* stmt,
                                const domain::alert_write& w) {
    reset_on_exit guard{stmt};
    binder b{stmt};
    bind_alert(b, *w.snapshot, w.event_count_delta);
    if (auto err = step_done(stmt, b, "store alert"))
      return err;
    return sqlite3_changes(db_.get()) > 0;
  }

  caf::error load_rules(domain::catalog& out) {
    auto stmt = prepared(load_rules_,
                         "SELECT id, name, grouping_key, time_window_seconds,"
                         " created_at_ms, updated_at_ms, grouping_keys,"
                         " auto_resolve_after_seconds FROM grouping_rules",
                         "load rules");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      domain::grouping_rule r;
      r.id = column_text(*stmt, 0);
      r.name = column_text(*stmt, 1);
      r.grouping_key = column_text(*stmt, 2);
      r.time_window_seconds = sqlite3_column_int64(*stmt, 3);
      r.created_at = domain::from_millis(sqlite3_column_int64(*stmt, 4));
      r.updated_at = domain::from_millis(sqlite3_column_int64(*stmt, 5));
      r.grouping_keys = domain::decode_keys(column_text(*stmt, 6));
      r.auto_resolve_after_seconds = sqlite3_column_int64(*stmt, 7);
      auto id = r.id;
      out.rules.emplace(std::move(id), std::move(r));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot load rules");
    return {};
  }

  caf::error load_managers(domain::catalog& out) {
    auto stmt = prepared(load_managers_,
                         "SELECT id, name, description, grouping_rule_id,"
                         " webhook_url, created_at_ms, updated_at_ms,"
                         " receivers, am_severity, routing_key,"
                         " ack_timeout_seconds, auto_resolve_after_seconds,"
                         " rate_limit, inhibit_rules FROM event_managers",
                         "load event managers");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      domain::event_manager m;
      m.id = column_text(*stmt, 0);
      m.name = column_text(*stmt, 1);
      m.description = column_text(*stmt, 2);
      m.grouping_rule_id = column_text(*stmt, 3);
      m.webhook_url = column_text(*stmt, 4);
      m.created_at = domain::from_millis(sqlite3_column_int64(*stmt, 5));
      m.updated_at = domain::from_millis(sqlite3_column_int64(*stmt, 6));
      auto receivers = delivery::receivers_from_stored(column_text(*stmt, 7));
      if (!receivers)
        return std::move(receivers.error());
      m.receivers = std::move(*receivers);
      auto mapping = domain::decode_severity_mapping(column_text(*stmt, 8));
      if (!mapping)
        return make_error(ec::internal, "event manager '" + m.id +
                                            "' has an unreadable am_severity");
      m.am_severity = std::move(*mapping);
      m.routing_key = column_text(*stmt, 9);
      m.ack_timeout_seconds = sqlite3_column_int64(*stmt, 10);
      m.auto_resolve_after_seconds = sqlite3_column_int64(*stmt, 11);
      if (auto err = domain::restore_rate_limit(m, column_text(*stmt, 12)))
        return err;
      auto rules = domain::decode_inhibit_rules(column_text(*stmt, 13));
      if (!rules)
        return make_error(ec::internal, "event manager '" + m.id +
                                            "' has unreadable inhibit_rules");
      m.inhibit_rules = std::move(*rules);

      auto id = m.id;
      out.managers.emplace(std::move(id), std::move(m));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot load event managers");
    return {};
  }

  caf::error load_silences(domain::catalog& out) {
    auto stmt = prepared(load_silences_,
                         "SELECT id, event_manager_id, matchers, starts_at_ms,"
                         " ends_at_ms, created_by, comment, updated_at_ms,"
                         " schedule FROM silences",
                         "load silences");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      domain::silence s;
      s.id = column_text(*stmt, 0);
      s.event_manager_id = column_text(*stmt, 1);
      auto matchers = domain::decode_matchers(column_text(*stmt, 2));
      if (!matchers)
        return make_error(ec::internal,
                          "silence '" + s.id + "' has unreadable matchers");
      s.matchers = std::move(*matchers);
      s.starts_at = domain::from_millis(sqlite3_column_int64(*stmt, 3));
      s.ends_at = domain::from_millis(sqlite3_column_int64(*stmt, 4));
      s.created_by = column_text(*stmt, 5);
      s.comment = column_text(*stmt, 6);
      s.updated_at = domain::from_millis(sqlite3_column_int64(*stmt, 7));
      auto schedule = domain::decode_schedule(column_text(*stmt, 8));
      if (!schedule)
        return make_error(ec::internal,
                          "silence '" + s.id + "' has an unreadable schedule");
      s.recurrence = std::move(*schedule);
      auto id = s.id;
      out.silences.emplace(std::move(id), std::move(s));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot load silences");
    return {};
  }

  caf::error load_keys(domain::catalog& out) {
    auto stmt = prepared(load_keys_,
                         "SELECT id, prefix, hash, role, managers,"
                         " created_at_ms, expires_at_ms, revoked_at_ms,"
                         " created_by FROM api_keys",
                         "load API keys");
    if (!stmt)
      return stmt.error();
    reset_on_exit guard{*stmt};
    int rc;
    while ((rc = sqlite3_step(*stmt)) == SQLITE_ROW) {
      domain::api_key k;
      k.id = column_text(*stmt, 0);
      k.prefix = column_text(*stmt, 1);
      k.hash = column_text(*stmt, 2);
      auto role = domain::parse_role(column_text(*stmt, 3));
      if (!role)
        return make_error(ec::internal,
                          "API key '" + k.id + "' has an unknown role");
      k.key_role = *role;
      k.managers = domain::decode_keys(column_text(*stmt, 4));
      k.created_at = domain::from_millis(sqlite3_column_int64(*stmt, 5));
      k.expires_at = domain::from_millis(sqlite3_column_int64(*stmt, 6));
      k.revoked_at = domain::from_millis(sqlite3_column_int64(*stmt, 7));
      k.created_by = column_text(*stmt, 8);
      auto id = k.id;
      out.keys.emplace(std::move(id), std::move(k));
    }
    if (rc != SQLITE_DONE)
      return fail("cannot load API keys");
    return {};
  }

  static int count_wal_frames(void* self, sqlite3*, const char*, int frames) {
    static_cast<sqlite_store*>(self)->wal_frames_ = frames;
    return SQLITE_OK;
  }

  /// Runs `body` (returning a caf::error) in one write transaction:
  /// commits what it did, or rolls all of it back if it or the commit
  /// failed. `applied_through` is the journal mark the body records, for
  /// the checkpointer (0: none).
  template <class Body>
  caf::error in_transaction(uint64_t applied_through, Body body) {
    if (auto err = run(begin_, "BEGIN IMMEDIATE", "begin transaction"))
      return err;
    auto err = body();
    if (!err)
      err = run(commit_, "COMMIT", "commit");
    if (err) {
      // A failed COMMIT leaves the transaction open, so roll back then too.
      run(rollback_, "ROLLBACK", "rollback");
      return err;
    }
    after_commit(applied_through);
    return {};
  }

  /// Tells the checkpointer, which empties the WAL here only when it grew
  /// past its bound (`wal_checkpointer::keep_bounded`).
  void after_commit(uint64_t applied_through) {
    checkpointer_->committed(applied_through, wal_frames_);
    if (checkpointer_->keep_bounded(db_.get(), wal_frames_))
      wal_frames_ = 0;
  }

  // Declared before the statements so it is destroyed after them: a
  // connection with unfinalized statements does not close.
  db_ptr db_;
  /// The file, for the delivery worker's own connection.
  std::string path_;
  /// Its own connection; destroyed before `db_` (declared after it), so
  /// the store's connection is the last to close and checkpoints the rest.
  std::unique_ptr<wal_checkpointer> checkpointer_;
  /// The WAL's pages after this connection's last commit.
  int wal_frames_ = 0;
  sqlite_outbox_retention outbox_retention_{db_.get()};
  stmt_ptr begin_;
  stmt_ptr commit_;
  stmt_ptr rollback_;
  stmt_ptr upsert_;
  stmt_ptr refresh_;
  stmt_ptr add_note_;
  /// By filter combination (`alert_sql::combination_of`).
  std::array<stmt_ptr, alert_sql::combinations> list_;
  std::array<stmt_ptr, alert_sql::combinations> count_of_;
  stmt_ptr by_key_one_;
  stmt_ptr by_key_all_;
  stmt_ptr children_;
  stmt_ptr active_all_;
  stmt_ptr active_some_;
  stmt_ptr open_work_;
  stmt_ptr raise_mark_;
  stmt_ptr read_mark_;
  stmt_ptr applied_after_;
  stmt_ptr active_children_;
  stmt_ptr count_;
  stmt_ptr put_rule_;
  stmt_ptr put_manager_;
  stmt_ptr erase_rule_;
  stmt_ptr erase_manager_;
  stmt_ptr drop_resolved_;
  stmt_ptr load_rules_;
  stmt_ptr load_managers_;
  stmt_ptr put_silence_;
  stmt_ptr load_silences_;
  stmt_ptr put_key_;
  stmt_ptr load_keys_;
  stmt_ptr append_audit_;
  stmt_ptr read_audit_;
};

caf::error exec(sqlite3* db, const std::string& sql, const std::string& what) {
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return make_error(ec::internal,
                      "sqlite: " + what + " (" + sqlite3_errmsg(db) + ")");
  return {};
}

caf::expected<int> schema_version(sqlite3* db, const std::string& path) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &raw, nullptr) !=
      SQLITE_OK)
    return make_error(ec::internal, "sqlite: cannot read schema version of " +
                                        path + " (" + sqlite3_errmsg(db) + ")");
  stmt_ptr stmt{raw};
  if (sqlite3_step(raw) != SQLITE_ROW)
    return make_error(ec::internal, "sqlite: cannot read schema version of " +
                                        path + " (" + sqlite3_errmsg(db) + ")");
  return sqlite3_column_int(raw, 0);
}

/// Brings the file to `latest_version`, one step per transaction. The
/// version is read inside the write transaction so two processes opening a
/// new file at once cannot both apply the same step.
caf::error migrate(sqlite3* db, const std::string& path) {
  for (;;) {
    if (auto err = exec(db, "BEGIN IMMEDIATE", "cannot lock " + path))
      return err;
    auto version = schema_version(db, path);
    caf::error err;
    if (!version) {
      err = version.error();
    } else if (*version > latest_version) {
      err =
          make_error(ec::internal, "sqlite: " + path + " has schema version " +
                                       std::to_string(*version) +
                                       ", newer than this build knows (" +
                                       std::to_string(latest_version) + ")");
    } else if (*version == latest_version) {
      // Nothing to do; COMMIT just ends the read.
      err = exec(db, "COMMIT", "cannot commit " + path);
      if (!err)
        return {};
    } else {
      auto target = std::to_string(*version + 1);
      err = exec(db, migrations[*version],
                 "cannot migrate " + path + " to schema version " + target);
      if (!err)
        err = exec(db, "PRAGMA user_version = " + target,
                   "cannot set schema version of " + path);
      if (!err)
        err = exec(db, "COMMIT", "cannot commit " + path);
    }
    if (err) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return err;
    }
  }
}

} // namespace

caf::expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path,
                                                        size_t cache_mb) {
  auto folder = std::filesystem::path{path}.parent_path();
  if (!folder.empty()) {
    std::error_code err;
    std::filesystem::create_directories(folder, err);
    if (err)
      return make_error(ec::internal, "sqlite: cannot create folder " +
                                          folder.string() + " for " + path +
                                          " (" + err.message() + ")");
  }
  sqlite3* raw = nullptr;
  // NOMUTEX: only the repository actor touches the connection, one message
  // at a time, so SQLite's own locking would be pure overhead.
  auto rc = sqlite3_open_v2(path.c_str(), &raw,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                SQLITE_OPEN_NOMUTEX,
                            nullptr);
  db_ptr db{raw};
  if (rc != SQLITE_OK)
    return make_error(ec::internal,
                      "sqlite: cannot open " + path + " (" +
                          (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)) +
                          ")");
  // WAL lets readers (e.g. a backup) run beside the writer; NORMAL syncs
  // only at checkpoints, which in WAL mode can lose the last commits on
  // power loss but never corrupts the file. So the journal is trimmed only
  // through what a checkpoint synced (`durable_through`).
  std::string pragmas = "PRAGMA journal_mode = WAL;"
                        "PRAGMA synchronous = NORMAL;"
                        "PRAGMA foreign_keys = ON;";
  if (cache_mb > 0) // negative: a size in KiB rather than in pages
    pragmas += "PRAGMA cache_size = -" + std::to_string(cache_mb * 1024) + ";";
  if (auto err = exec(db.get(), pragmas, "cannot configure " + path))
    return err;
  wait_out_other_writers(db.get());
  if (auto err = migrate(db.get(), path))
    return err;
  auto checkpointer =
      wal_checkpointer::open(path, std::chrono::milliseconds{1000});
  if (!checkpointer)
    return checkpointer.error();
  std::unique_ptr<store> result = std::make_unique<sqlite_store>(
      std::move(db), path, std::move(*checkpointer));
  return result;
}

} // namespace argus::storage
