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
  /// The WAL size (in pages) at which a commit wakes the checkpointer
  /// (SQLite's own automatic checkpoint threshold). The WAL keeps its size
  /// until it starts over, so past it every commit wakes the thread, and
  /// each checkpoint has only that commit's pages to copy.
  static constexpr int wake_at_frames = 1000;
  /// The WAL size at which the writer makes the file start over itself
  /// (`restart_log`). The WAL starts over only at a writer's commit that
  /// finds it wholly copied; under steady writes the background checkpoints
  /// rarely finish between two, so this bounds the file: about 40 MiB, at
  /// most twice that, unless a reader holds an old snapshot for long. By
  /// then nearly every page is copied.
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

  /// Checkpoints now (PASSIVE), on the caller's thread.
  caf::error checkpoint_now();

  /// What `restart_log` did.
  enum class restart {
    started_over,      ///< the WAL is copied and synced; the next commit
                       ///< writes from its start
    checkpointer_busy, ///< a background checkpoint ran: try at a next commit
    reader_in_the_way, ///< a reader kept pages from being copied: back off
  };

  /// Checkpoints on the writer's connection `writer`, on its thread, so
  /// that the WAL starts over (RESTART): for a WAL of `wal_frames` pages,
  /// past `writer_at_frames`. The file keeps its size and is written again
  /// from its start. Not TRUNCATE, which also empties the file: cutting
  /// 40 MiB off took 14-27 ms, a stall of every notification behind that
  /// commit, against microseconds when the background checkpoints had
  /// copied the pages already. SQLite fails a second checkpointer at once,
  /// busy handler or not, so while a background checkpoint runs this does
  /// nothing, unless the WAL passed twice the bound: then it waits for it.
  /// It waits for readers only briefly.
  restart restart_log(sqlite3* writer, int wal_frames);

  /// On the writer's thread after each commit: makes the WAL start over
  /// (`restart_log`) once it has `writer_at_frames` pages, so the bound
  /// holds even when commits come too often for the WAL to start over by
  /// itself. After a reader kept it from that, it tries again only half
  /// the bound later: each try may wait for readers, and a long one would
  /// hold every commit. True when the WAL starts over.
  bool keep_bounded(sqlite3* writer, int wal_frames);

private:
  wal_checkpointer(sqlite3* db, std::chrono::milliseconds every);
  void run();
  /// Holding `checkpoint_mtx_`: whether every page in the WAL got copied
  /// (which makes the marks committed before durable).
  caf::expected<bool> checkpoint(sqlite3* db, int mode);

  sqlite3* db_;
  std::chrono::milliseconds every_;
  std::atomic<uint64_t> durable_{0};
  /// The WAL size at which the writer's next commit restarts it (the
  /// writer's thread only).
  int restart_at_ = writer_at_frames;
  std::mutex checkpoint_mtx_; // one checkpoint at a time
  std::mutex mtx_;            // guards the members below
  std::condition_variable cv_;
  uint64_t committed_ = 0;
  bool wake_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace argus::storage
