#pragma once

#include "domain/event.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

/// Where the durable ingest journal keeps its records, and the fence over
/// the journals a cluster shares. The group-commit writer in front of a
/// backend is `actors::journal`.
namespace argus::storage {

/// Where journal records live: a file log (sqlite backend) or a table
/// (postgres backend). Called by one thread at a time.
class journal_backend {
public:
  virtual ~journal_backend();

  /// The highest sequence number stored (0 when empty).
  virtual caf::expected<uint64_t> last_seq() = 0;

  /// Durably stores events whose `seq` fields are set, consecutive and
  /// above `last_seq()`. Returns only once they survive a crash (fsync or
  /// commit); all or nothing.
  virtual caf::error append(const std::vector<domain::event>& events) = 0;

  /// Calls `fn` for every stored event with seq above `after`, in order.
  virtual caf::error replay(uint64_t after,
                            const std::function<void(domain::event&)>& fn) = 0;

  /// Drops events up to `seq` (they are applied and persisted).
  virtual caf::error trim_through(uint64_t seq) = 0;

  /// Like `append`, and in the same transaction removes the records
  /// `from_seqs` from the journal `from` (a dead node's): they move here.
  /// Only the PostgreSQL journal, which nodes share, supports it.
  virtual caf::error adopt(const std::vector<domain::event>& events,
                           const std::string& from,
                           const std::vector<uint64_t>& from_seqs);
};

/// The journal id of a node outside a cluster; a clustered node journals
/// under its incarnation.
inline const std::string single_node_journal_id;

/// What a clustered node needs to take over the journals of nodes that died,
/// in the PostgreSQL database the cluster shares. Every incarnation of a
/// node journals under its own id and holds a lock on it for its lifetime;
/// the lock is free once the process is gone (its session closed). Its
/// other sessions, on which a dead process's last transactions may still
/// commit, are waited for too (`storage/postgres_writes.hpp`): a node that
/// takes it knows the writer will never write again. A single node's
/// restart uses it to wait for its predecessor's sessions.
class journal_fence {
public:
  virtual ~journal_fence();

  /// Takes this process's own lock; waits while another session holds it.
  virtual caf::error hold(const std::string& incarnation) = 0;

  /// Checks the lock `hold` took, and takes it again on a new session (it
  /// went with the session before, say when the server restarted). False
  /// when a peer fenced this process: it is taken for dead, and must stop.
  /// Called every few seconds, also to find a lost session early.
  virtual caf::expected<bool> keep() = 0;

  /// The incarnations with records in the journal (clustered ones only).
  virtual caf::expected<std::vector<std::string>> writers() = 0;

  /// Takes the lock of `incarnation` if its process is gone and none of
  /// its sessions is left (true): a dead process's backend runs what it
  /// was sent before it ends. Records it as fenced, so that a session it
  /// opens later (the process was alive after all) refuses to write.
  virtual caf::expected<bool> try_fence(const std::string& incarnation) = 0;

  /// Returns once no session of `writer` (a journal id: the single node's,
  /// or an incarnation) is left: what the store holds of a dead process is
  /// final. Waits as long as that takes.
  virtual caf::error await_writer_gone(const std::string& writer) = 0;

  /// Gives back a lock `try_fence` took.
  virtual caf::error release(const std::string& incarnation) = 0;

  /// Calls `fn` for every record of `incarnation`, in order, with whether
  /// it is applied already: a forwarded record kept for a while so that a
  /// sender's retry of it is recognised.
  virtual caf::error
  read(const std::string& incarnation,
       const std::function<void(domain::event&, bool done)>& fn) = 0;

  /// Makes `to` the deliverer of the notifications `from` (fenced, so gone
  /// for good) had not delivered yet: a node's pending deliveries move on
  /// when it dies.
  virtual caf::error take_outbox(const std::string& from,
                                 const std::string& to) = 0;
};

/// The file journal's segment length. Segments are made at this length,
/// of zeros, before records go into them; trimming drops whole segments.
constexpr int64_t file_journal_segment_bytes = 16 * 1024 * 1024;

/// A file journal in `dir`: segment files of length-prefixed, CRC-checked
/// records. A torn last write (a crash before it was acknowledged) is
/// cleared with a log line; any other damage is an error naming the file
/// and offset.
caf::expected<std::unique_ptr<journal_backend>>
open_file_journal(const std::string& dir,
                  int64_t segment_bytes = file_journal_segment_bytes);

/// A journal in the `journal` table of the PostgreSQL database at `dsn` (the
/// schema is the storage's, created or migrated on open), under the writer
/// id `id`: empty for a single node, the incarnation for a clustered one
/// (nodes share the table). An append is one
/// transaction; `last_seq` is the end of the last append, also after
/// trimming. An append replaces records at or above its first number: only
/// an append whose commit landed although the caller saw it fail (a lost
/// reply) leaves such records, and the caller reuses their numbers. Calls
/// fail with `ec::unavailable` while the server cannot be reached.
caf::expected<std::unique_ptr<journal_backend>>
open_postgres_journal(const std::string& dsn, const std::string& id = "");

/// The fence over the journals in the PostgreSQL database at `dsn`, on a
/// connection of its own.
caf::expected<std::unique_ptr<journal_fence>>
open_postgres_fence(const std::string& dsn);

} // namespace argus::storage
