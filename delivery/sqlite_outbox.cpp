#include "delivery/sql_outbox.hpp"

#include "domain/error.hpp"
#include "storage/sqlite_busy.hpp"
#include "storage/sqlite_parent_check.hpp"
#include "storage/sqlite_statement.hpp"

#include <sqlite3.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace argus::delivery {

namespace {

struct db_closer {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};

using storage::reset_on_exit;
using storage::stmt_ptr;

constexpr const char* delivery_columns =
    "notification_id, receiver, event_manager_id, grp, kind, seq, state,"
    " attempts, last_error, created_at_ms, next_attempt_at_ms, updated_at_ms";

/// The outbox over its own connection to the SQLite file the storage
/// writes: WAL lets the worker read and update while the repository
/// writes, and `storage::wait_out_other_writers` waits out the other
/// writer's transactions.
class sqlite_outbox : public outbox {
public:
  explicit sqlite_outbox(sqlite3* db) : db_(db) {}

  caf::expected<std::vector<shared_entry>> unfanned(size_t limit) override {
    auto s = prepare("SELECT seq, event_manager_id, body FROM notifications"
                     " WHERE fanned_out = 0 ORDER BY seq LIMIT ?");
    if (!s)
      return s.error();
    reset_on_exit s_reset{*s};
    sqlite3_bind_int64(*s, 1, static_cast<int64_t>(limit));
    return share(entries(*s));
  }

