#pragma once

#include "domain/alert.hpp"
#include "domain/catalog.hpp"
#include "domain/notification.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace argus::delivery {
class outbox;
} // namespace argus::delivery

/// The storage interface the repository actor drives. Implementations are
/// plain, single-threaded objects: only the repository actor calls them.
namespace argus::storage {

using notifications = std::vector<domain::notification>;

class store {
public:
  virtual ~store();

  /// The backend's config name ("sqlite", "memory").
  virtual std::string backend() const = 0;

  /// Whether its calls wait on disk or network I/O. Such a store's
  /// repository and notifier run on threads of their own, so a slow disk
  /// or database never holds a thread of the shared scheduler; a store
  /// that never waits lets them run on the scheduler, where handing them
  /// an event wakes no thread.
  virtual bool blocks() const { return true; }

  /// Applies alert changes in order, all or nothing (one transaction). Rows
  /// merge by (event manager, dedupKey) as `domain::alert_write` describes.
  /// In the same transaction, adds the notifications `notes` those changes
  /// caused to the outbox (one with an id already there is a repeat and is
  /// skipped), and records that every journaled event up to
  /// `applied_through` is reflected (0 leaves the mark as it is; the mark
  /// never moves back).
  virtual caf::error write(const std::vector<domain::alert_write>& writes,
                           const notifications& notes,
                           uint64_t applied_through) = 0;

  caf::error write(const std::vector<domain::alert_write>& writes,
                   uint64_t applied_through) {
    return write(writes, {}, applied_through);
  }

  caf::error write(const std::vector<domain::alert_write>& writes) {
    return write(writes, {}, 0);
  }

  /// Applies alert changes like `write`, and in the same transaction drops
  /// the records `completed` (whose effects these are, or which needed none)
  /// from the journal `journal_id`: a clustered node's journal then holds
  /// exactly the events the store does not reflect yet. Backends without a
  /// shared journal just write.
  virtual caf::error
  write_completing(const std::vector<domain::alert_write>& writes,
                   const notifications& notes, const std::string& journal_id,
                   const std::vector<uint64_t>& completed) {
    (void)journal_id;
    (void)completed;
    return write(writes, notes, 0);
  }

  caf::error write_completing(const std::vector<domain::alert_write>& writes,
                              const std::string& journal_id,
                              const std::vector<uint64_t>& completed) {
    return write_completing(writes, {}, journal_id, completed);
  }

  /// The outbox over this store's notifications, for the delivery worker:
  /// a connection of its own for the SQL backends, the shared one for
  /// memory. `owner` names the node that delivers what this store's writer
  /// adds (in a cluster, the owner of the groups).
  virtual caf::expected<std::shared_ptr<delivery::outbox>>
  open_outbox(const std::string& owner) = 0;

  /// The journal high-water mark: every event up to it is reflected.
  virtual caf::expected<uint64_t> applied_through() = 0;

  /// The highest journal mark, at most `committed` (a mark this store
  /// committed), that a power cut cannot take back: the journal may be
  /// trimmed through it. A backend whose commits are durable when they
  /// return gives `committed`.
  virtual uint64_t durable_through(uint64_t committed) const {
    return committed;
  }

  /// Alerts whose `last_seq` is above `seq`: what a replay from `seq` on
  /// must not apply twice.
  virtual caf::expected<std::vector<domain::alert>>
  applied_after(uint64_t seq) = 0;

  /// Alerts matching the filter, newest first (`created_at` descending, then
  /// dedupKey), honouring limit and offset.
  virtual caf::expected<std::vector<domain::alert>>
  list(const domain::alert_filter& filter) = 0;

  /// The active alerts of manager `manager_id` that `where` admits and
  /// `keep` accepts, in no particular order: for a read that wants a few of
  /// many (inhibition's sources, at each fan-out), without the listing's
  /// sort or a copy of each alert it drops to the caller. The SQL stores
  /// compare `where`'s columns in their query, so rows it does not admit
  /// are neither read whole nor sent (unless a value cannot be compared in
  /// SQL: `alert_sql::filter_values`). `keep` sees each alert for the call
  /// only (a store may read the next row into the same one): it must not
  /// hold on to it. This default filters `list`.
  virtual caf::expected<std::vector<domain::alert>>
  active_where(const std::string& manager_id,
               const domain::column_filter& where,
               const std::function<bool(const domain::alert&)>& keep);

  /// How many alerts match the filter (limit and offset aside). This
  /// default counts `list`.
  virtual caf::expected<int64_t>
  count_matching(const domain::alert_filter& filter);

  /// Which alerts `list_where` keeps. It may read what a group writes of
  /// an alert (its texts, severity, status, type, flags, details, and
  /// times but `created_at`), not what the store merges across writes: the
  /// id, `event_count`, `last_seq` and `created_at`, which it may see as
  /// the last write had them (the memory store hands it an active alert's
  /// latest snapshot instead of a copy). It sees each alert for the call
  /// only.
  using alert_check = std::function<bool(const domain::alert&)>;

  /// The page (`filter`'s offset and limit) of the alerts `keep` admits
  /// among the `scan` newest that `filter` matches (negative: all), in the
  /// listing order, and how many `keep` admits: a page of a selection
  /// without copying out every alert it looks at (the console's groups).
  /// An empty `keep` admits every alert: the page is `list`'s, the total
  /// `count_matching`'s, and no other alert is read (two statements, so a
  /// write from another node of a shared PostgreSQL between them may make
  /// the total disagree with the page by that write). This default checks
  /// the alerts of `each_listed`.
  virtual caf::expected<domain::alert_page>
  list_where(const domain::alert_filter& filter, const alert_check& keep,
             int64_t scan);

