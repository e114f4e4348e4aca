#pragma once

#include "delivery/format.hpp"
#include "domain/delivery.hpp"
#include "domain/receiver.hpp"
#include "domain/text_hash.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

/// The durable outbox the delivery worker drains: notifications as the
/// store wrote them (in the transaction of the alert change that caused
/// them), and one delivery row per (notification, receiver).
namespace argus::delivery {

/// A stored notification.
struct outbox_entry {
  /// Outbox order, assigned by the store.
  uint64_t seq = 0;
  std::string event_manager_id;
  /// The body data; `manager_name` and `external_url` are filled in when
  /// sent, from the catalog and the config of the day.
  envelope env;
};

/// An entry as the worker reads it: the memory outbox hands out the one it
/// keeps instead of a copy of its alerts.
using shared_entry = std::shared_ptr<const outbox_entry>;

/// Filter of the listings (GET /v1/notifications?state=&receiver=).
using delivery_filter = domain::notification_filter;

/// A notification with its deliveries, as the API lists them.
struct listed_notification {
  outbox_entry entry;
  std::vector<domain::delivery> deliveries;
};

/// What the worker needs from a store. Implementations are used from the
/// worker's thread only (SQL backends open a connection of their own for
/// it), except `memory_outbox`, which is shared with the memory storage.
class outbox {
public:
  virtual ~outbox();

  /// Notifications not fanned out to receivers yet, in `seq` order.
  virtual caf::expected<std::vector<shared_entry>> unfanned(size_t limit) = 0;

  /// In one transaction: adds `rows` and marks the notifications `ids` as
  /// fanned out (a notification no receiver wants gets no row).
  virtual caf::error fan_out(const std::vector<std::string>& ids,
                             const std::vector<domain::delivery>& rows) = 0;

  /// Pending deliveries in `seq` order, at most `limit`.
  virtual caf::expected<std::vector<domain::delivery>>
  pending(size_t limit) = 0;

  /// Stores the state of deliveries (by notification id and receiver).
  virtual caf::error update(const std::vector<domain::delivery>& rows) = 0;

  /// The stored notification with this id.
  virtual caf::expected<outbox_entry> entry(const std::string& id) = 0;

  /// Deliveries matching `f`, newest first.
  virtual caf::expected<std::vector<domain::delivery>>
  list(const delivery_filter& f) = 0;

  /// The deliveries of one notification.
  virtual caf::expected<std::vector<domain::delivery>>
  deliveries_of(const std::string& id) = 0;

  /// The newest notifications, newest first, at most `limit`.
  virtual caf::expected<std::vector<outbox_entry>> latest(size_t limit) = 0;

  /// Notifications with their deliveries, newest first: all of them, or,
  /// when `f` names a state or a receiver, those with a matching delivery.
  caf::expected<std::vector<listed_notification>>
  recent(const delivery_filter& f);

  /// A manual retry: the failed deliveries of notification `id` (to
  /// `receiver` only, unless empty) become pending, due at `now`.
  caf::error revive(const std::string& id, const std::string& receiver,
                    domain::time_point now);

  /// The openings held back: `parent_opened` notifications with a
  /// suppressed delivery and no release stored (`released_id`), newest
  /// first. All of them, however many: a long silence holds more than any
  /// page. Every node's, not only this one's: each node reviews them, and a
  /// release is stored once, by its id, whichever node makes it.
  /// The SQL outboxes read them in one query (plus a lookup of the parent
  /// for each whose key SQL cannot compare: one with a NUL byte, say), and
  /// leave out those whose parent is no longer the active alert of its
  /// dedupKey: the review would drop them, and as the tables keep
  /// notifications for as long as `storage.retention` keeps their alerts
  /// (or forever, with 0), every opening a silence held in that time would
  /// be read at each start. This default, for the memory outbox (which
  /// starts empty), reads each entry and leaves that to the review.
  virtual caf::expected<std::vector<outbox_entry>> held_openings();
};

/// The id of the opening that releases held opening `held_id`: a function
/// of it, so a restart before it is stored makes the same one again and the
/// store keeps one.
std::string released_id(std::string_view held_id);

/// The suffix `released_id` appends, for the SQL that looks for releases.
inline constexpr std::string_view released_suffix = "-released";

/// The outbox of the memory backend: the memory storage adds notifications
/// (under its own lock, in its write) and the worker drains them.
class memory_outbox : public outbox {
public:
  /// Keeps at most `keep` notifications once they are settled.
  explicit memory_outbox(size_t keep = 10000) : keep_(keep) {}

  /// Adds a notification unless one with its id is there; `seq` is
  /// assigned here.
  void add(std::string event_manager_id, envelope env);
  void add(const domain::notification& n);

  caf::expected<std::vector<shared_entry>> unfanned(size_t limit) override;
  caf::error fan_out(const std::vector<std::string>& ids,
                     const std::vector<domain::delivery>& rows) override;
  caf::expected<std::vector<domain::delivery>> pending(size_t limit) override;
  caf::error update(const std::vector<domain::delivery>& rows) override;
  caf::expected<outbox_entry> entry(const std::string& id) override;
  caf::expected<std::vector<domain::delivery>>
  list(const delivery_filter& f) override;
  caf::expected<std::vector<domain::delivery>>
  deliveries_of(const std::string& id) override;
  caf::expected<std::vector<outbox_entry>> latest(size_t limit) override;

private:
  using key = std::pair<std::string, std::string>; // (notification, receiver)

