#include "storage/postgres_outbox.hpp"

#include "delivery/sql_outbox.hpp"
#include "domain/error.hpp"
#include "storage/postgres.hpp"
#include "storage/postgres_writes.hpp"

namespace argus::storage {

namespace {

using pg::params;
using pg::statement;

#define ARGUS_DELIVERY_COLUMNS                                                 \
  "notification_id, receiver, event_manager_id, grp, kind, seq, state,"        \
  " attempts, last_error, created_at_ms, next_attempt_at_ms, updated_at_ms"

struct statements {
  statement unfanned{"argus_outbox_unfanned",
                     "SELECT seq, event_manager_id, body FROM notifications"
                     " WHERE owner = $1 AND NOT fanned_out"
                     " ORDER BY seq LIMIT $2"};
  statement add_delivery{"argus_outbox_add_delivery",
                         "INSERT INTO deliveries (" ARGUS_DELIVERY_COLUMNS
                         ", owner) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,"
                         " $9, $10, $11, $12, $13)"
                         " ON CONFLICT (notification_id, receiver) DO NOTHING"};
  statement mark_fanned{"argus_outbox_mark_fanned",
                        "UPDATE notifications SET fanned_out = true"
                        " WHERE id = $1"};
  statement pending{"argus_outbox_pending",
                    "SELECT " ARGUS_DELIVERY_COLUMNS
                    " FROM deliveries WHERE owner = $1 AND state = 'pending'"
                    " ORDER BY seq, receiver LIMIT $2"};
  statement update{"argus_outbox_update",
                   "UPDATE deliveries SET state = $1, attempts = $2,"
                   " last_error = $3, created_at_ms = $4,"
                   " next_attempt_at_ms = $5, updated_at_ms = $6"
                   " WHERE notification_id = $7 AND receiver = $8"};
  statement entry{"argus_outbox_entry",
                  "SELECT seq, event_manager_id, body FROM notifications"
                  " WHERE id = $1"};
  statement list{"argus_outbox_list",
                 "SELECT " ARGUS_DELIVERY_COLUMNS
                 " FROM deliveries WHERE ($1 = '' OR state = $1)"
                 " AND ($2 = '' OR receiver = $2)"
                 " ORDER BY seq DESC, receiver LIMIT $3"};
  statement deliveries_of{"argus_outbox_deliveries_of",
                          "SELECT " ARGUS_DELIVERY_COLUMNS
                          " FROM deliveries WHERE notification_id = $1"
                          " ORDER BY receiver"};
  statement latest{"argus_outbox_latest",
                   "SELECT seq, event_manager_id, body FROM notifications"
                   " ORDER BY seq DESC LIMIT $1"};
  // deliveries_held (a partial index) finds the suppressed openings; a
  // notification's seq is its deliveries' seq, the release is looked up by
  // its id, and the parent by the key the body names (its body read once,
  // in a materialized window). The parent's row is found by its key alone
  // and its status tested after, as in retention's window: with the
  // status among the conditions the server may hash every active alert. A
  // key it cannot read passes, for `held_openings` to look its parent up.
  statement held{
      "argus_outbox_held",
      "WITH h AS MATERIALIZED (SELECT seq, event_manager_id, " +
          pg::readable_jsonb("body") +
          " -> 'parent' AS p FROM notifications n WHERE seq IN (SELECT seq"
          " FROM deliveries WHERE state = 'suppressed'"
          " AND kind = 'parent_opened') AND NOT EXISTS (SELECT 1 FROM"
          " notifications r WHERE r.id = n.id || $1))"
          " SELECT h.seq, h.event_manager_id, n.body"
          " FROM h JOIN notifications n ON n.seq = h.seq WHERE " +
          pg::parent_key_unreadable("p") +
          " OR COALESCE((SELECT a.status = 'active' AND a.id = p ->> 'id'"
          " FROM alerts a WHERE a.event_manager_id = h.event_manager_id"
          " AND a.dedup_key = p ->> 'dedup_key'), false) ORDER BY h.seq DESC"};
  statement parent_active{"argus_outbox_parent_active",
                          "SELECT 1 FROM alerts WHERE event_manager_id = $1"
                          " AND dedup_key = $2 AND id = $3"
                          " AND status = 'active'"};
};

#undef ARGUS_DELIVERY_COLUMNS

const statements& sql() {
  static const statements instance;
  return instance;
}

class postgres_outbox final : public delivery::outbox {
public:
  postgres_outbox(std::unique_ptr<pg::connection> conn, std::string owner)
      : conn_(std::move(conn)), owner_(std::move(owner)) {}

