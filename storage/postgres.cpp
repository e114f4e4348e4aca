#include "storage/postgres.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>
#include <thread>
#include <utility>

namespace argus::storage::pg {

namespace {

/// The schema, one step per version; step `i` takes the database from
/// version `i` to `i + 1` (recorded in `schema_migrations`). Released steps
/// are never edited, only appended to. Keys that are sorted or compared by
/// the API use the "C" collation, so listings order bytes the same way the
/// other backends do whatever locale the database has.
constexpr const char* migrations[] = {
    // 1: tables.
    R"sql(
CREATE TABLE grouping_rules (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  grouping_key TEXT NOT NULL,
  time_window_seconds BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE TABLE event_managers (
  id TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  grouping_rule_id TEXT NOT NULL,
  webhook_url TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
CREATE TABLE alerts (
  id TEXT NOT NULL,
  dedup_key TEXT COLLATE "C" NOT NULL,
  event_manager_id TEXT COLLATE "C" NOT NULL,
  summary TEXT NOT NULL,
  severity TEXT NOT NULL,
  class TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  has_grouping_value BOOLEAN NOT NULL,
  grouping_value TEXT NOT NULL,
  parent_dedup_key TEXT COLLATE "C" NOT NULL,
  child_count BIGINT NOT NULL,
  resolve_requested BOOLEAN NOT NULL,
  event_count BIGINT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  resolved_at_ms BIGINT,
  window_ends_at_ms BIGINT NOT NULL,
  details TEXT NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (event_manager_id, dedup_key)
);
-- Counters that must move in the same transaction as the rows they cover.
CREATE TABLE meta (
  key TEXT NOT NULL PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (key, value)
  VALUES ('applied_through', 0), ('journal_last_seq', 0);
CREATE TABLE journal (
  seq BIGINT NOT NULL PRIMARY KEY,
  event_manager_id TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  action TEXT NOT NULL,
  summary TEXT NOT NULL,
  severity TEXT NOT NULL,
  class TEXT NOT NULL,
  details TEXT NOT NULL,
  has_grouping_value BOOLEAN NOT NULL,
  grouping_value TEXT NOT NULL,
  window_ns BIGINT NOT NULL,
  received_at_ns BIGINT NOT NULL
);
)sql",
    // 2: indexes for the reads, with the listing order in each so a page
    // is an index walk rather than a sort of every match.
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
CREATE INDEX alerts_by_last_seq ON alerts (last_seq);
)sql",
    // 3: one journal per writer. A clustered node journals under its
    // incarnation id; a single node keeps the empty id (and its rows).
    R"sql(
ALTER TABLE journal ADD COLUMN node_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE journal DROP CONSTRAINT journal_pkey;
ALTER TABLE journal ADD PRIMARY KEY (node_id, seq);
)sql",
    // 4: forwarded events keep their forwarding id, and stay behind as
    // "done" for a while once applied, so the node that adopts a dead
    // owner's journal recognises a sender's retry of them.
    R"sql(
ALTER TABLE journal ADD COLUMN forward_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE journal ADD COLUMN done BOOLEAN NOT NULL DEFAULT false;
)sql",
    // 5: each manager's notification receivers (issue 11), as JSON text
    // with their secrets.
    R"sql(
ALTER TABLE event_managers ADD COLUMN receivers TEXT NOT NULL DEFAULT '[]';
)sql",
    // 6 (issue 12): rules that group by several fields, each manager's
    // Alertmanager severity mapping, and alerts (and journaled events) that
    // end by themselves. '' and 0 are "none": a single key, the default
    // mapping, no end.
    R"sql(
ALTER TABLE grouping_rules ADD COLUMN grouping_keys TEXT NOT NULL DEFAULT '';
ALTER TABLE event_managers ADD COLUMN am_severity TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN expires_at_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE journal ADD COLUMN expires_at_ns BIGINT NOT NULL DEFAULT 0;
)sql",
    // 7 (issue 12): acknowledgement of alerts (and who acknowledged, with
    // the ack timeout, in journaled events), and each manager's PagerDuty
    // routing key (existing managers get a fresh random one) and ack
    // timeout.
    R"sql(