  /// Orders keys by notification, then receiver, and compares them with
  /// views too: finding a notification's rows copies no id (each is 60
  /// bytes and more, so a heap block apiece, and a prune looked up two).
  struct key_order {
    using is_transparent = void;
    template <class L, class R>
    bool operator()(const L& lhs, const R& rhs) const {
      std::string_view l1{lhs.first}, r1{rhs.first};
      if (l1 != r1)
        return l1 < r1;
      return std::string_view{lhs.second} < std::string_view{rhs.second};
    }
  };
  using rows_map = std::map<key, domain::delivery, key_order>;
  using row_ptr = const rows_map::value_type*;

  /// Orders rows as `pending` hands them out: by seq, then receiver, then
  /// the row's own key, so two rows are one only when they are the same row
  /// (rows stored with no seq, as tests make them, share seq 0).
  struct send_order {
    bool operator()(row_ptr lhs, row_ptr rhs) const {
      auto& l = lhs->second;
      auto& r = rhs->second;
      if (l.seq != r.seq)
        return l.seq < r.seq;
      if (l.receiver != r.receiver)
        return l.receiver < r.receiver;
      return key_order{}(lhs->first, rhs->first);
    }
  };

  /// The first of notification `id`'s rows in `rows`, or where they would
  /// be.
  template <class Rows>
  static auto rows_of(Rows& rows, std::string_view id) {
    return rows.lower_bound(
        std::pair<std::string_view, std::string_view>{id, {}});
  }

  /// What the outbox keeps of one notification, in `order_`.
  struct slot {
    /// Null once pruned.
    shared_entry entry;
    bool fanned = false;
    bool settled = false;
  };

  /// The slot of a seq handed out and not dropped from the front yet.
  slot& slot_of(uint64_t seq) { return order_[seq - first_seq_]; }
  /// Fanned out and nothing pending: may be pruned.
  bool settled(const std::string& id) const;
  /// Stores `row` under its key (replacing the one there when `replace`)
  /// and keeps `pending_` in step with its state.
  void put(const domain::delivery& row, bool replace);
  /// Marks notification `id`'s slot settled or not, as its rows say now.
  void recheck(const std::string& id);
  void prune();

  size_t keep_;
  std::mutex mtx_;
  uint64_t next_seq_ = 1;
  /// By id; hashed: ids share long prefixes, and comparing them in a tree
  /// was half the repository's time while groups opened by the thousand.
  /// The key views the entry's own id: each copy of an id (60 bytes and
  /// more) was a heap block and a copy per notification, three of them.
  std::unordered_map<std::string_view, shared_entry, domain::text_hasher>
      entries_;
  /// Every seq from `first_seq_` on, in order: seqs are handed out one
  /// after another, so a seq's slot is found by subtraction. Two maps by
  /// seq (all entries, and those not fanned out) cost two tree nodes per
  /// notification, a third of the memory storage's time with 100,000
  /// groups opening. A pruned entry leaves a null slot until the ones
  /// before it go as well.
  std::deque<slot> order_;
  uint64_t first_seq_ = 1;
  /// Every entry before this seq is fanned out: `unfanned` reads on from
  /// here.
  uint64_t unfanned_from_ = 1;
  rows_map rows_;
  /// The rows of `rows_` whose state is pending, in send order: what the
  /// worker reads at each wake-up. It walked every row for them, under the
  /// lock the memory storage adds notifications under; with the default
  /// 10,000 notifications kept that was 10,000 rows and more a wake-up
  /// (a third of the process's CPU with one new group at a time, and the
  /// storage's writes waited for it). Points into `rows_` (a map's nodes
  /// stay where they are); a row's seq and receiver never change while in
  /// it (`put` takes it out first).
  std::set<row_ptr, send_order> pending_;
  /// The seqs that became settled, oldest on top: what `prune` may drop,
  /// kept as they settle, so a prune never walks the entries it must keep
  /// (a backlog of 100,000 unfanned ones, walked after every fan-out, held
  /// the lock the memory storage writes under for milliseconds at a time).
  /// A heap in a vector rather than a set: no node per notification. An
  /// entry that is no longer settled stays in it and is skipped when it
  /// comes to the top.
  std::priority_queue<uint64_t, std::vector<uint64_t>, std::greater<uint64_t>>
      settled_;
};

/// Entries read from a table, as the worker takes them.
caf::expected<std::vector<shared_entry>>
share(caf::expected<std::vector<outbox_entry>> entries);

/// The envelope of a notification the grouping made, and back.
envelope envelope_of(const domain::notification& n);
domain::notification_record record_of(const listed_notification& x);

/// The stored form of a notification's envelope (JSON text), for the SQL
/// backends' outbox tables. Manager name and external URL are not stored.
std::string to_stored(const envelope& e);
caf::expected<envelope> envelope_from_stored(const std::string& text);

/// The stored form of a manager's receivers (JSON text, secrets included:
/// the store is the one place that keeps them).
std::string to_stored(const std::vector<domain::receiver>& rs);
caf::expected<std::vector<domain::receiver>>
receivers_from_stored(const std::string& text);

} // namespace argus::delivery
