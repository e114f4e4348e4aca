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

} // namespace

caf::error hold_writer_lock(connection& conn, const std::string& writer) {
  auto args = lock_args(conn, writer);
  if (!args)
    return std::move(args.error());
  return conn.on_every_session("SELECT pg_advisory_lock_shared(" + *args + ")",
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
