#include "storage/postgres_writes.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"

#include <chrono>
#include <thread>

namespace argus::storage::pg {

namespace {

// The writer's name goes through `hashtext` with the schema. Both ends of
// a lock ask the same server, so the function's value never has to be
// stable elsewhere.
const statement key_of{"argus_writer_key",
                       "SELECT hashtext(current_schema() || ':' || $1)"};

const statement record_fence{"argus_fence_writer",
                             "INSERT INTO fenced_writers (writer) VALUES ($1)"
                             " ON CONFLICT (writer) DO NOTHING"};
const statement prune_fences{
    "argus_prune_fenced_writers",
    "DELETE FROM fenced_writers WHERE fenced_at < now() - interval '" +
        std::to_string(fenced_record_days) + " days'"};
const statement is_fenced{
    "argus_writer_fenced",
    "SELECT EXISTS (SELECT 1 FROM fenced_writers WHERE writer = $1)"};

caf::expected<std::string> lock_args(connection& conn,
                                     const std::string& writer) {
  params p;
  p.text(writer);
  auto res = conn.run(key_of, p, "find the writer's lock");
  if (!res)
    return std::move(res.error());
  if (PQgetisnull(res->get(), 0, 0))
    return make_error(ec::internal, "postgres: no schema to name the "
                                    "writer's lock in (search_path)");
  return std::to_string(writer_lock_class) + ", " +
         std::to_string(integer_at(res->get(), 0, 0));
}

/// Runs `function` on `writer`'s lock.
caf::expected<result_ptr> on_lock(connection& conn, const std::string& writer,
                                  const char* function, std::string_view what) {
  auto args = lock_args(conn, writer);
  if (!args)
    return std::move(args.error());
  return conn.exec(std::string{"SELECT "} + function + "(" + *args + ")", what);
}

/// Whether no session holds the lock `args` names.
caf::expected<bool> lock_free(connection& conn, const std::string& args) {
  // Outside a transaction the lock goes with the statement that took it.
  auto res = conn.exec("SELECT pg_try_advisory_xact_lock(" + args + ")",
                       "look for a writer's sessions");
  if (!res)
    return std::move(res.error());
  return boolean_at(res->get(), 0, 0);
}

/// Fails a session of `writer` (an SQL literal) if a peer fenced it.
std::string refuse_if_fenced(const std::string& writer) {
  // The body's quotes: a dollar tag the name does not hold (a node id is
  // the operator's text).
  std::string tag = "$argus$";
  while (writer.find(tag) != std::string::npos)
    tag.insert(tag.size() - 1, "_");
  return "DO " + tag +
         "BEGIN IF EXISTS (SELECT 1 FROM fenced_writers WHERE writer = " +
         writer +
         ") THEN RAISE EXCEPTION 'a cluster peer fenced this node (it took"
         " it for dead and took its groups over): it must not write, and"
         " stops' USING ERRCODE = 'AR001'; END IF; END" +
         tag;
}

} // namespace

caf::error hold_writer_lock(connection& conn, const std::string& writer) {
  auto args = lock_args(conn, writer);
  if (!args)
    return std::move(args.error());
  auto name = conn.literal(escape_text(writer));
  if (!name)
    return std::move(name.error());
  // The check is a transaction of its own, after the lock's: it sees a
  // fence that committed while this session waited for the lock, at any
  // isolation level. One setup, so that a session that fails the check
  // is dropped, its lock with it.
  return conn.on_every_session({"SELECT pg_advisory_lock_shared(" + *args + ")",
                                refuse_if_fenced(*name)},
                               "hold the writer's lock");
}

caf::error lock_writer(connection& conn, const std::string& writer) {
  return done(
      on_lock(conn, writer, "pg_advisory_lock_shared", "take a writer's lock"));
}

caf::error unlock_writer(connection& conn, const std::string& writer) {
  return done(on_lock(conn, writer, "pg_advisory_unlock_shared",
                      "let go of a writer's lock"));
}

caf::expected<bool> writer_gone(connection& conn, const std::string& writer) {
  auto args = lock_args(conn, writer);
  if (!args)
    return std::move(args.error());
  return lock_free(conn, *args);
}

caf::expected<bool> fence_writer(connection& conn, const std::string& writer) {
  auto args = lock_args(conn, writer);
  if (!args)
    return std::move(args.error());
  constexpr std::string_view what = "fence a dead node's writes";
  if (auto begun = conn.exec("BEGIN", what); !begun)
    return std::move(begun.error());
  auto fail = [&](caf::error err) -> caf::expected<bool> {
    conn.rollback();
    return err;
  };
  // Held until COMMIT: a session of the writer that connects meanwhile
  // waits for it, then reads the record.
  auto free =
      conn.exec("SELECT pg_try_advisory_xact_lock(" + *args + ")", what);
  if (!free)
    return fail(std::move(free.error()));
  if (!boolean_at(free->get(), 0, 0)) {
    conn.rollback();
    return false;
  }
  params record;
  record.text(writer);
  if (auto err =
          conn.pipeline({{&record_fence, record}, {&prune_fences, {}}}, what))
    return fail(std::move(err));
  if (auto err = done(conn.exec("COMMIT", what)))
    return fail(std::move(err));
  return true;
}

caf::expected<bool> writer_fenced(connection& conn, const std::string& writer) {
  params p;
  p.text(writer);
  auto res = conn.run(is_fenced, p, "look for this node's fence");
  if (!res)
    return std::move(res.error());
  return boolean_at(res->get(), 0, 0);
}

caf::error await_writer_gone(connection& conn, const std::string& writer) {
  using namespace std::chrono;
  auto args = lock_args(conn, writer);
  if (!args)
    return std::move(args.error());
  auto next_log = steady_clock::now();
  for (;;) {
    auto gone = lock_free(conn, *args);
    if (!gone)
      return std::move(gone.error());
    if (*gone)
      return {};
    if (steady_clock::now() >= next_log) {
      LOG_WARNING("postgres: sessions of a previous process of this node are "
                  "still open; waiting for them to end before reading what "
                  "they stored (a process that died: until the server drops "
                  "its sessions; a second node configured as this one: "
                  "until it stops)");
      next_log = steady_clock::now() + seconds{10};
    }
    std::this_thread::sleep_for(milliseconds{20});
  }
}

} // namespace argus::storage::pg
