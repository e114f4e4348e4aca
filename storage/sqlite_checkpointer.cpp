#include "storage/sqlite_checkpointer.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"
#include "storage/sqlite_busy.hpp"

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
  // A checkpoint that copies pages syncs the WAL first (`synchronous`
  // NORMAL or FULL); that sync is what makes the commits it covers
  // durable. Reading the mode also makes SQLite look at the file, so a
  // checkpoint cannot report the "not in WAL mode" -1s for a WAL file.
  sqlite3_stmt* stmt = nullptr;
  std::string mode;
  if (sqlite3_exec(
          db, "PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;",
          nullptr, nullptr, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    mode = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  if (mode != "wal") {
    std::string why = mode.empty() ? sqlite3_errmsg(db) : "not in WAL mode";
    sqlite3_close(db);
    return make_error(ec::internal,
                      "sqlite: cannot checkpoint " + path + " (" + why + ")");
  }
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
  auto done = checkpoint(db_, SQLITE_CHECKPOINT_PASSIVE);
  if (!done)
    return std::move(done.error());
  return {};
}

wal_checkpointer::restart wal_checkpointer::restart_log(sqlite3* writer,
                                                        int wal_frames) {
  std::unique_lock<std::mutex> one_at_a_time{checkpoint_mtx_, std::defer_lock};
  if (wal_frames >= 2 * writer_at_frames)
    one_at_a_time.lock();
  else if (!one_at_a_time.try_lock())
    return restart::checkpointer_busy;
  // RESTART waits for readers through the busy handler. A reader holding
  // an old snapshot (a long backup, say) keeps the WAL from starting over
  // anyway, so wait for it briefly, not the usual five seconds at every
  // commit.
  wait_out_other_writers(writer, std::chrono::milliseconds{10});
  auto done = checkpoint(writer, SQLITE_CHECKPOINT_RESTART);
  wait_out_other_writers(writer);
  if (!done) {
    LOG_WARNING(message_of(done.error()));
    return restart::reader_in_the_way;
  }
  return *done ? restart::started_over : restart::reader_in_the_way;
}

bool wal_checkpointer::keep_bounded(sqlite3* writer, int wal_frames) {
  if (wal_frames < restart_at_)
    return false;
  switch (restart_log(writer, wal_frames)) {
  case restart::started_over:
    restart_at_ = writer_at_frames;
    return true;
  case restart::checkpointer_busy:
    return false; // at the next commit
  case restart::reader_in_the_way:
    restart_at_ = wal_frames + writer_at_frames / 2;
    return false;
  }
  return false;
}

caf::expected<bool> wal_checkpointer::checkpoint(sqlite3* db, int mode) {
  uint64_t mark;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    mark = committed_;
  }
  // PASSIVE neither waits for nor blocks the writer and readers; RESTART
  // waits for them (through the busy handler). Each copies what no reader
  // still needs. `copied == in_log` means every frame in the WAL, so every
  // commit up to `mark` (taken before it began), is in the database file or
  // in a WAL synced before the copying (which starts over only once all is
  // copied and the database synced).
  int in_log = 0;
  int copied = 0;
  auto rc = sqlite3_wal_checkpoint_v2(db, "main", mode, &in_log, &copied);
  if (rc == SQLITE_BUSY)
    return false; // another process checkpoints, or a reader stayed
  if (rc != SQLITE_OK)
    return make_error(ec::internal, std::string{"sqlite: checkpoint failed: "} +
                                        sqlite3_errmsg(db));
  if (in_log < 0 || copied != in_log)
    return false;
  if (mark > durable_.load(std::memory_order_relaxed))
    durable_.store(mark, std::memory_order_release);
  return true;
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