ALTER TABLE alerts ADD COLUMN acknowledged BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE alerts ADD COLUMN acknowledged_at_ms BIGINT;
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN acknowledged_until_ms BIGINT;
ALTER TABLE event_managers ADD COLUMN routing_key TEXT NOT NULL DEFAULT '';
ALTER TABLE event_managers ADD COLUMN ack_timeout_seconds BIGINT NOT NULL
  DEFAULT 0;
UPDATE event_managers
  SET routing_key = md5(random()::text || clock_timestamp()::text || id)
  WHERE routing_key = '';
CREATE UNIQUE INDEX event_managers_by_routing_key
  ON event_managers (routing_key) WHERE routing_key <> '';
ALTER TABLE journal ADD COLUMN actor TEXT NOT NULL DEFAULT '';
ALTER TABLE journal ADD COLUMN ack_timeout_ns BIGINT NOT NULL DEFAULT 0;
)sql",
    // 8 (issue 11): the durable outbox. Notifications are added in the
    // transaction of the alert change that caused them; each is delivered by
    // its `owner` (a clustered node's incarnation, '' for a single node)
    // until the node that fences a dead owner takes its rows over.
    R"sql(
CREATE TABLE notifications (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  event_manager_id TEXT NOT NULL,
  body TEXT NOT NULL,
  owner TEXT COLLATE "C" NOT NULL DEFAULT '',
  fanned_out BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX notifications_unfanned ON notifications (owner, seq)
  WHERE NOT fanned_out;
CREATE TABLE deliveries (
  notification_id TEXT NOT NULL,
  receiver TEXT COLLATE "C" NOT NULL,
  event_manager_id TEXT NOT NULL,
  grp TEXT NOT NULL,
  kind TEXT NOT NULL,
  seq BIGINT NOT NULL,
  state TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  last_error TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  next_attempt_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  owner TEXT COLLATE "C" NOT NULL DEFAULT '',
  PRIMARY KEY (notification_id, receiver)
);
CREATE INDEX deliveries_pending ON deliveries (owner, seq)
  WHERE state = 'pending';
CREATE INDEX deliveries_by_seq ON deliveries (seq DESC, receiver);
)sql",
    // 9 (issue 13): silences, shared by every node like the catalog.
    // Expired ones stay (they are listed); the matchers are
    // `domain::encode_matchers` text.
    R"sql(
CREATE TABLE silences (
  id TEXT NOT NULL PRIMARY KEY,
  event_manager_id TEXT NOT NULL,
  matchers TEXT NOT NULL,
  starts_at_ms BIGINT NOT NULL,
  ends_at_ms BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  comment TEXT NOT NULL,
  updated_at_ms BIGINT NOT NULL
);
)sql",
    // 10 (issue 13): auto-resolve. Each rule's and manager's limit (0:
    // off), each alert's deadline (0: none) and why it resolved ('' before
    // this was recorded), and the limit in force for each journaled event.
    R"sql(
ALTER TABLE grouping_rules
  ADD COLUMN auto_resolve_after_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE event_managers
  ADD COLUMN auto_resolve_after_seconds BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN resolved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN auto_resolve_at_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE journal ADD COLUMN auto_resolve_after_ns BIGINT NOT NULL
  DEFAULT 0;
)sql",
    // 11 (issue 14): API keys, shared by every node like the catalog (the
    // SHA-256 of the key text, never the text; managers as `encode_keys`
    // text; 0 for no expiry / not revoked), and the audit log.
    R"sql(