  caf::error fan_out(const std::vector<std::string>& ids,
                     const std::vector<domain::delivery>& rows) override {
    return in_transaction([&]() -> caf::error {
      auto ins =
          prepare(std::string{"INSERT OR IGNORE INTO deliveries ("} +
                  delivery_columns + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
      if (!ins)
        return ins.error();
      reset_on_exit ins_reset{*ins};
      for (auto& row : rows) {
        bind_delivery(*ins, row);
        if (auto err = step_done(*ins))
          return err;
      }
      auto mark =
          prepare("UPDATE notifications SET fanned_out = 1 WHERE id = ?");
      if (!mark)
        return mark.error();
      reset_on_exit mark_reset{*mark};
      for (auto& id : ids) {
        sqlite3_bind_text(*mark, 1, id.data(), static_cast<int>(id.size()),
                          SQLITE_TRANSIENT);
        if (auto err = step_done(*mark))
          return err;
      }
      return {};
    });
  }

  caf::expected<std::vector<domain::delivery>> pending(size_t limit) override {
    auto s = prepare(std::string{"SELECT "} + delivery_columns +
                     " FROM deliveries WHERE state = 'pending'"
                     " ORDER BY seq, receiver LIMIT ?");
    if (!s)
      return s.error();
    reset_on_exit s_reset{*s};
    sqlite3_bind_int64(*s, 1, static_cast<int64_t>(limit));
    return deliveries(*s);
  }

  caf::error update(const std::vector<domain::delivery>& rows) override {
    return in_transaction([&]() -> caf::error {
      auto s = prepare("UPDATE deliveries SET state = ?, attempts = ?,"
                       " last_error = ?, created_at_ms = ?,"
                       " next_attempt_at_ms = ?, updated_at_ms = ?"
                       " WHERE notification_id = ? AND receiver = ?");
      if (!s)
        return s.error();
      reset_on_exit s_reset{*s};
      for (auto& d : rows) {
        auto* st = *s;
        auto state = domain::to_string(d.state);
        sqlite3_bind_text(st, 1, state.data(), static_cast<int>(state.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, d.attempts);
        sqlite3_bind_text(st, 3, d.last_error.data(),
                          static_cast<int>(d.last_error.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, domain::to_millis(d.created_at));
        sqlite3_bind_int64(st, 5, domain::to_millis(d.next_attempt_at));
        sqlite3_bind_int64(st, 6, domain::to_millis(d.updated_at));
        sqlite3_bind_text(st, 7, d.notification_id.data(),
                          static_cast<int>(d.notification_id.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 8, d.receiver.data(),
                          static_cast<int>(d.receiver.size()),
                          SQLITE_TRANSIENT);
        if (auto err = step_done(st))
          return err;
      }
      return {};
    });
  }

  caf::expected<outbox_entry> entry(const std::string& id) override {
    auto s = prepare(
        "SELECT seq, event_manager_id, body FROM notifications WHERE id = ?");
    if (!s)
      return s.error();
    reset_on_exit s_reset{*s};
    sqlite3_bind_text(*s, 1, id.data(), static_cast<int>(id.size()),
                      SQLITE_TRANSIENT);
    auto found = entries(*s);
    if (!found)
      return found.error();
    if (found->empty())
      return make_error(ec::not_found, "no notification " + id);
    return std::move(found->front());
  }

  caf::expected<std::vector<domain::delivery>>
  list(const delivery_filter& f) override {
    auto s = prepare(std::string{"SELECT "} + delivery_columns +
                     " FROM deliveries WHERE (?1 = '' OR state = ?1)"
                     " AND (?2 = '' OR receiver = ?2)"
                     " ORDER BY seq DESC, receiver LIMIT ?3");
    if (!s)
      return s.error();
    reset_on_exit s_reset{*s};
    sqlite3_bind_text(*s, 1, f.state.data(), static_cast<int>(f.state.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(*s, 2, f.receiver.data(),
                      static_cast<int>(f.receiver.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(*s, 3, f.limit);
    return deliveries(*s);
  }

  caf::expected<std::vector<outbox_entry>> latest(size_t limit) override {
    auto s = prepare("SELECT seq, event_manager_id, body FROM notifications"
                     " ORDER BY seq DESC LIMIT ?");
    if (!s)
      return s.error();
    reset_on_exit s_reset{*s};
    sqlite3_bind_int64(*s, 1, static_cast<int64_t>(limit));
    return entries(*s);
  }

  caf::expected<std::vector<domain::delivery>>
  deliveries_of(const std::string& id) override {
    auto s = prepare(std::string{"SELECT "} + delivery_columns +
                     " FROM deliveries WHERE notification_id = ?"
                     " ORDER BY receiver");
    if (!s)
      return s.error();
    reset_on_exit s_reset{*s};
    sqlite3_bind_text(*s, 1, id.data(), static_cast<int>(id.size()),
                      SQLITE_TRANSIENT);
    return deliveries(*s);
  }

  caf::expected<std::vector<outbox_entry>> held_openings() override {
    // deliveries_by_state finds the suppressed rows; a notification's seq
    // is its deliveries' seq, the release is looked up by its id, and the
    // parent by the key the body names. json_extract cuts a text short at
    // a NUL byte: a key with one is not matched there, so a body with
    // "\u0000" anywhere passes too, and every row whose body has it gets
    // its parent looked up again below, with the key as the body has it.
    // A body parsed once into an array of both keys, to test the key
    // itself, cost 1.5x (100,000 held openings: 685 against 441 ms); this
    // costs nothing measurable (447 against 454: SQLite tests the body
    // only when the lookup before it fails).
    auto s = prepare(
        "SELECT seq, event_manager_id, body FROM notifications n"
        " WHERE seq IN (SELECT seq FROM deliveries WHERE state = 'suppressed'"
        " AND kind = 'parent_opened') AND NOT EXISTS (SELECT 1 FROM"
        " notifications r WHERE r.id = n.id || ?) AND (EXISTS (SELECT 1 FROM"
        " alerts a WHERE a.event_manager_id = n.event_manager_id"
        " AND a.dedup_key = json_extract(n.body, '$.parent.dedup_key')"
        " AND a.id = json_extract(n.body, '$.parent.id')"
        " AND a.status = 'active') OR instr(n.body, '\\u0000') > 0)"
        " ORDER BY seq DESC");
    if (!s)
      return s.error();
    reset_on_exit s_reset{*s};
    sqlite3_bind_text(*s, 1, released_suffix.data(),
                      static_cast<int>(released_suffix.size()), SQLITE_STATIC);
    std::vector<outbox_entry> out;
    int rc;
    while ((rc = sqlite3_step(*s)) == SQLITE_ROW) {
      auto entry = entry_at(*s);
      if (!entry)
        return entry.error();
      auto& parent = *entry->env.parent;
      if (storage::may_hold_nul(text_view(*s, 2))) {
        auto active = storage::parent_is_active(
            db_.get(), parent_check_, entry->event_manager_id,
            parent.dedup_key.view(), parent.id.str());
        if (!active)
          return active.error();
        if (!*active)
          continue;
      }
      out.push_back(std::move(*entry));
    }
    if (rc != SQLITE_DONE)
      return failure("read");
    return out;
  }

private:
  caf::error failure(const std::string& what) {
    return make_error(ec::internal, "sqlite outbox: " + what + ": " +
                                        sqlite3_errmsg(db_.get()));
  }

  /// The statement for `sql`, prepared on its first use and kept: the
  /// worker runs the same few for every notification, and parsing them
  /// again each time was a few percent of a SQLite node's CPU. Each use
  /// holds a `reset_on_exit`, so the next starts clean.
  caf::expected<sqlite3_stmt*> prepare(const std::string& sql) {
    if (auto* s = storage::prepared_once(db_.get(), statements_[sql], sql))
      return s;
    return failure("prepare");
  }

  caf::error step_done(sqlite3_stmt* s) {
    auto rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc == SQLITE_DONE ? caf::error{} : failure("write");
  }

  /// Runs a cached statement without parameters or rows, such as BEGIN.
  bool run(const std::string& sql) {
    auto s = prepare(sql);
    if (!s)
      return false;
    reset_on_exit s_reset{*s};
    return sqlite3_step(*s) == SQLITE_DONE;
  }

  template <class F>
  caf::error in_transaction(F body) {
    if (!run("BEGIN IMMEDIATE"))
      return failure("begin");
    auto err = body();
    if (!run(err ? "ROLLBACK" : "COMMIT") && !err)
      return failure("commit");
    return err;
  }

  static std::string_view text_view(sqlite3_stmt* s, int col) {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return p ? std::string_view{p, static_cast<size_t>(
                                       sqlite3_column_bytes(s, col))}
             : std::string_view{};
  }

  static std::string text(sqlite3_stmt* s, int col) {
    return std::string{text_view(s, col)};
  }

  /// The entry in the current row of `s` (seq, manager, body).
  static caf::expected<outbox_entry> entry_at(sqlite3_stmt* s) {
    auto env = envelope_from_stored(text(s, 2));
    if (!env)
      return env.error();
    return outbox_entry{static_cast<uint64_t>(sqlite3_column_int64(s, 0)),
                        text(s, 1), std::move(*env)};
  }

  caf::expected<std::vector<outbox_entry>> entries(sqlite3_stmt* s) {
    std::vector<outbox_entry> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto entry = entry_at(s);
      if (!entry)
        return entry.error();
      out.push_back(std::move(*entry));
    }
    return rc == SQLITE_DONE ? caf::expected<std::vector<outbox_entry>>{out}
                             : failure("read");
  }

  caf::expected<std::vector<domain::delivery>> deliveries(sqlite3_stmt* s) {
    std::vector<domain::delivery> out;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      sql_delivery_row row;
      for (int i = 0; i < 5; ++i)
        row.text[i] = text(s, i);
      row.state = text(s, 6);
      row.last_error = text(s, 8);
      row.seq = sqlite3_column_int64(s, 5);
      row.attempts = sqlite3_column_int64(s, 7);
      row.created_at_ms = sqlite3_column_int64(s, 9);
      row.next_attempt_at_ms = sqlite3_column_int64(s, 10);
      row.updated_at_ms = sqlite3_column_int64(s, 11);
      out.push_back(to_delivery(row));
    }
    if (rc != SQLITE_DONE)
      return failure("read");
    return out;
  }

  void bind_delivery(sqlite3_stmt* s, const domain::delivery& d) {
    auto kind = std::string{domain::to_string(d.kind)};
    auto state = std::string{domain::to_string(d.state)};
    const std::string* texts[] = {&d.notification_id, &d.receiver,
                                  &d.event_manager_id, &d.group, &kind};
    for (int i = 0; i < 5; ++i)
      sqlite3_bind_text(s, i + 1, texts[i]->data(),
                        static_cast<int>(texts[i]->size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 6, static_cast<int64_t>(d.seq));
    sqlite3_bind_text(s, 7, state.data(), static_cast<int>(state.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 8, d.attempts);
    sqlite3_bind_text(s, 9, d.last_error.data(),
                      static_cast<int>(d.last_error.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 10, domain::to_millis(d.created_at));
    sqlite3_bind_int64(s, 11, domain::to_millis(d.next_attempt_at));
    sqlite3_bind_int64(s, 12, domain::to_millis(d.updated_at));
  }

  // Declared first, so destroyed last: statements are finalized before
  // their connection closes.
  std::unique_ptr<sqlite3, db_closer> db_;
  std::unordered_map<std::string, stmt_ptr> statements_;
  stmt_ptr parent_check_;
};

} // namespace

domain::delivery to_delivery(const sql_delivery_row& row) {
  domain::delivery d;
  d.notification_id = row.text[0];
  d.receiver = row.text[1];
  d.event_manager_id = row.text[2];
  d.group = row.text[3];
  d.kind = domain::parse_notification_kind(row.text[4])
               .value_or(domain::notification_kind::parent_opened);
  d.seq = static_cast<uint64_t>(row.seq);
  d.state = domain::parse_delivery_state(row.state).value_or(
      domain::delivery_state::failed);
  d.attempts = static_cast<int32_t>(row.attempts);
  d.last_error = row.last_error;
  d.created_at = domain::from_millis(row.created_at_ms);
  d.next_attempt_at = domain::from_millis(row.next_attempt_at_ms);
  d.updated_at = domain::from_millis(row.updated_at_ms);
  return d;
}

caf::expected<std::unique_ptr<outbox>>
open_sqlite_outbox(const std::string& path) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, db_closer> guard{db};
  if (rc != SQLITE_OK)
    return make_error(ec::internal,
                      "sqlite outbox: cannot open " + path + ": " +
                          (db ? sqlite3_errmsg(db) : "out of memory"));
  // As the store's connection: NORMAL syncs at WAL checkpoints, not at every
  // commit. A delivery state lost to a power cut means a repeat delivery
  // (with the same id), never a lost notification: those are written by the
  // store's connection with the alert change. FULL cost an fsync per
  // delivery and held the worker to a few hundred per second.
  // The store's checkpointer checkpoints the WAL this connection writes to
  // (`storage::wal_checkpointer`); the worker does not copy pages itself.
  sqlite3_exec(db,
               "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
               nullptr, nullptr, nullptr);
  storage::wait_out_other_writers(db);
  return std::unique_ptr<outbox>{new sqlite_outbox(guard.release())};
}

} // namespace argus::delivery
