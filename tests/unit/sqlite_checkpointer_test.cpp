// The WAL checkpointer: a journal mark counts as durable only once a
// checkpoint has copied every commit up to it into the synced database
// file, and the SQLite store trims no further than that.

#include "storage/sqlite_checkpointer.hpp"
#include "storage/store.hpp"

#include "domain/error.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using argus::storage::wal_checkpointer;

/// A database in WAL mode with one table, in a folder removed at the end.
struct wal_db {
  fs::path dir = fs::temp_directory_path() /
                 ("argus-checkpoint-test-" + argus::domain::random_uuid());
  std::string path = (dir / "test.db").string();
  sqlite3* writer = nullptr;

  wal_db() {
    fs::create_directories(dir);
    REQUIRE(sqlite3_open(path.c_str(), &writer) == SQLITE_OK);
    exec(writer, "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                 "CREATE TABLE t (x INTEGER);");
  }
  ~wal_db() {
    sqlite3_close(writer);
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }
  wal_db(const wal_db&) = delete;
  wal_db& operator=(const wal_db&) = delete;

  static void exec(sqlite3* db, const char* sql) {
    char* err = nullptr;
    auto rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
    std::string why = err ? err : "";
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
    CHECK(why.empty());
  }

  void insert() { exec(writer, "INSERT INTO t VALUES (1)"); }
};

std::unique_ptr<wal_checkpointer> open_idle(const std::string& path) {
  // An hour between checkpoints: in these tests only checkpoint_now runs.
  auto cp = wal_checkpointer::open(path, std::chrono::hours{1});
  if (!cp)
    FAIL("open failed: " << argus::message_of(cp.error()));
  return std::move(*cp);
}

} // namespace

TEST_CASE("checkpointer: a commit is durable once a checkpoint covers it",
          "[unit]") {
  wal_db db;
  auto cp = open_idle(db.path);
  CHECK(cp->durable_through() == 0);

  db.insert();
  cp->committed(7, 1); // a small WAL wakes no one
  CHECK(cp->durable_through() == 0);
  REQUIRE_FALSE(cp->checkpoint_now());
  CHECK(cp->durable_through() == 7);

  SECTION("a mark never moves back") {
    cp->committed(3, 1);
    REQUIRE_FALSE(cp->checkpoint_now());
    CHECK(cp->durable_through() == 7);
  }

  SECTION("not while a reader keeps part of the WAL from being copied") {
    sqlite3* reader = nullptr;
    REQUIRE(sqlite3_open(db.path.c_str(), &reader) == SQLITE_OK);
    // The reader's snapshot predates the next commit, whose pages the
    // checkpoint may then not copy: that commit is not yet in the file.
    wal_db::exec(reader, "BEGIN; SELECT count(*) FROM t;");
    db.insert();
    cp->committed(9, 2);
    REQUIRE_FALSE(cp->checkpoint_now());
    CHECK(cp->durable_through() == 7);

    wal_db::exec(reader, "COMMIT");
    sqlite3_close(reader);
    REQUIRE_FALSE(cp->checkpoint_now());
    CHECK(cp->durable_through() == 9);
  }
}

TEST_CASE("checkpointer: a large WAL wakes its thread", "[unit]") {
  wal_db db;
  auto cp = open_idle(db.path);
  db.insert();
  cp->committed(5, wal_checkpointer::wake_at_frames);
  // Not a timing check: it waits (up to 10 s) for the thread to run.
  for (int i = 0; i < 1000 && cp->durable_through() < 5; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(cp->durable_through() == 5);
}

TEST_CASE("sqlite storage: the journal may be trimmed only through what a "
          "checkpoint made durable",
          "[unit]") {
  wal_db db; // for its folder
  auto path = (db.dir / "argus.db").string();
  auto opened = argus::storage::open_sqlite_store(path);
  REQUIRE(opened);
  auto& store = **opened;
  REQUIRE_FALSE(store.write({}, 12));
  CHECK(store.durable_through(12) <= 12);
  // The store's checkpointer runs every second, so this takes about one.
  for (int i = 0; i < 1000 && store.durable_through(12) < 12; ++i)
    std::this_thread::sleep_for(10ms);
  CHECK(store.durable_through(12) == 12);
  // Never past what the caller committed.
  CHECK(store.durable_through(10) == 10);
}

TEST_CASE("sqlite storage: the WAL stays bounded under steady writes",
          "[unit]") {
  wal_db db; // for its folder
  auto path = (db.dir / "argus.db").string();
  auto opened = argus::storage::open_sqlite_store(path);
  REQUIRE(opened);
  auto& store = **opened;
  // Each write adds a new alert: several pages (the row and its indexes).
  for (int i = 0; i < 4000; ++i) {
    argus::domain::alert a;
    a.dedup_key = "key-" + std::to_string(i);
    a.event_manager_id = "m1";
    a.id = argus::domain::alert_id_for("m1", a.dedup_key);
    REQUIRE_FALSE(store.write({argus::domain::alert_write{a, 1}}, i + 1));
  }
  // A page in the WAL is 4 KiB plus a 24-byte header; one transaction
  // may go past the bound before the writer empties the file.
  auto bound = (wal_checkpointer::writer_at_frames + 100) * (4096 + 24);
  CHECK(fs::file_size(path + "-wal") <= static_cast<uintmax_t>(bound));
}