CREATE TABLE api_keys (
  id TEXT NOT NULL PRIMARY KEY,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL,
  role TEXT NOT NULL,
  managers TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT NOT NULL,
  created_by TEXT NOT NULL
);
CREATE TABLE audit_log (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  kind TEXT NOT NULL,
  object_id TEXT NOT NULL,
  event_manager_id TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at_ms);
)sql",
    // 12 (issue 14): each manager's own rate limit as `encode(rate_limit)`
    // text ("<events/s> <burst>"); '' for none (the node's default).
    R"sql(
ALTER TABLE event_managers ADD COLUMN rate_limit TEXT NOT NULL DEFAULT '';
)sql",
    // 13 (issue 13): maintenance windows and inhibition. A silence's
    // schedule and a manager's inhibit rules as `domain::encode_schedule` /
    // `encode_inhibit_rules` text ('' for none).
    R"sql(
ALTER TABLE silences ADD COLUMN schedule TEXT NOT NULL DEFAULT '';
ALTER TABLE event_managers ADD COLUMN inhibit_rules TEXT NOT NULL DEFAULT '';
)sql",
    // 14: the openings a silence or an inhibition holds, read in full when
    // the delivery worker starts (`outbox::held_openings`).
    R"sql(
CREATE INDEX deliveries_held ON deliveries (seq)
  WHERE state = 'suppressed' AND kind = 'parent_opened';
)sql",
    // 15: the cluster incarnations a peer fenced (took for dead and took
    // over). Their sessions refuse to write should they come back
    // (storage/postgres_writes.hpp). Stamped with the server's clock.
    R"sql(
CREATE TABLE fenced_writers (
  writer TEXT NOT NULL PRIMARY KEY,
  fenced_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX fenced_writers_by_time ON fenced_writers (fenced_at);
)sql",
    // 16: the open parents, newest first, of every manager and of each
    // (the web console's groups, `alert_sql::open_parents` and
    // `open_parents_of_manager`), as SQLite's step 12 but without the
    // status and type columns: PostgreSQL's index-only scans need no
    // column of the index's condition. Partial, so a child's row is never
    // in them; a parent's update that PostgreSQL cannot make in place
    // (HOT: one that changes no indexed column) writes them too.
    R"sql(
CREATE INDEX alerts_open_parents
  ON alerts (created_at_ms DESC, dedup_key, event_manager_id)
  WHERE status = 'active' AND type = 'parent';
CREATE INDEX alerts_open_parents_by_manager
  ON alerts (event_manager_id, created_at_ms DESC, dedup_key)
  WHERE status = 'active' AND type = 'parent';
)sql",
};

constexpr int latest_version = static_cast<int>(std::size(migrations));

/// Serializes schema changes of concurrent nodes on one database
/// ("argus" in ASCII).
constexpr const char* lock_sql = "SELECT pg_advisory_xact_lock(418581918579)";

/// Statements per pipeline sync. The server's replies to one chunk must fit
/// in the socket buffers while we are still sending (blocking mode), and a
/// few kilobytes do.
constexpr size_t pipeline_chunk = 256;

/// One line from libpq's multi-line messages, without the trailing newline.
std::string one_line(const char* text) {
  std::string out = text ? text : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  std::string result;
  for (char c : out) {
    if (c == '\n')
      result += "; ";
    else if (c != '\t')
      result += c;
  }
  return result;
}

bool starts_with(const char* text, std::string_view prefix) {
  return text != nullptr &&
         std::strncmp(text, prefix.data(), prefix.size()) == 0;
}

/// Errors after which the same statement may well succeed later: the server
/// is going away or starting, out of resources, read-only (a standby), or a
/// transaction lost a race.
bool transient(const char* state) {
  // 55P03: a lock wait ran past the role's lock_timeout (a writer's lock
  // while a restart waits for the sessions before it, say). AR001: a peer
  // fenced this node (postgres_writes.hpp), which stops within seconds;
  // the client's retry finds a live node.
  return starts_with(state, "08") || starts_with(state, "53") ||
         starts_with(state, "57P0") || starts_with(state, "25006") ||
         starts_with(state, "40001") || starts_with(state, "40P01") ||
         starts_with(state, "55P03") || starts_with(state, "AR001");
}