  caf::expected<std::vector<delivery::shared_entry>>
  unfanned(size_t limit) override {
    params p;
    p.text(owner_).integer(static_cast<int64_t>(limit));
    return delivery::share(
        entries(conn_->run(sql().unfanned, p, "read the outbox")));
  }

  caf::error fan_out(const std::vector<std::string>& ids,
                     const std::vector<domain::delivery>& rows) override {
    std::vector<pg::step> steps;
    steps.reserve(rows.size() + ids.size());
    for (auto& row : rows)
      steps.push_back({&sql().add_delivery, delivery_params(row)});
    for (auto& id : ids) {
      params p;
      p.text(id);
      steps.push_back({&sql().mark_fanned, std::move(p)});
    }
    return in_transaction(steps, "fan notifications out");
  }

  caf::expected<std::vector<domain::delivery>> pending(size_t limit) override {
    params p;
    p.text(owner_).integer(static_cast<int64_t>(limit));
    return deliveries(conn_->run(sql().pending, p, "read pending deliveries"));
  }

  caf::error update(const std::vector<domain::delivery>& rows) override {
    std::vector<pg::step> steps;
    for (auto& d : rows) {
      params p;
      p.text(domain::to_string(d.state))
          .integer(d.attempts)
          .text(d.last_error)
          .integer(domain::to_millis(d.created_at))
          .integer(domain::to_millis(d.next_attempt_at))
          .integer(domain::to_millis(d.updated_at))
          .text(d.notification_id)
          .text(d.receiver);
      steps.push_back({&sql().update, std::move(p)});
    }
    return in_transaction(steps, "store delivery states");
  }

  caf::expected<delivery::outbox_entry> entry(const std::string& id) override {
    params p;
    p.text(id);
    auto found = entries(conn_->run(sql().entry, p, "read a notification"));
    if (!found)
      return found.error();
    if (found->empty())
      return make_error(ec::not_found, "no notification " + id);
    return std::move(found->front());
  }

  caf::expected<std::vector<domain::delivery>>
  list(const delivery::delivery_filter& f) override {
    params p;
    p.text(f.state).text(f.receiver).integer(f.limit);
    return deliveries(conn_->run(sql().list, p, "list deliveries"));
  }

  caf::expected<std::vector<domain::delivery>>
  deliveries_of(const std::string& id) override {
    params p;
    p.text(id);
    return deliveries(
        conn_->run(sql().deliveries_of, p, "read a notification's deliveries"));
  }

  caf::expected<std::vector<delivery::outbox_entry>>
  latest(size_t limit) override {
    params p;
    p.integer(static_cast<int64_t>(limit));
    return entries(conn_->run(sql().latest, p, "list notifications"));
  }

  caf::expected<std::vector<delivery::outbox_entry>> held_openings() override {
    params p;
    p.text(delivery::released_suffix);
    auto rows = conn_->run(sql().held, p, "read held openings");
    if (!rows)
      return std::move(rows.error());
    std::vector<delivery::outbox_entry> out;
    auto* r = rows->get();
    for (int i = 0, n = PQntuples(r); i < n; ++i) {
      auto entry = entry_at(r, i);
      if (!entry)
        return entry.error();
      auto& parent = *entry->env.parent;
      if (pg::key_may_read_otherwise(parent.dedup_key.view())) {
        auto active =
            pg::parent_is_active(*conn_, entry->event_manager_id,
                                 parent.dedup_key.view(), parent.id.str());
        if (!active)
          return active.error();
        if (!*active)
          continue;
      }
      out.push_back(std::move(*entry));
    }
    return out;
  }

private:
  params delivery_params(const domain::delivery& d) {
    params p;
    p.text(d.notification_id)
        .text(d.receiver)
        .text(d.event_manager_id)
        .text(d.group)
        .text(domain::to_string(d.kind))
        .integer(static_cast<int64_t>(d.seq))
        .text(domain::to_string(d.state))
        .integer(d.attempts)
        .text(d.last_error)
        .integer(domain::to_millis(d.created_at))
        .integer(domain::to_millis(d.next_attempt_at))
        .integer(domain::to_millis(d.updated_at))
        .text(owner_);
    return p;
  }

