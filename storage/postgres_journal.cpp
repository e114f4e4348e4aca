#include "storage/journal.hpp"
#include "storage/postgres.hpp"
#include "storage/postgres_writes.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

namespace argus::storage {

namespace {

using pg::done;
using pg::params;
using pg::statement;

/// Events per replay query, so a long backlog never sits in memory whole.
constexpr int replay_chunk = 2000;

constexpr const char* event_columns =
    "seq, event_manager_id, dedup_key, action, summary, severity, class,"
    " details, has_grouping_value, grouping_value, window_ns, received_at_ns,"
    " forward_id, expires_at_ns, actor, ack_timeout_ns, auto_resolve_after_ns";

struct statements {
  // Every statement names the journal it works on: a clustered node writes
  // under its incarnation id, a single node under the empty id.
  //
  // Records at or above a new append's first number can only be left by an
  // append whose commit went through although its caller saw it fail (the
  // reply was lost). The caller reuses those numbers; nothing was
  // acknowledged or delivered from them, so they make way.
  statement drop_from{"argus_journal_drop_from",
                      "DELETE FROM journal WHERE node_id = $1 AND seq >= $2"};
  statement insert{"argus_journal_insert",
                   std::string{"INSERT INTO journal (node_id, "} +
                       event_columns +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                       " $11, $12, $13, $14, $15, $16, $17, $18)"};
  // The last number appended by the single node's journal, kept beside the
  // rows so trimming them all does not let numbering start over. A
  // clustered incarnation starts empty and never reuses its id.
  statement mark{"argus_journal_mark",
                 "UPDATE meta SET value = $1 WHERE key = 'journal_last_seq'"};
  statement last_seq{
      "argus_journal_last_seq",
      "SELECT GREATEST(CASE WHEN $1 = '' THEN (SELECT value FROM meta"
      " WHERE key = 'journal_last_seq') ELSE 0 END,"
      " (SELECT COALESCE(MAX(seq), 0) FROM journal WHERE node_id = $1))"};
  statement replay{"argus_journal_replay",
                   std::string{"SELECT "} + event_columns +
                       ", done FROM journal WHERE node_id = $1 AND seq > $2"
                       " ORDER BY seq LIMIT " +
                       std::to_string(replay_chunk)};
  // A dead writer's applied forwarded records are kept as long as a
  // sender may still retry them (the storage keeps its own as long).
  statement prune_done{"argus_journal_prune_dead_done",
                       "DELETE FROM journal WHERE node_id = $1 AND done"
                       " AND received_at_ns < $2"};
  statement trim{"argus_journal_trim",
                 "DELETE FROM journal WHERE node_id = $1 AND seq <= $2"};
  // Adopted records leave the dead writer's journal in the transaction
  // that adds them to the adopter's, so exactly one journal holds each.
  // The numbers travel as text: parameters are sent in binary format.
  statement take{"argus_journal_take", "DELETE FROM journal WHERE node_id = $1"
                                       " AND seq = ANY($2::text::bigint[])"};
  // A writer whose journal is trimmed may still owe deliveries: its
  // outbox rows make it a writer to fence too.
  statement writers{"argus_journal_writers",
                    "SELECT node_id FROM journal WHERE node_id <> ''"
                    " UNION SELECT owner FROM notifications"
                    " WHERE owner <> '' AND NOT fanned_out"
                    " UNION SELECT owner FROM deliveries"
                    " WHERE owner <> '' AND state = 'pending'"};
  statement take_notifications{"argus_outbox_take_notifications",
                               "UPDATE notifications SET owner = $2"
                               " WHERE owner = $1 AND NOT fanned_out"};
  // Locks the rows first, in (seq, receiver) order: the order the
  // retention step, the worker and a retry lock deliveries in. Locked in
  // the plan's order (the pending index's, or the table's), a takeover
  // could deadlock with a retention step over retried rows.
  statement take_deliveries{
      "argus_outbox_take_deliveries",
      "UPDATE deliveries SET owner = $2 FROM (SELECT notification_id,"
      " receiver FROM deliveries WHERE owner = $1 AND state = 'pending'"
      " ORDER BY seq, receiver FOR UPDATE) AS locked"
      " WHERE deliveries.notification_id = locked.notification_id"
      " AND deliveries.receiver = locked.receiver"};
  // A session-level advisory lock per incarnation: held by the live process
  // for its lifetime, so it is free only once that process is gone.
  statement hold{"argus_journal_hold",
                 "SELECT pg_advisory_lock(418581919, hashtext($1))"};
  statement try_fence{"argus_journal_try_fence",
                      "SELECT pg_try_advisory_lock(418581919, hashtext($1))"};
  statement release{"argus_journal_release",
                    "SELECT pg_advisory_unlock(418581919, hashtext($1))"};
};

const statements& sql() {
  static const statements instance;
  return instance;
}

int64_t nanos(domain::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

params event_params(const std::string& journal_id, const domain::event& e) {
  params p;
  p.text(journal_id)
      .integer(static_cast<int64_t>(e.seq))
      .text(e.event_manager_id)
      .text(e.dedup_key)
      .text(domain::to_string(e.act))
      .text(e.summary)
      .text(domain::to_string(e.sev))
      .text(e.class_name)
      .text(e.details)
      .boolean(e.has_grouping_value)
      .text(e.grouping_value)
      .integer(nanos(e.window))
      .integer(nanos(e.received_at.time_since_epoch()))
      .integer(static_cast<int64_t>(e.forward_id))
      .integer(nanos(e.expires_at.time_since_epoch()))
      .text(e.actor)
      .integer(nanos(e.ack_timeout))
      .integer(nanos(e.auto_resolve_after));
  return p;
}

caf::expected<domain::event> read_event(const PGresult* res, int i) {
  domain::event e;
  e.seq = static_cast<uint64_t>(pg::integer_at(res, i, 0));
  e.event_manager_id = pg::text_at(res, i, 1);
  e.dedup_key = pg::text_at(res, i, 2);
  auto act = domain::parse_action(pg::text_at(res, i, 3));
  e.summary = pg::text_at(res, i, 4);
  auto sev = domain::parse_severity(pg::text_at(res, i, 5));
  if (!act || !sev)
    return make_error(ec::internal, "postgres: journal record " +
                                        std::to_string(e.seq) +
                                        " has an unknown action or severity");
  e.act = *act;
  e.sev = *sev;
  e.class_name = pg::text_at(res, i, 6);
  e.details = pg::text_at(res, i, 7);
  e.has_grouping_value = pg::boolean_at(res, i, 8);
  e.grouping_value = pg::text_at(res, i, 9);
  e.window = domain::duration{pg::integer_at(res, i, 10)};
  e.received_at =
      domain::time_point{domain::duration{pg::integer_at(res, i, 11)}};
  e.forward_id = static_cast<uint64_t>(pg::integer_at(res, i, 12));
  e.expires_at =
      domain::time_point{domain::duration{pg::integer_at(res, i, 13)}};
  e.actor = pg::text_at(res, i, 14);
  e.ack_timeout = domain::duration{pg::integer_at(res, i, 15)};
  e.auto_resolve_after = domain::duration{pg::integer_at(res, i, 16)};
  return e;
}

params id_param(const std::string& journal_id) {
  params p;
  p.text(journal_id);
  return p;
}

params id_and_seq(const std::string& journal_id, uint64_t seq) {
  params p;
  p.text(journal_id).integer(static_cast<int64_t>(seq));
  return p;
}

/// Calls `fn` for every record of `journal_id` above `after`, in order,
/// with whether it is applied already (a forwarded one kept for its id).
caf::error replay_rows(pg::connection& conn, const std::string& journal_id,
                       uint64_t after,
                       const std::function<void(domain::event&, bool)>& fn) {
  for (;;) {
    auto res = conn.run(sql().replay, id_and_seq(journal_id, after),
                        "read the journal");
    if (!res)
      return std::move(res.error());
    auto rows = PQntuples(res->get());
    for (int i = 0; i < rows; ++i) {
      auto e = read_event(res->get(), i);
      if (!e)
        return std::move(e.error());
      after = e->seq;
      fn(*e, pg::boolean_at(res->get(), i, 17));
    }
    if (rows < replay_chunk)
      return {};
  }
}

class postgres_journal final : public journal_backend {
public:
  postgres_journal(std::unique_ptr<pg::connection> conn, std::string id)
      : conn_(std::move(conn)), id_(std::move(id)) {}

  caf::expected<uint64_t> last_seq() override {
    auto res =
        conn_->run(sql().last_seq, id_param(id_), "read the journal end");
    if (!res)
      return std::move(res.error());
    return static_cast<uint64_t>(pg::integer_at(res->get(), 0, 0));
  }

  caf::error append(const std::vector<domain::event>& events) override {
    return store(events, nullptr, nullptr);
  }

  caf::error adopt(const std::vector<domain::event>& events,
                   const std::string& from,
                   const std::vector<uint64_t>& from_seqs) override {
    return store(events, &from, &from_seqs);
  }

  caf::error replay(uint64_t after,
                    const std::function<void(domain::event&)>& fn) override {
    return replay_rows(*conn_, id_, after, [&](domain::event& e, bool done) {
      if (!done)
        fn(e);
    });
  }

  caf::error trim_through(uint64_t seq) override {
    return done(
        conn_->run(sql().trim, id_and_seq(id_, seq), "trim the journal"));
  }

private:
  /// Appends `events` in one transaction, taking `from_seqs` out of the
  /// journal `from` in the same one when both are given.
  caf::error store(const std::vector<domain::event>& events,
                   const std::string* from,
                   const std::vector<uint64_t>* from_seqs) {
    if (events.empty())
      return {};
    std::vector<pg::step> steps;
    steps.reserve(events.size() + 3);
    steps.push_back({&sql().drop_from, id_and_seq(id_, events.front().seq)});
    uint64_t last = 0;
    for (auto& e : events) {
      steps.push_back({&sql().insert, event_params(id_, e)});
      last = std::max(last, e.seq);
    }
    if (id_.empty()) {
      params mark;
      mark.integer(static_cast<int64_t>(last));
      steps.push_back({&sql().mark, std::move(mark)});
    }
    if (from != nullptr)
      return adopt_as(*from, *from_seqs, steps);
    // One round trip, which returns once the server made it durable. Run
    // twice, an append drops what the first run left (drop_from) and
    // stores it again.
    return conn_->transaction(steps, "append to the journal", true);
  }

  /// Runs an adoption's `steps` holding the dead writer `from`'s lock too:
  /// they change its journal, and a node that fences it must wait for
  /// them (this process may die with them sent). Taken before they are
  /// sent and let go after; not retried on a new session, which would
  /// not hold it (the caller adopts again).
  caf::error adopt_as(const std::string& from,
                      const std::vector<uint64_t>& from_seqs,
                      const std::vector<pg::step>& steps) {
    if (auto err = pg::lock_writer(*conn_, from))
      return err;
    auto err = take_and_store(from, from_seqs, steps, conn_->session());
    if (auto unlocked = pg::unlock_writer(*conn_, from); unlocked && !err)
      return unlocked;
    return err;
  }

  /// Takes `from_seqs` out of `from`'s journal and runs `steps`, in one
  /// transaction on the session `locked_on` (which holds `from`'s lock)
  /// that stores nothing unless every record was still there.
  /// The fence's lock keeps a second adopter away; should it have been
  /// lost with its session, this keeps each record in one journal still
  /// (the second adopter's take waits for the first's commit, then finds
  /// the records gone).
  caf::error take_and_store(const std::string& from,
                            const std::vector<uint64_t>& from_seqs,
                            const std::vector<pg::step>& steps,
                            uint64_t locked_on) {
    constexpr std::string_view what = "adopt journal records";
    // The transaction id tells, should the reply to COMMIT get lost,
    // whether it committed.
    auto begun = conn_->exec("BEGIN; SELECT pg_current_xact_id()", what);
    if (!begun)
      return std::move(begun.error());
    auto xid = pg::text_at(begun->get(), 0, 0);
    auto fail = [&](caf::error err) {
      conn_->rollback();
      return err;
    };
    // BEGIN is retried on a new session, which does not hold the lock.
    if (conn_->session() != locked_on)
      return fail(make_error(ec::unavailable,
                             "postgres: cannot adopt journal records (the "
                             "session holding the dead node's lock was lost)"));
    params taken;
    taken.text(from).text(pg::bigint_array(from_seqs));
    auto res = conn_->run(sql().take, taken, what);
    if (!res)
      return fail(std::move(res.error()));
    if (std::string_view{PQcmdTuples(res->get())} !=
        std::to_string(from_seqs.size()))
      return fail(make_error(ec::unavailable,
                             "postgres: another node adopted journal records "
                             "of " +
                                 from + " meanwhile; reading them again"));
    if (auto err = conn_->pipeline(steps, what))
      return fail(std::move(err));
    auto err = done(conn_->exec("COMMIT", what));
    if (!err)
      return {};
    // The server answered: it did not commit.
    if (conn_->get() != nullptr)
      return fail(std::move(err));
    return settle_adoption(xid, std::move(err));
  }

  /// An adoption whose COMMIT went unanswered (the connection died): its
  /// outcome, waited for as long as that takes. Committed, its records
  /// left the dead node's journal for this one, and must be delivered: a
  /// failure here would leave them for the next append to overwrite.
  /// Not committed, they are still the dead node's, to adopt again.
  caf::error settle_adoption(const std::string& xid, caf::error err) {
    using namespace std::chrono;
    auto next_log = steady_clock::now();
    for (;;) {
      auto outcome = pg::transaction_outcome(*conn_, xid, 50);
      if (outcome && *outcome == "committed") {
        LOG_INFO("journal: the connection died after an adoption's COMMIT "
                 "was sent; transaction "
                 << xid << " committed");
        return {};
      }
      if (outcome && *outcome != "in progress")
        return err;
      if (steady_clock::now() >= next_log) {
        LOG_WARNING("journal: whether an adoption committed (transaction "
                    << xid << ") is not known yet; asking until PostgreSQL "
                    << "tells");
        next_log = steady_clock::now() + seconds{10};
      }
      std::this_thread::sleep_for(milliseconds{100});
    }
  }

  std::unique_ptr<pg::connection> conn_;
  std::string id_;
};

class postgres_fence final : public journal_fence {
public:
  explicit postgres_fence(std::unique_ptr<pg::connection> conn)
      : conn_(std::move(conn)) {}

  caf::error hold(const std::string& incarnation) override {
    if (auto err = done(conn_->run(sql().hold, id_param(incarnation),
                                   "lock this node's journal")))
      return err;
    held_ = incarnation;
    held_on_ = conn_->session();
    return {};
  }

  caf::expected<bool> keep() override {
    if (held_.empty())
      return true;
    // Also finds a lost session, and connects again.
    auto fenced = pg::writer_fenced(*conn_, held_);
    if (!fenced)
      return std::move(fenced.error());
    if (*fenced)
      return false;
    if (conn_->session() == held_on_)
      return true;
    // The lock went with the session before.
    auto res = conn_->run(sql().try_fence, id_param(held_),
                          "take this node's journal lock again");
    if (!res)
      return std::move(res.error());
    if (!pg::boolean_at(res->get(), 0, 0)) {
      // A peer trying to fence this node holds it: fenced if the peer
      // recorded it (before it lets go), else asked again later. So does
      // this process's old backend, until the server notices it is gone.
      fenced = pg::writer_fenced(*conn_, held_);
      if (!fenced)
        return std::move(fenced.error());
      if (*fenced)
        return false;
      return make_error(ec::unavailable, "postgres: another session holds "
                                         "this node's journal lock");
    }
    held_on_ = conn_->session();
    LOG_INFO("cluster: took this node's journal lock again on a new "
             "PostgreSQL session");
    // A peer may have fenced this node and let go of the lock in between.
    fenced = pg::writer_fenced(*conn_, held_);
    if (!fenced)
      return std::move(fenced.error());
    return !*fenced;
  }

  caf::expected<std::vector<std::string>> writers() override {
    auto res = conn_->run(sql().writers, params{}, "list journal writers");
    if (!res)
      return std::move(res.error());
    auto rows = PQntuples(res->get());
    std::vector<std::string> out;
    out.reserve(static_cast<size_t>(rows));
    for (int i = 0; i < rows; ++i)
      out.push_back(pg::text_at(res->get(), i, 0));
    return out;
  }

  caf::expected<bool> try_fence(const std::string& incarnation) override {
    auto res = conn_->run(sql().try_fence, id_param(incarnation),
                          "lock a dead node's journal");
    if (!res)
      return std::move(res.error());
    if (!pg::boolean_at(res->get(), 0, 0))
      return false;
    auto locked_on = conn_->session();
    // Its process is gone, maybe not yet all it sent: asked again later.
    auto gone = pg::fence_writer(*conn_, incarnation);
    // The lock went with a session lost meanwhile (its BEGIN is retried
    // on a new one): taken again by the next try.
    if (gone && conn_->session() != locked_on)
      return make_error(ec::unavailable,
                        "postgres: the session holding a dead node's journal "
                        "lock was lost");
    if (gone && *gone)
      return true;
    if (auto err = release(incarnation))
      return err;
    if (!gone)
      return std::move(gone.error());
    return false;
  }

  caf::error await_writer_gone(const std::string& writer) override {
    return pg::await_writer_gone(*conn_, writer);
  }

  caf::error release(const std::string& incarnation) override {
    return done(conn_->run(sql().release, id_param(incarnation),
                           "unlock a dead node's journal"));
  }

  caf::error
  read(const std::string& incarnation,
       const std::function<void(domain::event&, bool)>& fn) override {
    auto cutoff = std::chrono::system_clock::now() - std::chrono::seconds{60};
    params old;
    old.text(incarnation).integer(nanos(cutoff.time_since_epoch()));
    if (auto err = done(
            conn_->run(sql().prune_done, old, "prune a dead node's journal")))
      return err;
    return replay_rows(*conn_, incarnation, 0, fn);
  }

  caf::error take_outbox(const std::string& from,
                         const std::string& to) override {
    params p;
    p.text(from).text(to);
    std::vector<pg::step> steps{{&sql().take_notifications, p},
                                {&sql().take_deliveries, p}};
    if (auto err = done(conn_->exec("BEGIN", "take a dead node's outbox")))
      return err;
    auto err = conn_->pipeline(steps, "take a dead node's outbox");
    if (!err)
      err = done(conn_->exec("COMMIT", "take a dead node's outbox"));
    if (err)
      conn_->rollback();
    return err;
  }

private:
  std::unique_ptr<pg::connection> conn_;
  /// This process's incarnation once `hold` took its lock, and on which
  /// session.
  std::string held_;
  uint64_t held_on_ = 0;
};

} // namespace

caf::expected<std::unique_ptr<journal_backend>>
open_postgres_journal(const std::string& dsn, const std::string& id) {
  auto conn = pg::open(dsn);
  if (!conn)
    return std::move(conn.error());
  // Its sessions hold the writer's lock: see postgres_writes.hpp.
  if (auto err = pg::hold_writer_lock(**conn, id))
    return err;
  std::unique_ptr<journal_backend> result =
      std::make_unique<postgres_journal>(std::move(*conn), id);
  return result;
}

caf::expected<std::unique_ptr<journal_fence>>
open_postgres_fence(const std::string& dsn) {
  auto conn = pg::open(dsn);
  if (!conn)
    return std::move(conn.error());
  std::unique_ptr<journal_fence> result =
      std::make_unique<postgres_fence>(std::move(*conn));
  return result;
}

} // namespace argus::storage
