#pragma once

#include "actors/actors.hpp"
#include "actors/context.hpp"
#include "domain/retention.hpp"
#include "storage/store.hpp"

#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace argus::actors {

struct repository_settings {
  /// Flush once this many changes are pending...
  size_t batch_size = 2000;
  /// ...and this long apart: a change that finds the last write ended
  /// longer ago than this is written at once (after the messages already
  /// queued, which share its transaction), else when this long has passed
  /// since that end. So a quiet node waits for nothing, and a busy one
  /// batches as before. Zero: whenever the queued messages are in. Changes
  /// with a notification never wait for it: someone is waiting to be paged.
  domain::duration flush_interval{0};
  /// The journal high-water mark the store holds at start.
  uint64_t applied_through = 0;
  /// Called (on the repository's thread) after a flush raised the mark,
  /// with the part of it a power cut cannot take back
  /// (`storage::store::durable_through`), so the journal can drop what it
  /// no longer needs.
  std::function<void(uint64_t)> on_persisted;
  /// Clustered: the journal whose records each flush removes as it stores
  /// their effects (`storage::store::write_completing`), instead of a mark.
  std::string journal_id;
  /// Called (on the repository's thread) with the notifications a flush
  /// stored, e.g. to wake the delivery worker.
  std::function<void(std::vector<domain::notification>)> on_notified;
  /// Called (on the repository's thread) with the alert changes a flush
  /// stored, e.g. for the delivery worker to see resolved children.
  std::function<void(const std::vector<domain::alert_write>&)> on_stored;
  /// How long resolved alerts are kept (`storage.retention`); none: all.
  /// A retention step deletes at most `batch_size` of them, so a long
  /// backlog of old alerts goes in steps no longer than a write-behind
  /// transaction, with the queued writes between them. A pass then goes
  /// through the outbox for the notifications of the parents it deleted
  /// (`retention::notifications_per_step` of them per step).
  domain::retention retention;
};

struct repository_state {
  std::shared_ptr<storage::store> store;
  repository_settings settings;
  std::vector<domain::alert_write> pending;
  /// Notifications of the pending changes, stored with them.
  std::vector<domain::notification> notes;
  /// Every journaled event up to this one is applied and its changes are in
  /// `pending` or the store.
  uint64_t applied_through = 0;
  /// Applied events above the mark, waiting for the gap below to close
  /// (groups finish events out of journal order).
  std::set<uint64_t> applied_above;
  /// The mark as of the last successful flush.
  uint64_t persisted_through = 0;
  /// Clustered: the journal records the pending changes complete.
  std::vector<uint64_t> completed;
  /// When the last write ended, on the actor's clock (none yet: empty).
  std::optional<caf::actor_clock::time_point> last_flush_end;
  /// Identifies the armed flush timer; a tick with another is stale.
  uint64_t timer_token = 0;
  /// When the armed flush timer fires, on the actor's clock (none armed:
  /// empty).
  std::optional<caf::actor_clock::time_point> timer_due;
  /// The last write failed: the next waits out the back-off, notifications
  /// or not.
  bool backing_off = false;
  /// The cutoff of the retention pass under way (none: the next look
  /// starts one). A pass keeps the cutoff it started with, so it ends:
  /// one that took the cutoff afresh at each step chased it for as long
  /// as alerts resolved faster than steps deleted them, and never came to
  /// the outbox.
  std::optional<domain::time_point> retention_cutoff;
  /// A retention pass past its alerts: the outbox seq its next step goes
  /// on after (empty: the next step deletes alerts).
  std::optional<uint64_t> outbox_after;
  static inline const char* name = "repository";
};

/// The repository behavior. Every handler may block in `store` (disk,
/// network, the PostgreSQL retry of a transaction in doubt): spawn it
/// `caf::detached`, never on the shared scheduler. Actor tests run it on
/// the testing scheduler instead, which only they drive.
repository_actor::behavior_type
repository(repository_actor::stateful_pointer<repository_state> self,
           std::shared_ptr<storage::store> store, repository_settings settings,
           context_ptr ctx);

} // namespace argus::actors
