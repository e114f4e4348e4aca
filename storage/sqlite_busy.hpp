#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace argus::storage {

/// Makes `db` wait for another connection's write lock in steps of 100 µs,
/// for at least `patience` (five seconds unless said otherwise), instead of
/// SQLite's `busy_timeout`, which sleeps 1, 2, 5, 10, 15, 20 and 25 ms
/// between tries. The repository and the delivery worker write the same
/// file over two connections and each holds the lock for about a
/// millisecond, so the one that lost the race slept several times that, and
/// the notifications of its commit waited with it.
inline void wait_out_other_writers(
    sqlite3* db,
    std::chrono::milliseconds patience = std::chrono::milliseconds{5000}) {
  // SQLite passes the handler a pointer; the number of tries fits in one.
  auto max_tries =
      static_cast<intptr_t>(patience / std::chrono::microseconds{100});
  sqlite3_busy_handler(
      db,
      [](void* limit, int tries) -> int {
        if (tries >= reinterpret_cast<intptr_t>(limit))
          return 0; // SQLITE_BUSY to the caller
        std::this_thread::sleep_for(std::chrono::microseconds{100});
        return 1;
      },
      reinterpret_cast<void*>(max_tries));
}

} // namespace argus::storage
