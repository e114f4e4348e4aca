#include "actors/journal.hpp"
#include "actors/postgres.hpp"

#include "domain/error.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

namespace argus::actors {

namespace {

using pg::params;
using pg::statement;

/// Events per replay query, so a long backlog never sits in memory whole.
constexpr int replay_chunk = 2000;

constexpr const char* event_columns =
    "seq, event_manager_id, dedup_key, action, summary, severity, class,"
    " details, has_grouping_value, grouping_value, window_ns, received_at_ns";

struct statements {
  // Records at or above a new append's first number can only be left by an
  // append whose commit went through although its caller saw it fail (the
  // reply was lost). The caller reuses those numbers; nothing was
  // acknowledged or delivered from them, so they make way.
  statement drop_from{"argus_journal_drop_from",
                      "DELETE FROM journal WHERE seq >= $1"};
  statement insert{"argus_journal_insert",
                   std::string{"INSERT INTO journal ("} + event_columns +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
                       " $11, $12)"};
  // The last number appended, kept beside the rows so trimming them all
  // does not let numbering start over.
  statement mark{"argus_journal_mark",
                 "UPDATE meta SET value = $1 WHERE key = 'journal_last_seq'"};
  statement last_seq{"argus_journal_last_seq",
                     "SELECT GREATEST((SELECT value FROM meta"
                     " WHERE key = 'journal_last_seq'),"
                     " (SELECT COALESCE(MAX(seq), 0) FROM journal))"};
  statement replay{"argus_journal_replay",
                   std::string{"SELECT "} + event_columns +
                       " FROM journal WHERE seq > $1 ORDER BY seq LIMIT " +
                       std::to_string(replay_chunk)};
  statement trim{"argus_journal_trim", "DELETE FROM journal WHERE seq <= $1"};
};

const statements& sql() {
  static const statements instance;
  return instance;
}

int64_t nanos(domain::duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

params event_params(const domain::event& e) {
  params p;
  p.integer(static_cast<int64_t>(e.seq))
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
      .integer(nanos(e.received_at.time_since_epoch()));
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
  return e;
}

caf::error done(caf::expected<pg::result_ptr> res) {
  return res ? caf::error{} : std::move(res.error());
}

class postgres_journal final : public journal_backend {
public:
  explicit postgres_journal(std::unique_ptr<pg::connection> conn)
      : conn_(std::move(conn)) {}

  caf::expected<uint64_t> last_seq() override {
    auto res = conn_->run(sql().last_seq, params{}, "read the journal end");
    if (!res)
      return std::move(res.error());
    return static_cast<uint64_t>(pg::integer_at(res->get(), 0, 0));
  }

  caf::error append(const std::vector<domain::event>& events) override {
    if (events.empty())
      return {};
    std::vector<pg::step> steps;
    steps.reserve(events.size() + 2);
    params first;
    first.integer(static_cast<int64_t>(events.front().seq));
    steps.push_back({&sql().drop_from, std::move(first)});
    uint64_t last = 0;
    for (auto& e : events) {
      steps.push_back({&sql().insert, event_params(e)});
      last = std::max(last, e.seq);
    }
    params mark;
    mark.integer(static_cast<int64_t>(last));
    steps.push_back({&sql().mark, std::move(mark)});
    // BEGIN alone first: a connection lost while idle is replaced before
    // anything is sent. COMMIT returns once the server made it durable.
    if (auto err = done(conn_->exec("BEGIN", "begin journal append")))
      return err;
    auto err = conn_->pipeline(steps, "append to the journal");
    if (!err)
      err = done(conn_->exec("COMMIT", "commit journal append"));
    if (err)
      conn_->rollback();
    return err;
  }

  caf::error replay(uint64_t after,
                    const std::function<void(domain::event&)>& fn) override {
    for (;;) {
      params p;
      p.integer(static_cast<int64_t>(after));
      auto res = conn_->run(sql().replay, p, "read the journal");
      if (!res)
        return std::move(res.error());
      auto rows = PQntuples(res->get());
      for (int i = 0; i < rows; ++i) {
        auto e = read_event(res->get(), i);
        if (!e)
          return std::move(e.error());
        after = e->seq;
        fn(*e);
      }
      if (rows < replay_chunk)
        return {};
    }
  }

  caf::error trim_through(uint64_t seq) override {
    params p;
    p.integer(static_cast<int64_t>(seq));
    return done(conn_->run(sql().trim, p, "trim the journal"));
  }

private:
  std::unique_ptr<pg::connection> conn_;
};

} // namespace

caf::expected<std::unique_ptr<journal_backend>>
open_postgres_journal(const std::string& dsn) {
  auto conn = pg::open(dsn);
  if (!conn)
    return std::move(conn.error());
  std::unique_ptr<journal_backend> result =
      std::make_unique<postgres_journal>(std::move(*conn));
  return result;
}

} // namespace argus::actors
