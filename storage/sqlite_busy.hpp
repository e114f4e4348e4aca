#pragma once

#include <sqlite3.h>

#include <chrono>
#include <thread>

namespace argus::storage {

/// Makes `db` wait for another connection's write lock in steps of 100 µs,
/// for at least five seconds, instead of SQLite's `busy_timeout`, which
/// sleeps 1, 2, 5, 10, 15, 20 and 25 ms between tries. The repository and
/// the delivery worker write the same file over two connections and each
/// holds the lock for about a millisecond, so the one that lost the race
/// slept several times that, and the notifications of its commit waited
/// with it.
inline void wait_out_other_writers(sqlite3* db) {
  sqlite3_busy_handler(
      db,
      [](void*, int tries) -> int {
        constexpr auto step = std::chrono::microseconds{100};
        constexpr int max_tries = 5'000'000 / 100; // 5 s of steps, at least
        if (tries >= max_tries)
          return 0; // SQLITE_BUSY to the caller
        std::this_thread::sleep_for(step);
        return 1;
      },
      nullptr);
}

} // namespace argus::storage
