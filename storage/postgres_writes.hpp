#pragma once

#include "storage/postgres.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

/// Fencing a dead writer's transactions still in flight.
///
/// A process killed with COMMIT on its way leaves a backend that reads the
/// COMMIT from its socket and commits after the process is gone, when it
/// gets to it: on a busy server, after the restarted process (or a cluster
/// peer taking over) read the store. Recovery decided on that read would
/// apply the transaction's events a second time (their alerts' counts are
/// stored as deltas) or miss its journal records. So every write
/// transaction of a writer (the single node, or one incarnation of a
/// cluster node) holds a shared lock for its writer, and whoever recovers
/// from a writer first takes that lock exclusively, which waits for each
/// transaction of it still running. A backend whose client is gone commits
/// nothing it has not received already, so once that lock is had, what the
/// store holds of the writer is final.
namespace argus::storage::pg {

/// The advisory lock class of writes in flight (the cluster's journal
/// fence uses 418581919).
constexpr int32_t writes_lock_class = 418581920;

/// Begins the write transactions of one writer on one connection.
class writer_transactions {
public:
  explicit writer_transactions(std::string writer)
      : writer_(std::move(writer)) {}

  /// BEGIN, then the writer's shared lock, then `then` (SQL without
  /// parameters, such as a SELECT the caller reads the result of; may be
  /// empty), as one exec.
  caf::expected<result_ptr> begin(connection& conn, const std::string& then,
                                  std::string_view what);

  const std::string& writer() const { return writer_; }

private:
  std::string writer_;
  /// The writer's lock key, once asked for (the same on every connection).
  std::string key_;
};

/// The lock key of `writer`: its name in the connection's schema, so
/// deployments that share a database in different schemas keep apart.
caf::expected<int32_t> writer_key(connection& conn, const std::string& writer);

/// Whether no write transaction of `writer` is running now (the lock taken
/// and let go at once); false while one is.
caf::expected<bool> writes_settled(connection& conn, const std::string& writer);

/// Returns once no write transaction of `writer` is running: those a dead
/// process left have committed or rolled back. Logs while it waits.
caf::error await_writes(connection& conn, const std::string& writer);

} // namespace argus::storage::pg
