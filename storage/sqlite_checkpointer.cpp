#include "storage/sqlite_checkpointer.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"

#include <sqlite3.h>

namespace argus::storage {

caf::expected<std::unique_ptr<wal_checkpointer>>
wal_checkpointer::open(const std::string& path,
                       std::chrono::milliseconds every) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return make_error(ec::internal, "sqlite: cannot open " + path +
                                        " to checkpoint (" + why + ")");
  }
  // A checkpoint syncs the WAL before it copies pages and the database
  // after (`synchronous` NORMAL or FULL); that sync is what makes the
  // commits it covers durable.
  sqlite3_exec(db,
               "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
               nullptr, nullptr, nullptr);
  return std::unique_ptr<wal_checkpointer>{new wal_checkpointer(db, every)};
}

wal_checkpointer::wal_checkpointer(sqlite3* db, std::chrono::milliseconds every)
    : db_(db), every_(every), thread_([this] { run(); }) {}

wal_checkpointer::~wal_checkpointer() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
  sqlite3_close(db_);
}

void wal_checkpointer::committed(uint64_t mark, int wal_frames) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (mark > committed_)
      committed_ = mark;
    if (wal_frames >= wake_at_frames && !wake_)
      wake = wake_ = true;
  }
  if (wake)
    cv_.notify_one();
}

caf::error wal_checkpointer::checkpoint_now() {
  std::lock_guard<std::mutex> one_at_a_time{checkpoint_mtx_};
  uint64_t mark;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    mark = committed_;
  }
  // PASSIVE neither waits for nor blocks the writer and readers. It copies
  // what no reader still needs; `copied == in_log` means every frame in the
  // WAL, so every commit up to `mark` (taken before it began), is now in
  // the synced database file.
  int in_log = 0;
  int copied = 0;
  auto rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE,
                                      &in_log, &copied);
  if (rc == SQLITE_BUSY)
    return {}; // the writer checkpoints by itself right now; next time
  if (rc != SQLITE_OK)
    return make_error(ec::internal, std::string{"sqlite: checkpoint failed: "} +
                                        sqlite3_errmsg(db_));
  if (copied == in_log && mark > durable_.load(std::memory_order_relaxed))
    durable_.store(mark, std::memory_order_release);
  return {};
}

void wal_checkpointer::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> guard{mtx_};
      cv_.wait_for(guard, every_, [this] { return stopping_ || wake_; });
      if (stopping_)
        return;
      wake_ = false;
    }
    if (auto err = checkpoint_now())
      LOG_WARNING(message_of(err) << "; will retry");
  }
}

} // namespace argus::storage