void log_notice(void*, const char* message) {
  LOG_DEBUG("postgres: " << one_line(message));
}

} // namespace

// -- params -------------------------------------------------------------------

params& params::text(std::string_view x) {
  values_.push_back(escape_text(x));
  nulls_.push_back(false);
  lengths_.push_back(static_cast<int>(values_.back().size()));
  formats_.push_back(1);
  return *this;
}

params& params::integer(int64_t x) {
  values_.push_back(std::to_string(x));
  nulls_.push_back(false);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

params& params::boolean(bool x) {
  values_.emplace_back(x ? "t" : "f");
  nulls_.push_back(false);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

params& params::null() {
  values_.emplace_back();
  nulls_.push_back(true);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

std::vector<const char*> params::values() const {
  std::vector<const char*> result;
  result.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i)
    result.push_back(nulls_[i] ? nullptr : values_[i].c_str());
  return result;
}

// -- connection ---------------------------------------------------------------

connection::connection(std::string dsn) : dsn_(std::move(dsn)) {}

connection::~connection() {
  drop();
}

void connection::drop() {
  if (conn_)
    PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

caf::error connection::ensure() {
  if (conn_ && PQstatus(conn_) == CONNECTION_OK)
    return {};
  drop();
  // Defaults first: the DSN (expanded from "dbname") overrides them. The
  // same keepalives and timeout as the server's side (below) make this
  // side give up on a dead server or a black-holed network within about
  // 25 s too, where a call would otherwise block for the kernel's
  // retransmissions (about 15 minutes).
  const char* keys[] = {"connect_timeout",
                        "application_name",
                        "client_encoding",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "dbname",
                        nullptr};
  const char* values[] = {"5", "argus", "UTF8",       "10",   "5",
                          "3", "25000", dsn_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (!conn_)
    return make_error(ec::unavailable, "postgres: cannot connect (out of "
                                       "memory)");
  if (PQstatus(conn_) != CONNECTION_OK) {
    auto err =
        make_error(ec::unavailable, "postgres: cannot connect (" +
                                        one_line(PQerrorMessage(conn_)) + ")");
    drop();
    return err;
  }
  PQsetNoticeProcessor(conn_, log_notice, nullptr);
  // A session of a process whose host died holds its locks (the cluster's
  // fence, the writers' locks, rows of an open transaction) until the
  // server drops it. Probed after 10 s idle, 3 probes 5 s apart, and given
  // up after 25 s of unacknowledged data (probes are not sent while a
  // reply, say to a COMMIT, waits for its acknowledgement): about 25 s,
  // where the operating system's defaults take hours. A session over a
  // Unix socket ignores them.
  static const std::string timeouts =
      "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5;"
      " SET tcp_keepalives_count = 3; SET tcp_user_timeout = 25000";
  result_ptr set{PQexec(conn_, timeouts.c_str())};
  if (!set || PQresultStatus(set.get()) != PGRES_COMMAND_OK) {
    auto err = failure(set.get(), "set the session's timeouts");
    drop();
    return err;
  }
  for (auto& [statements, what] : session_setup_)
    for (auto& sql : statements) {
      result_ptr res{PQexec(conn_, sql.c_str())};
      auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
      if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        auto err = failure(res.get(), what);
        drop();
        return err;
      }
    }
  if (sessions_++ > 0)
    LOG_INFO("postgres: connected again");
  return {};
}

caf::error connection::on_every_session(std::vector<std::string> statements,
                                        std::string_view what) {
  // Kept once they ran: a connection made since, by the retry of the
  // first, ran the ones kept before and then these.
  std::optional<uint64_t> session;
  for (auto& sql : statements) {
    auto res = exec(sql, what);
    if (res && session && *session != sessions_)
      res =
          make_error(ec::unavailable, "postgres: cannot " + std::string{what} +
                                          " (the session was lost)");
    if (!res) {
      // What they did before one failed (a session-level lock, say) goes
      // with the session, as when a new session's setup fails.
      drop();
      return std::move(res.error());
    }
    session = sessions_;
  }
  session_setup_.emplace_back(std::move(statements), std::string{what});
  return {};
}

caf::expected<std::string> connection::literal(std::string_view text) {
  if (auto err = ensure())
    return err;
  std::unique_ptr<char, decltype(&PQfreemem)> quoted{
      PQescapeLiteral(conn_, text.data(), text.size()), &PQfreemem};
  if (!quoted)
    return failure(nullptr, "quote a text");
  return std::string{quoted.get()};
}

bool connection::lost(const PGresult* res) const {
  if (!conn_ || PQstatus(conn_) == CONNECTION_BAD)
    return true;
  auto state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  return starts_with(state, "08") || starts_with(state, "57P0");
}

caf::error connection::failure(const PGresult* res,
                               std::string_view what) const {
  auto state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string detail;
  if (res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
    detail = one_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
  else if (conn_)
    detail = one_line(PQerrorMessage(conn_));
  if (detail.empty())
    detail = "no connection";
  auto code = lost(res) || transient(state) ? ec::unavailable : ec::internal;
  std::string message = "postgres: cannot ";
  message.append(what).append(" (").append(detail);
  if (state && code == ec::internal)
    message.append(", SQLSTATE ").append(state);
  message += ")";
  return make_error(code, std::move(message));
}

caf::error connection::prepare(const statement& stmt, std::string_view what) {
  if (prepared_.count(stmt.name) > 0)
    return {};
  result_ptr res{PQprepare(conn_, stmt.name, stmt.sql.c_str(), 0, nullptr)};
  if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    auto err = failure(res.get(), std::string{"prepare to "}.append(what));
    if (lost(res.get()))
      drop();
    return err;
  }
  prepared_.insert(stmt.name);
  return {};
}

caf::expected<result_ptr> connection::attempt(const statement* stmt,
                                              const std::string* sql,
                                              const params* args,
                                              std::string_view what) {
  if (auto err = ensure())
    return err;
  result_ptr res;
  if (stmt) {
    if (auto err = prepare(*stmt, what))
      return err;
    auto values = args->values();
    res.reset(PQexecPrepared(conn_, stmt->name, args->size(), values.data(),
                             args->lengths().data(), args->formats().data(),
                             0));
  } else {
    res.reset(PQexec(conn_, sql->c_str()));
  }
  auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
    return res;
  auto err = failure(res.get(), what);
  if (lost(res.get()))
    drop();
  return err;
}

caf::expected<result_ptr> connection::run(const statement& stmt,
                                          const params& args,
                                          std::string_view what) {
  if (auto err = ensure())
    return err;
  bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
  auto res = attempt(&stmt, nullptr, &args, what);
  if (res || !idle || conn_ != nullptr)
    return res;
  // The connection died while idle: one more try on a fresh one.
  LOG_WARNING(message_of(res.error()) << "; reconnecting");
  return attempt(&stmt, nullptr, &args, what);
}

caf::expected<result_ptr> connection::exec(const std::string& sql,
                                           std::string_view what) {
  if (auto err = ensure())
    return err;
  bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
  auto res = attempt(nullptr, &sql, nullptr, what);
  if (res || !idle || conn_ != nullptr)
    return res;
  LOG_WARNING(message_of(res.error()) << "; reconnecting");
  return attempt(nullptr, &sql, nullptr, what);
}

caf::error connection::pipeline(const std::vector<step>& steps,
                                std::string_view what) {
  if (steps.empty())
    return {};
  if (auto err = ensure())
    return err;
  for (auto& s : steps)
    if (auto err = prepare(*s.stmt, what))
      return err;
  if (PQenterPipelineMode(conn_) != 1)
    return failure(nullptr, what);
  caf::error first;
  for (size_t begin = 0; begin < steps.size() && !first;
       begin += pipeline_chunk) {
    auto end = std::min(steps.size(), begin + pipeline_chunk);
    size_t sent = 0;
    for (auto i = begin; i < end; ++i) {
      auto& s = steps[i];
      auto values = s.args.values();
      if (PQsendQueryPrepared(conn_, s.stmt->name, s.args.size(), values.data(),
                              s.args.lengths().data(), s.args.formats().data(),
                              0) != 1) {
        first = failure(nullptr, what);
        break;
      }
      ++sent;
    }
    if (PQpipelineSync(conn_) != 1) {
      if (!first)
        first = failure(nullptr, what);
      break;
    }
    // Each statement yields its result and then a null; the sync yields
    // PGRES_PIPELINE_SYNC. After a failure the server skips to the sync
    // and reports the skipped statements as PGRES_PIPELINE_ABORTED.
    size_t nulls = 0;
    for (;;) {
      result_ptr res{PQgetResult(conn_)};
      if (!res) {
        if (PQstatus(conn_) == CONNECTION_BAD || ++nulls > sent + 1) {
          if (!first)
            first = failure(nullptr, what);
          break;
        }
        continue;
      }
      auto status = PQresultStatus(res.get());
      if (status == PGRES_PIPELINE_SYNC)
        break;
      if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
          status == PGRES_PIPELINE_ABORTED)
        continue;
      if (!first)
        first = failure(res.get(), what);
      if (PQstatus(conn_) == CONNECTION_BAD)
        break;
    }
    if (PQstatus(conn_) == CONNECTION_BAD)
      break;
  }
  if (PQstatus(conn_) == CONNECTION_BAD || PQexitPipelineMode(conn_) != 1) {
    if (!first)
      first = failure(nullptr, what);
    drop();
  }
  return first;
}

caf::error connection::transaction(const std::vector<step>& steps,
                                   std::string_view what, bool repeatable) {
  auto once = [&]() -> caf::error {
    if (steps.size() <= pipeline_chunk)
      return pipeline(steps, what);
    if (auto begun = exec("BEGIN", what); !begun)
      return std::move(begun.error());
    auto err = pipeline(steps, what);
    if (!err)
      if (auto committed = exec("COMMIT", what); !committed)
        err = std::move(committed.error());
    if (err)
      rollback();
    return err;
  };
  auto err = once();
  // A lost connection is dropped by whichever call found it.
  if (err && repeatable && conn_ == nullptr) {
    LOG_WARNING(message_of(err) << "; reconnecting");
    err = once();
  }
  return err;
}

void connection::rollback() {
  if (!conn_ || PQstatus(conn_) != CONNECTION_OK ||
      PQtransactionStatus(conn_) == PQTRANS_IDLE)
    return;
  result_ptr res{PQexec(conn_, "ROLLBACK")};
  if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK)
    drop();
}

// -- schema -------------------------------------------------------------------

namespace {

/// Runs one migration step if one is due; true once the schema is current.
caf::expected<bool> migrate_step(connection& c) {
  auto run = [&](const std::string& sql, std::string_view what) {
    auto res = c.exec(sql, what);
    return res ? caf::error{} : std::move(res.error());
  };
  if (auto err = run("BEGIN", "begin a schema migration"))
    return err;
  auto finish = [&](caf::error err) -> caf::expected<bool> {
    c.rollback();
    return err;
  };
  if (auto err = run(lock_sql, "lock the schema"))
    return finish(std::move(err));
  if (auto err = run("CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version INTEGER NOT NULL PRIMARY KEY,"
                     " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                     "create table schema_migrations"))
    return finish(std::move(err));
  auto version = c.exec("SELECT COALESCE(MAX(version), 0) FROM "
                        "schema_migrations",
                        "read the schema version");
  if (!version)
    return finish(std::move(version.error()));
  auto current = integer_at(version->get(), 0, 0);
  if (current > latest_version)
    return finish(
        make_error(ec::internal, "postgres: the database has schema version " +
                                     std::to_string(current) +
                                     ", newer than this build knows (" +
                                     std::to_string(latest_version) + ")"));
  if (current == latest_version) {
    if (auto err = run("COMMIT", "commit"))
      return finish(std::move(err));
    return true;
  }
  auto target = std::to_string(current + 1);
  if (auto err =
          run(migrations[current], "migrate to schema version " + target))
    return finish(std::move(err));
  if (auto err =
          run("INSERT INTO schema_migrations (version) VALUES (" + target + ")",
              "record schema version " + target))
    return finish(std::move(err));
  if (auto err = run("COMMIT", "commit schema version " + target))
    return finish(std::move(err));
  LOG_INFO("postgres: schema migrated to version " << target);
  return false;
}

} // namespace

caf::expected<std::unique_ptr<connection>> open(const std::string& dsn) {
  auto c = std::make_unique<connection>(dsn);
  if (auto err = c->ensure())
    return err;
  for (;;) {
    auto done = migrate_step(*c);
    if (!done)
      return done.error();
    if (*done)
      return c;
  }
}

caf::expected<std::string>
transaction_outcome(connection& conn, const std::string& xid, int attempts) {
  static const statement status{
      "argus_xact_status", "SELECT COALESCE(pg_xact_status($1::xid8), '')"};
  for (int attempt = 1;; ++attempt) {
    params p;
    p.integer(std::strtoll(xid.c_str(), nullptr, 10));
    auto res = conn.run(status, p, "ask whether a transaction committed");
    if (!res)
      return std::move(res.error());
    auto outcome = text_at(res->get(), 0, 0);
    if (outcome != "in progress" || attempt >= attempts)
      return outcome;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

int latest_schema_version() {
  return latest_version;
}

std::string text_at(const PGresult* res, int row, int col) {
  return unescape_text(
      std::string_view{PQgetvalue(res, row, col),
                       static_cast<size_t>(PQgetlength(res, row, col))});
}

std::string escape_text(std::string_view x) {
  if (x.find_first_of(std::string_view{"\0\1", 2}) == std::string_view::npos)
    return std::string{x};
  std::string out;
  out.reserve(x.size() + 8);
  for (char c : x) {
    if (c == '\0' || c == '\1') {
      out += '\1';
      out += static_cast<char>(c + 1);
    } else {
      out += c;
    }
  }
  return out;
}

std::string unescape_text(std::string_view x) {
  if (x.find('\1') == std::string_view::npos)
    return std::string{x};
  std::string out;
  out.reserve(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == '\1' && i + 1 < x.size()) {
      out += static_cast<char>(x[++i] - 1);
    } else {
      out += x[i];
    }
  }
  return out;
}

int64_t integer_at(const PGresult* res, int row, int col) {
  if (PQgetisnull(res, row, col))
    return 0;
  return std::strtoll(PQgetvalue(res, row, col), nullptr, 10);
}

std::string bigint_array(const std::vector<uint64_t>& xs) {
  std::string out = "{";
  for (auto x : xs) {
    if (out.size() > 1)
      out.push_back(',');
    out += std::to_string(x);
  }
  out.push_back('}');
  return out;
}

std::string text_array(const std::vector<std::string>& xs) {
  std::string out = "{";
  for (auto& x : xs) {
    if (out.size() > 1)
      out.push_back(',');
    out.push_back('"');
    for (char c : x) {
      if (c == '"' || c == '\\')
        out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string readable_jsonb(std::string_view column) {
  return "replace(" + std::string{column} + R"(, '\u0000', '\u0001')::jsonb)";
}

bool boolean_at(const PGresult* res, int row, int col) {
  return PQgetvalue(res, row, col)[0] == 't';
}

} // namespace argus::storage::pg
