#pragma once

#include "domain/event.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

/// The durable ingest journal: accepted events are appended (with group
/// commit) before the front answers 202, and replayed after a crash.
namespace argus::actors {

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
};

/// A file journal in `dir`: segment files of length-prefixed, CRC-checked
/// records. A torn last record (a crash mid-write) is discarded with a log
/// line; any other damage is an error naming the file and offset.
caf::expected<std::unique_ptr<journal_backend>>
open_file_journal(const std::string& dir);

/// A journal in the `journal` table of the PostgreSQL database at `dsn` (the
/// schema is the storage's, created or migrated on open). An append is one
/// transaction; `last_seq` is the end of the last append, also after
/// trimming. An append replaces records at or above its first number: only
/// an append whose commit landed although the caller saw it fail (a lost
/// reply) leaves such records, and the caller reuses their numbers. Calls
/// fail with `ec::unavailable` while the server cannot be reached.
caf::expected<std::unique_ptr<journal_backend>>
open_postgres_journal(const std::string& dsn);

/// Group commit in front of a backend. Callers on many threads hand over
/// events; one writer thread stores whatever has gathered with one
/// fsync/commit, assigns consecutive sequence numbers and acceptance times,
/// hands the stored events to `deliver` in journal order, and only then
/// releases the callers.
class journal {
public:
  using deliver_fn = std::function<void(std::vector<domain::event>&)>;

  /// Numbers new events after `applied_through` and the backend's last.
  journal(std::unique_ptr<journal_backend> backend, uint64_t applied_through,
          deliver_fn deliver);
  ~journal();

  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Appends and waits until the events are durable and delivered. An error
  /// (disk full, read-only folder, database down) means nothing was stored.
  caf::error append(std::vector<domain::event> events);

  /// The backend, for replay and trimming (not while appends run).
  journal_backend& backend() { return *backend_; }

  /// Drops applied events up to `seq` (thread-safe).
  caf::error trim_through(uint64_t seq);

private:
  struct pending_batch;

  void run();

  std::unique_ptr<journal_backend> backend_;
  /// Serializes the writer's appends with trims from other threads.
  std::mutex backend_mtx_;
  deliver_fn deliver_;
  std::mutex mtx_;
  std::condition_variable batch_done_;
  std::condition_variable wake_writer_;
  std::vector<pending_batch*> queue_;
  uint64_t next_seq_ = 1;
  domain::time_point last_time_{};
  bool stopping_ = false;
  std::thread writer_;
};

} // namespace argus::actors
