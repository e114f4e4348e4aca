#pragma once

#include "storage/journal.hpp"

#include "domain/event.hpp"

#include <caf/error.hpp>

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

/// Group commit in front of a backend. Callers on many threads hand over
/// events; one writer thread stores whatever has gathered with one
/// fsync/commit, assigns consecutive sequence numbers and acceptance times,
/// hands the stored events to `deliver` in journal order, and only then
/// releases the callers.
class journal {
public:
  using deliver_fn = std::function<void(std::vector<domain::event>&)>;
  /// Learns how long each store (write and sync) took, in seconds.
  using observe_fn = std::function<void(double seconds)>;

  /// Numbers new events after `applied_through` and the backend's last.
  journal(std::unique_ptr<storage::journal_backend> backend,
          uint64_t applied_through, deliver_fn deliver,
          observe_fn observe = {});
  ~journal();

  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Appends and waits until the events are durable and delivered. An error
  /// (disk full, read-only folder, database down) means nothing was stored.
  caf::error append(std::vector<domain::event> events);

  /// Moves a dead writer's records here (`storage::journal_backend::adopt`):
  /// they get new numbers, keep their acceptance times, and are delivered like
  /// appended events. Waits like `append`.
  caf::error adopt(std::vector<domain::event> events, const std::string& from);

  /// The backend, for replay and trimming (not while appends run).
  storage::journal_backend& backend() { return *backend_; }

  /// Drops applied events up to `seq` (thread-safe).
  caf::error trim_through(uint64_t seq);

private:
  struct pending_batch;

  caf::error enqueue(pending_batch& batch);
  void run();
  /// Stores and delivers `batches` as one transaction; releases their
  /// callers; leaves `batches` empty.
  void write(std::vector<pending_batch*>& batches);

  std::unique_ptr<storage::journal_backend> backend_;
  /// Serializes the writer's appends with trims from other threads.
  std::mutex backend_mtx_;
  deliver_fn deliver_;
  observe_fn observe_;
  std::mutex mtx_;
  std::condition_variable wake_writer_;
  /// The writer's list of callers to wake after a commit, kept for reuse.
  std::vector<std::shared_ptr<std::condition_variable>> to_wake_;
  std::vector<pending_batch*> queue_;
  uint64_t next_seq_ = 1;
  domain::time_point last_time_{};
  bool stopping_ = false;
  std::thread writer_;
};

} // namespace argus::actors
