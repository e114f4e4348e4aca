#include "storage/postgres_writes.hpp"

#include "config/log.hpp"

namespace argus::storage::pg {

namespace {

// The writer's name goes through `hashtext` with the schema, as the
// cluster's journal fence hashes incarnations: both ends of a lock ask the
// same server, so the function's value never has to be stable elsewhere.
const statement key_of{"argus_writer_key",
                       "SELECT hashtext(current_schema() || ':' || $1)"};

std::string lock_call(const char* function, int32_t key) {
  return std::string{"SELECT "} + function + "(" +
         std::to_string(writes_lock_class) + ", " + std::to_string(key) + ")";
}

caf::expected<result_ptr> exec_with_key(connection& conn,
                                        const std::string& writer,
                                        const char* function,
                                        std::string_view what) {
  auto key = writer_key(conn, writer);
  if (!key)
    return std::move(key.error());
  return conn.exec(lock_call(function, *key), what);
}

} // namespace

caf::expected<int32_t> writer_key(connection& conn, const std::string& writer) {
  params p;
  p.text(writer);
  auto res = conn.run(key_of, p, "find the writer's lock");
  if (!res)
    return std::move(res.error());
  return static_cast<int32_t>(integer_at(res->get(), 0, 0));
}

caf::expected<result_ptr> writer_transactions::begin(connection& conn,
                                                     const std::string& then,
                                                     std::string_view what) {
  if (key_.empty()) {
    auto key = writer_key(conn, writer_);
    if (!key)
      return std::move(key.error());
    key_ = std::to_string(*key);
  }
  auto sql = "BEGIN; SELECT pg_advisory_xact_lock_shared(" +
             std::to_string(writes_lock_class) + ", " + key_ + ")";
  if (!then.empty())
    sql.append("; ").append(then);
  return conn.exec(sql, what);
}

caf::expected<bool> writes_settled(connection& conn,
                                   const std::string& writer) {
  // Outside a transaction the lock goes with the statement that took it.
  auto res = exec_with_key(conn, writer, "pg_try_advisory_xact_lock",
                           "check for writes in flight");
  if (!res)
    return std::move(res.error());
  return boolean_at(res->get(), 0, 0);
}

caf::error await_writes(connection& conn, const std::string& writer) {
  auto settled = writes_settled(conn, writer);
  if (!settled)
    return std::move(settled.error());
  if (*settled)
    return {};
  LOG_INFO("postgres: waiting for write transactions of a previous process "
           "to end before reading what they stored");
  auto res = exec_with_key(conn, writer, "pg_advisory_xact_lock",
                           "wait for writes in flight");
  if (!res)
    return std::move(res.error());
  LOG_INFO("postgres: the previous process's write transactions ended");
  return {};
}

} // namespace argus::storage::pg
