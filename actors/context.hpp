#pragma once

#include "domain/types.hpp"
#include "metrics/registry.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

namespace argus::actors {

/// Counters every part of a node updates and /healthz, argusctl and the
/// benchmarks read. Relaxed atomics: they are statistics, not control flow.
struct metrics {
  std::atomic<uint64_t> events_received{0};
  std::atomic<uint64_t> events_accepted{0};
  std::atomic<uint64_t> events_rejected{0};
  /// Events a grouping actor applied (the "fully processed" count).
  std::atomic<uint64_t> events_applied{0};
  /// Resolves for dedupKeys with no active alert.
  std::atomic<uint64_t> events_ignored{0};
  /// Clustered: events this node forwarded to their owner node (accepted
  /// there, so counted in the owner's `events_accepted`).
  std::atomic<uint64_t> events_forwarded{0};
  std::atomic<uint64_t> notifications{0};
  std::atomic<uint64_t> store_errors{0};
  /// Alert changes handed to the repository, and those it has stored: the
  /// difference is the write-behind backlog.
  std::atomic<uint64_t> writes_queued{0};
  std::atomic<uint64_t> writes_stored{0};

  /// Work accepted but not finished: events not yet applied plus alert
  /// changes not yet stored. Ingestion refuses work past a bound on it, so
  /// neither the actors' mailboxes nor the repository's can grow without
  /// limit.
  uint64_t backlog() const { return events_unapplied() + store_backlog(); }

  /// Accepted events the grouping actors have not applied yet.
  uint64_t events_unapplied() const {
    return difference(events_accepted, events_applied);
  }

  /// Alert changes the repository has not stored yet.
  uint64_t store_backlog() const {
    return difference(writes_queued, writes_stored);
  }

  std::atomic<int64_t> groups_live{0};

private:
  /// `more - less`, or 0 while a reader sees `less` updated first.
  static uint64_t difference(const std::atomic<uint64_t>& more,
                             const std::atomic<uint64_t>& less) {
    auto a = more.load(std::memory_order_relaxed);
    auto b = less.load(std::memory_order_relaxed);
    return a > b ? a - b : 0;
  }
};

/// What every actor of a node shares: the clock (injected so tests control
/// time) and the metrics.
struct context {
  std::function<domain::time_point()> now = [] {
    return domain::time_point{std::chrono::system_clock::now()};
  };
  std::shared_ptr<metrics> stats = std::make_shared<metrics>();
  /// Whether a receiver of this manager asks for child_added notifications
  /// (the node reads its catalog); unset: none does.
  std::function<bool(const std::string& manager_id)> child_notices;
  /// The Prometheus families beyond `stats` (per front, per manager,
  /// latencies); `GET /metrics` serves both.
  std::shared_ptr<::argus::metrics::registry> registry =
      std::make_shared<::argus::metrics::registry>();
};

using context_ptr = std::shared_ptr<const context>;

} // namespace argus::actors
