#pragma once

#include "storage/postgres.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

/// Fencing what a dead writer sent before it died.
///
/// A process killed with COMMIT on its way leaves a backend that reads the
/// COMMIT from its socket and commits after the process is gone, when it
/// gets to it: on a busy server, after the restarted process (or a cluster
/// peer taking over) read the store. Recovery decided on that read would
/// apply the transaction's events a second time (their alerts' counts are
/// stored as deltas) or miss its journal records. So every session a
/// writer (the single node, or one incarnation of a cluster node) writes
/// on holds a session-level lock of that writer, shared, and whoever
/// recovers from a writer first takes that lock exclusively. A session
/// lets go of it only when it ends, and a backend ends only once it has
/// run everything its dead client sent: once the lock is had, what the
/// store holds of the writer is final, whatever it was sent last
/// (autocommit statements and whole pipelines included), at no cost per
/// transaction.
///
/// A session whose host died holds its lock until the server notices;
/// every session asks the server to notice within about 25 s (see
/// `connection::ensure`), where the operating system's defaults take
/// hours.
///
/// A cluster peer that takes an incarnation for dead records it as fenced
/// (`fence_writer`), in the transaction that found none of its sessions
/// left. Its process may be alive all the same: paused, or cut off from
/// the server for a while, or every session dropped by a server restart.
/// Should it come back, each of its sessions reads that record once it
/// holds the lock again, and refuses to write: its groups and journal
/// belong to the peer now.
namespace argus::storage::pg {

/// The advisory lock class of writers' sessions (the cluster's journal
/// fence uses 418581919).
constexpr int32_t writer_lock_class = 418581920;

/// Fenced writers' records are kept this long (a writer cut off for
/// longer could write again).
constexpr int64_t fenced_record_days = 30;

/// Makes every session of `conn`, the current one and each made later,
/// hold `writer`'s lock shared while it lives, and fail (SQLSTATE AR001)
/// if `writer` was fenced. The writer's name is taken in the connection's
/// schema, so deployments that share a database in different schemas keep
/// apart.
caf::error hold_writer_lock(connection& conn, const std::string& writer);

/// Takes `writer`'s lock shared on the current session, until
/// `unlock_writer` or the session's end: for writes that change another
/// writer's rows (an adoption takes a dead node's journal records).
caf::error lock_writer(connection& conn, const std::string& writer);
caf::error unlock_writer(connection& conn, const std::string& writer);

/// Whether no session of `writer` is left (the lock taken and let go at
/// once); false while one is.
caf::expected<bool> writer_gone(connection& conn, const std::string& writer);

/// Like `writer_gone`, and when no session is left, records `writer` as
/// fenced in the same transaction: a session of it that connects later
/// refuses to write. The lock, tried in that transaction, holds such a
/// session back until the record is committed.
caf::expected<bool> fence_writer(connection& conn, const std::string& writer);

/// Whether a peer fenced `writer`.
caf::expected<bool> writer_fenced(connection& conn, const std::string& writer);

/// Returns once no session of `writer` is left: what a dead process sent
/// has committed or rolled back. Logs while it waits.
caf::error await_writer_gone(connection& conn, const std::string& writer);

} // namespace argus::storage::pg
