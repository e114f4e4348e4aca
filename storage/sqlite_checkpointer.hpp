#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace argus::storage {

/// Checkpoints a SQLite database's write-ahead log on a thread and a
/// connection of its own, and says which journal mark is durable.
///
/// Why: with SQLite's automatic checkpoints the writer (the repository)
/// copied about a thousand WAL pages into the database and waited for two
/// fsyncs at every thousandth page, inside a commit that notifications wait
/// for. And with `synchronous = NORMAL` a commit is only durable once a
/// checkpoint has synced it, so the journal may be trimmed only that far
/// (`durable_through`), not up to the last commit.
class wal_checkpointer {
public:
  /// The WAL size (in pages) at which the writer wakes the checkpointer.
  static constexpr int wake_at_frames = 1000;
  /// The WAL size at which the writer checkpoints by itself and empties
  /// the file. The WAL starts over only at a writer's commit that finds it
  /// wholly checkpointed; under steady writes the background checkpoints
  /// rarely finish between two, so this bounds the file (about 40 MiB). By
  /// then most pages are copied.
  static constexpr int writer_at_frames = 10'000;

  /// Opens a connection to the database at `path` (already in WAL mode) and
  /// starts the thread; it checkpoints when woken and at least `every`.
  static caf::expected<std::unique_ptr<wal_checkpointer>>
  open(const std::string& path, std::chrono::milliseconds every);

  ~wal_checkpointer();
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  /// The writer committed a transaction that raised the journal mark to
  /// `mark` and left `wal_frames` pages in the WAL.
  void committed(uint64_t mark, int wal_frames);

  /// The highest mark a checkpoint made durable: every commit up to it is
  /// in the synced database file.
  uint64_t durable_through() const {
    return durable_.load(std::memory_order_acquire);
  }

  /// Checkpoints now, on the caller's thread (tests and shutdown).
  caf::error checkpoint_now();

private:
  wal_checkpointer(sqlite3* db, std::chrono::milliseconds every);
  void run();

  sqlite3* db_;
  std::chrono::milliseconds every_;
  std::atomic<uint64_t> durable_{0};
  std::mutex checkpoint_mtx_; // one checkpoint at a time on db_
  std::mutex mtx_;            // guards the members below
  std::condition_variable cv_;
  uint64_t committed_ = 0;
  bool wake_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace argus::storage
