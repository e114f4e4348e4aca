#include "storage/postgres_outbox_retention.hpp"

#include "domain/retention.hpp"
#include "storage/outbox_parent.hpp"
#include "storage/postgres_outbox.hpp"

#include <cstdlib>

namespace argus::storage::pg {

namespace {

// The facts `domain::drops_notification` needs of the next notifications in
// outbox order. The body is read as jsonb, parsed once where json is
// parsed again by each operator (26 against 48 ms for 2,000 in psql on
// the benchmark's tables), and as `readable_jsonb`: one body with "\u0000"
// would otherwise fail every step after it. A parent key with a NUL or
// 0x01 byte ("\u0001" in it then) cannot be compared there: its fourth
// column is NULL, and when the parent decides (`domain::parent_decides`)
// it is looked up with the key as the body has it (`parent_is_active`).
// Notifications not fanned out yet are skipped before their body is read. The
// parent's row is found by its key alone and its status tested after: with the
// status among the conditions the server's generic plan hashed every active
// alert (alerts_by_status) at each step, 60 ms a step of 500 against 9.
const statement window{
    "argus_outbox_retention_window",
    "WITH w AS MATERIALIZED (SELECT seq, event_manager_id, fanned_out, " +
        readable_jsonb("body") +
        " AS b FROM notifications WHERE fanned_out AND seq > $1"
        " ORDER BY seq LIMIT $2)"
        " SELECT seq, (b ->> 'at_ms')::bigint < $3, fanned_out,"
        " CASE WHEN " +
        parent_key_unreadable("b -> 'parent'") +
        " THEN NULL ELSE COALESCE((SELECT a.status = 'active'"
        " AND a.id = b -> 'parent' ->> 'id' FROM alerts a"
        " WHERE a.event_manager_id = w.event_manager_id"
        " AND a.dedup_key = b -> 'parent' ->> 'dedup_key'), false) END,"
        " EXISTS (SELECT 1 FROM deliveries d"
        " WHERE d.seq = w.seq AND d.state = 'pending')"
        " FROM w ORDER BY seq"};

// The body and manager of a notification whose parent key the window
// could not read.
const statement body{"argus_outbox_retention_body",
                     "SELECT body, event_manager_id FROM notifications"
                     " WHERE seq = $1"};

// One statement. It locks the deliveries of the notifications the window
// chose in (seq, receiver) order, the order the worker's, a retry's and a
// takeover's updates lock them in, so neither they nor another node's
// step deadlock with it. A locked row reads as its latest version: a
// retry that made a delivery pending since the window's read, or while
// this waited, keeps that notification whole, with every delivery it has
// (its history as the listing shows it). A notification goes only if
// every delivery it had when the statement began went with it. A row
// another node deleted first is skipped; where the two took a
// notification's deliveries between them neither deletes it, and the
// next pass does. The seqs are joined, not tested with "= ANY(array)":
// that compares each row with every element, and the planner chose it
// over a scan of all deliveries (1.8 s a step with 30,000 of them). The
// bounds of the window keep every part an index range whatever plan the
// server cached while the tables were small.
const statement erase{
    "argus_outbox_retention_erase",
    "WITH g AS (SELECT unnest($1::text::bigint[]) AS seq),"
    " locked AS (SELECT s.seq, s.receiver, s.state FROM deliveries s"
    " JOIN g ON s.seq = g.seq WHERE s.seq BETWEEN $2 AND $3"
    " ORDER BY s.seq, s.receiver FOR UPDATE OF s),"
    " retried AS (SELECT DISTINCT seq FROM locked WHERE state = 'pending'),"
    " d AS (DELETE FROM deliveries USING locked"
    " WHERE deliveries.seq = locked.seq"
    " AND deliveries.receiver = locked.receiver"
    " AND deliveries.seq BETWEEN $2 AND $3"
    " AND locked.seq NOT IN (SELECT seq FROM retried)"
    " RETURNING deliveries.seq),"
    " deleted AS (SELECT seq, count(*) AS n FROM d GROUP BY seq),"
    " had AS (SELECT s.seq, count(*) AS n FROM deliveries s JOIN g"
    " ON s.seq = g.seq WHERE s.seq BETWEEN $2 AND $3 GROUP BY s.seq)"
    " DELETE FROM notifications USING g LEFT JOIN had ON had.seq = g.seq"
    " LEFT JOIN deleted ON deleted.seq = g.seq"
    " WHERE notifications.seq = g.seq AND notifications.seq BETWEEN $2 AND $3"
    " AND COALESCE(had.n, 0) = COALESCE(deleted.n, 0)"};

/// Whether the parent of notification `seq` is active, looked up with its
/// key as the body has it. A body that does not read counts as active: its
/// notification stays (a failed step would fail at every pass after it,
/// and no notification after it would ever go).
caf::expected<bool> parent_active_at(connection& conn, uint64_t seq) {
  params p;
  p.integer(static_cast<int64_t>(seq));
  auto row = conn.run(body, p, "read a notification's body");
  if (!row)
    return std::move(row.error());
  if (PQntuples(row->get()) == 0)
    return true; // gone since the window: nothing to delete either
  auto parent = parent_named_in(text_at(row->get(), 0, 0), seq);
  if (!parent)
    return true;
  return parent_is_active(conn, text_at(row->get(), 0, 1), parent->dedup_key,
                          parent->id);
}

} // namespace

caf::expected<store::dropped_notifications>
drop_notifications(connection& conn, domain::time_point cutoff, uint64_t after,
                   size_t at_most) {
  params p;
  p.integer(static_cast<int64_t>(after))
      .integer(static_cast<int64_t>(at_most))
      .integer(domain::to_millis(cutoff));
  auto rows = conn.run(window, p, "read the outbox past retention");
  if (!rows)
    return std::move(rows.error());
  store::dropped_notifications result;
  result.last_seq = after;
  std::vector<uint64_t> gone;
  auto looked_at = PQntuples(rows->get());
  bool all_old = true;
  for (int i = 0; i < looked_at; ++i) {
    domain::notification_facts facts;
    facts.made_before_cutoff = boolean_at(rows->get(), i, 1);
    facts.fanned_out = boolean_at(rows->get(), i, 2);
    facts.parent_active = boolean_at(rows->get(), i, 3);
    facts.delivery_pending = boolean_at(rows->get(), i, 4);
    result.last_seq = static_cast<uint64_t>(integer_at(rows->get(), i, 0));
    if (PQgetisnull(rows->get(), i, 3) && domain::parent_decides(facts)) {
      auto active = parent_active_at(conn, result.last_seq);
      if (!active)
        return active.error();
      facts.parent_active = *active;
    }
    all_old = all_old && facts.made_before_cutoff;
    if (domain::drops_notification(facts))
      gone.push_back(result.last_seq);
  }
  if (!gone.empty()) {
    params list;
    list.text(bigint_array(gone))
        .integer(static_cast<int64_t>(gone.front()))
        .integer(static_cast<int64_t>(gone.back()));
    auto erased = conn.run(erase, list, "delete notifications past retention");
    if (!erased)
      return std::move(erased.error());
    result.notifications =
        std::strtoull(PQcmdTuples(erased->get()), nullptr, 10);
  }
  result.more = static_cast<size_t>(looked_at) >= at_most && all_old;
  return result;
}

} // namespace argus::storage::pg