  /// Runs `steps` as a transaction of the owner. Each is an insert that
  /// skips what is there or an update to given values, so running them
  /// twice changes nothing more than once.
  caf::error in_transaction(const std::vector<pg::step>& steps,
                            std::string_view what) {
    if (steps.empty())
      return {};
    return conn_->transaction(steps, what, true);
  }

  /// The entry in row `i` of `r` (seq, manager, body).
  static caf::expected<delivery::outbox_entry> entry_at(const PGresult* r,
                                                        int i) {
    auto env = delivery::envelope_from_stored(pg::text_at(r, i, 2));
    if (!env)
      return env.error();
    return delivery::outbox_entry{
        static_cast<uint64_t>(pg::integer_at(r, i, 0)), pg::text_at(r, i, 1),
        std::move(*env)};
  }

  static caf::expected<std::vector<delivery::outbox_entry>>
  entries(caf::expected<pg::result_ptr> res) {
    if (!res)
      return std::move(res.error());
    std::vector<delivery::outbox_entry> out;
    auto* r = res->get();
    for (int i = 0, n = PQntuples(r); i < n; ++i) {
      auto entry = entry_at(r, i);
      if (!entry)
        return entry.error();
      out.push_back(std::move(*entry));
    }
    return out;
  }

  static caf::expected<std::vector<domain::delivery>>
  deliveries(caf::expected<pg::result_ptr> res) {
    if (!res)
      return std::move(res.error());
    std::vector<domain::delivery> out;
    auto* r = res->get();
    for (int i = 0, n = PQntuples(r); i < n; ++i) {
      delivery::sql_delivery_row row;
      for (int c = 0; c < 5; ++c)
        row.text[c] = pg::text_at(r, i, c);
      row.seq = pg::integer_at(r, i, 5);
      row.state = pg::text_at(r, i, 6);
      row.attempts = pg::integer_at(r, i, 7);
      row.last_error = pg::text_at(r, i, 8);
      row.created_at_ms = pg::integer_at(r, i, 9);
      row.next_attempt_at_ms = pg::integer_at(r, i, 10);
      row.updated_at_ms = pg::integer_at(r, i, 11);
      out.push_back(delivery::to_delivery(row));
    }
    return out;
  }

  std::unique_ptr<pg::connection> conn_;
  std::string owner_;
};

} // namespace

caf::expected<std::unique_ptr<delivery::outbox>>
open_postgres_outbox(const std::string& dsn, const std::string& owner) {
  auto conn = pg::open(dsn);
  if (!conn)
    return std::move(conn.error());
  // The owner is the writer (its journal id): see postgres_writes.hpp.
  if (auto err = pg::hold_writer_lock(**conn, owner))
    return err;
  return std::unique_ptr<delivery::outbox>{
      new postgres_outbox(std::move(*conn), owner)};
}

namespace pg {

bool key_may_read_otherwise(std::string_view key) {
  return key.find_first_of(std::string_view{"\0\1\\", 3}) !=
         std::string_view::npos;
}

std::string parent_key_unreadable(std::string_view parent) {
  return "strpos((" + std::string{parent} + " -> 'dedup_key')::text, " +
         "'\\u0001') > 0";
}

caf::expected<bool> parent_is_active(connection& conn, std::string_view manager,
                                     std::string_view dedup_key,
                                     std::string_view id) {
  params p;
  p.text(manager).text(dedup_key).text(id);
  auto found =
      conn.run(sql().parent_active, p, "look up a notification's parent");
  if (!found)
    return std::move(found.error());
  return PQntuples(found->get()) > 0;
}

} // namespace pg

} // namespace argus::storage