  /// The alerts with this dedupKey, of one manager or (if empty) of all.
  virtual caf::expected<std::vector<domain::alert>>
  by_dedup_key(const std::string& manager_id, const std::string& dedup_key) = 0;

  /// The children of a parent, newest first.
  virtual caf::expected<std::vector<domain::alert>>
  children(const std::string& manager_id,
           const std::string& parent_dedup_key) = 0;

  /// How many active children (of type child) each parent of
  /// `parent_dedup_keys` (the manager's) has, in their order: what the console
  /// shows beside a page of groups, without reading every open child. This
  /// default counts `children`.
  virtual caf::expected<std::vector<int64_t>>
  active_children_counts(const std::string& manager_id,
                         const std::vector<std::string>& parent_dedup_keys);

  /// The open work to rebuild grouping state from: every active alert plus
  /// every child (active or not) of an active parent.
  virtual caf::expected<std::vector<domain::alert>> open_work() = 0;

  /// Counts alerts by status: {active, resolved}.
  virtual caf::expected<std::pair<int64_t, int64_t>> count_by_status() = 0;

  /// What one `drop_resolved` call did.
  struct dropped {
    /// Alerts deleted.
    size_t alerts = 0;
    /// Whether more may be left past the cutoff (the call stopped at its
    /// bound): the caller calls again, after the writes queued meanwhile.
    bool more = false;
  };

  /// Deletes alerts resolved before `cutoff` (`domain::past_retention`),
  /// a child only with its parent or without one (`domain::drops_child`):
  /// at most `at_most` in one transaction (the memory backend: one step
  /// that also looks at no more than ten times as many rows, going on
  /// where the last step stopped).
  virtual caf::expected<dropped> drop_resolved(domain::time_point cutoff,
                                               size_t at_most) = 0;

  /// What one `drop_notifications` call did.
  struct dropped_notifications {
    /// Notifications deleted (their deliveries went with them).
    size_t notifications = 0;
    /// The last outbox seq looked at: the next call goes on after it.
    uint64_t last_seq = 0;
    /// Whether the pass goes on: it looked at `at_most` notifications and
    /// all were made before the cutoff.
    bool more = false;
  };

  /// One step of a pass over the outbox, after `drop_resolved`'s: of the
  /// next `at_most` notifications after seq `after`, deletes those
  /// `domain::drops_notification` lets go (made before `cutoff`, their
  /// group closed, nothing to deliver), with their deliveries, in one
  /// transaction. A delivery made pending meanwhile (a manual retry) is
  /// never deleted, and keeps its notification (PostgreSQL may delete the
  /// notification's other deliveries then). The memory backend's outbox
  /// keeps a bounded number of settled notifications on its own and
  /// deletes nothing here.
  virtual caf::expected<dropped_notifications>
  drop_notifications(domain::time_point cutoff, uint64_t after,
                     size_t at_most) = 0;

  /// Creates or replaces a rule / a manager by id.
  virtual caf::error put(const domain::grouping_rule& rule) = 0;
  virtual caf::error put(const domain::event_manager& manager) = 0;
  /// Creates or replaces a silence by id (silences are never deleted).
  virtual caf::error put(const domain::silence& silence) = 0;
  virtual caf::error erase_rule(const std::string& id) = 0;
  virtual caf::error erase_manager(const std::string& id) = 0;
  /// Creates or replaces an API key by id (revoking replaces; keys are
  /// never deleted, so a revoked id is never reused).
  virtual caf::error put(const domain::api_key& key) = 0;

  /// Appends one entry to the audit log.
  virtual caf::error append(const domain::audit_entry& entry) = 0;
  /// Audit entries at or after `since`, newest first, at most `limit`.
  virtual caf::expected<std::vector<domain::audit_entry>>
  audit(const domain::audit_filter& filter) = 0;

  /// All rules, managers, silences and API keys.
  virtual caf::expected<domain::catalog> load_catalog() = 0;

protected:
  /// Runs `on_alert` on each alert `list(filter)` returns, in its order,
  /// for `list_where`'s check. The SQL stores read each row into one
  /// scratch alert that `on_alert` may move from: a state filter looks at
  /// every open parent, and building each as an alert of its own was most
  /// of the console's listing. This default runs it on `list`'s alerts.
  virtual caf::error
  each_listed(const domain::alert_filter& filter,
              const std::function<void(domain::alert&)>& on_alert);
};

/// Everything in memory; gone when the process ends.
/// Of the notifications, it keeps the newest `keep_notifications` once
/// they are settled (delivered or failed) and drops older settled ones.
std::unique_ptr<store> make_memory_store(size_t keep_notifications = 10000);

/// An SQLite database file at `path` (its folder is created if missing),
/// with the schema created or migrated on open; its connection caches up
/// to `cache_mb` MiB of pages (the server passes `storage.sqlite_cache_mb`;
/// 0 keeps SQLite's own default, 2 MiB).
caf::expected<std::unique_ptr<store>> open_sqlite_store(const std::string& path,
                                                        size_t cache_mb = 0);

/// A PostgreSQL database reached through libpq's `dsn` (a connection string
/// or URI), with the schema created or migrated on open. Calls fail with
/// `ec::unavailable` while the server cannot be reached; a lost connection
/// is replaced on the next call.
caf::expected<std::unique_ptr<store>>
open_postgres_store(const std::string& dsn);

} // namespace argus::storage
