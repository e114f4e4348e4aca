#pragma once

#include "domain/alert_id.hpp"
#include "domain/shared_text.hpp"
#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace argus::domain {

/// One alert: the state of a (event manager, dedupKey) pair.
struct alert {
  // Strings first, then 8-byte fields, then the one-byte ones together: the
  // order costs no padding, and an active alert is the unit memory scales
  // by. The texts its group's alerts have alike are shared, not copied
  // (240 bytes instead of 384, and no heap block per alert for them). The
  // dedupKey is shared too: a parent's is also its group's open window's
  // and its children's parent_dedup_key. The id is a UUID's 16 bytes, not
  // its 36 characters (see alert_id.hpp).
  alert_id id;
  std::string summary;
  /// JSON object text of the event's extra fields.
  std::string details = "{}";
  shared_text dedup_key;
  shared_text event_manager_id;
  shared_text class_name;
  shared_text grouping_value;
  /// Empty for parents.
  shared_text parent_dedup_key;
  /// Who acknowledged: an operator's name, or the sender of the event.
  shared_text acknowledged_by;
  int64_t child_count = 0;
  int64_t event_count = 0;
  time_point created_at{};
  time_point updated_at{};
  /// `no_time` while active.
  time_point resolved_at{};
  /// Parents only: until when later triggers join as children.
  time_point window_ends_at{};
  /// Journal sequence of the last event applied to this alert (0: none or
  /// not journaled). Replay after a crash skips events at or below it.
  uint64_t last_seq = 0;
  /// When it resolves by itself unless a trigger moves it (the `expires_at`
  /// of its last trigger); `no_time`: never.
  time_point expires_at{};
  time_point acknowledged_at{};
  /// When the manager's `ack_timeout` returns it to unacknowledged
  /// (`no_time`: never).
  time_point acknowledged_until{};
  /// When it resolves by itself for want of a new trigger: the acceptance
  /// time of its last trigger plus that trigger's `auto_resolve_after`;
  /// `no_time`: never.
  time_point auto_resolve_at{};
  severity sev = severity::low;
  alert_type type = alert_type::parent;
  alert_status status = alert_status::active;
  bool has_grouping_value = false;
  bool resolve_requested = false;
  /// Someone is working on it: no further notifications until it resolves.
  /// Kept on a resolved alert as history; a re-trigger after the resolve
  /// starts unacknowledged.
  bool acknowledged = false;
  /// Why it resolved; on an active parent with `resolve_requested`, why it
  /// was asked to (it takes effect when its last child resolves).
  resolution resolved_by = resolution::none;
  /// Local only (never sent or stored): `id` is known to be
  /// `alert_id_for(event_manager_id, dedup_key)`, as the grouping made it,
  /// so a store need not make the id again to tell it is the usual one.
  /// False says nothing either way.
  bool id_is_derived = false;

  bool is_active() const { return status == alert_status::active; }
  bool is_parent() const { return type == alert_type::parent; }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert& x) {
  return f(caf::meta::type_name("argus.alert"), x.id, x.dedup_key,
           x.event_manager_id, x.summary, x.sev, x.class_name, x.type, x.status,
           x.has_grouping_value, x.grouping_value, x.parent_dedup_key,
           x.child_count, x.resolve_requested, x.event_count, x.created_at,
           x.updated_at, x.resolved_at, x.window_ends_at, x.details, x.last_seq,
           x.expires_at, x.acknowledged, x.acknowledged_at, x.acknowledged_by,
           x.acknowledged_until, x.resolved_by, x.auto_resolve_at);
}

/// An alert that no longer changes, shared by whoever holds it (the group
/// that made it, writes on their way, the memory store) instead of copied.
using alert_ptr = std::shared_ptr<const alert>;

/// An alert its owner may still change in place while nobody else holds it
/// (see `mutable_alert`).
using owned_alert = std::shared_ptr<alert>;

/// The alert behind `p` for changing, copy-on-write: while someone else
/// still holds it (a write not yet stored, the memory store) it is copied
/// first, so what they hold never changes under them; otherwise it is
/// changed in place.
alert& mutable_alert(owned_alert& p);

/// A change to persist. Stores merge by (event manager, dedupKey): `id` and
/// `created_at` of an existing row are kept, `event_count` grows by
/// `event_count_delta`, `last_seq` keeps the larger value, every other field
/// takes the new value. That makes a
/// re-triggered resolved alert keep its identity and history without the
/// grouping actor reading the store on the hot path.
///
/// The snapshot is shared, never null, and never changes: persisting an
/// alert costs a reference count, not a copy of a dozen strings.
struct alert_write {
  alert_ptr snapshot;
  int64_t event_count_delta = 0;
  /// `text_hash(snapshot->dedup_key)` when the writer had it at hand, else
  /// 0: the memory store looks the key up by it (and loads its slot ahead
  /// by it) instead of hashing the text twice more. Local only, like
  /// `event::dedup_hash`: not sent, as the hash is keyed per process.
  size_t dedup_hash = 0;

  alert_write() = default;
  alert_write(alert_ptr snapshot, int64_t delta)
      : snapshot(std::move(snapshot)), event_count_delta(delta) {}
  /// A write of a fresh snapshot holding a copy of `a`.
  alert_write(alert a, int64_t delta)
      : snapshot(std::make_shared<const alert>(std::move(a))),
        event_count_delta(delta) {}
};

/// `w`'s dedupKey hash: the one carried, else computed.
inline size_t dedup_hash_of(const alert_write& w) {
  return w.dedup_hash != 0 ? w.dedup_hash : text_hash(w.snapshot->dedup_key);
}

/// Crosses the wire as the alert's value and the delta (as before sharing):
/// the receiving node gets a snapshot of its own.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_write& x) {
  if constexpr (Inspector::reads_state) {
    static const alert none;
    return f(caf::meta::type_name("argus.alert_write"),
             x.snapshot ? *x.snapshot : none, x.event_count_delta);
  } else {
    auto loaded = std::make_shared<alert>();
    return f(caf::meta::type_name("argus.alert_write"), *loaded,
             x.event_count_delta, caf::meta::load_callback([&]() -> caf::error {
               x.snapshot = std::move(loaded);
               return caf::none;
             }));
  }
}

/// Merges `w` into `stored` with the semantics described at `alert_write`.
void merge_into(alert& stored, const alert_write& w);

/// The stable id of the alert for (event manager, dedupKey): a name-based
/// UUID, so the same pair always has the same id, on every node.
/// Its text is `name_based_uuid(event_manager_id, dedup_key)`.
alert_id alert_id_for(std::string_view event_manager_id,
                      std::string_view dedup_key);

/// A UUID that is a function of (`a`, `b`) alone (version 8).
std::string name_based_uuid(std::string_view a, std::string_view b);
/// The same as `name_based_uuid(a, b)` with `b` the concatenation of the
/// parts, without building it.
std::string name_based_uuid(std::string_view a,
                            std::initializer_list<std::string_view> b);

/// A fresh random UUID (version 4) for rules and event managers.
std::string random_uuid();

/// Filter for alert listings.
struct alert_filter {
  std::string event_manager_id; ///< empty: all
  std::string status;           ///< empty: all
  std::string type;             ///< empty: all
  int64_t limit = 100;
  int64_t offset = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_filter& x) {
  return f(caf::meta::type_name("argus.alert_filter"), x.event_manager_id,
           x.status, x.type, x.limit, x.offset);
}

/// Whether `a` passes `filter` (limit and offset aside).
bool matches(const alert& a, const alert_filter& filter);

/// Whether `a` comes before `b` in the order every listing shares: newest
/// first, then by dedupKey, then by manager, so that ties come out the same
/// every time.
bool listed_before(const alert& a, const alert& b);

/// Whether the `index`th alert (from 0) of a selection is on its page at
/// `offset` and `limit` (negative: no limit).
bool on_page(int64_t index, int64_t offset, int64_t limit);

/// Given the first `offset + limit` alerts (or all) of each of several
/// listings (one per manager) in `merged`, keeps the page at `offset` and
/// `limit` (negative: no limit) of their union, in the listing order.
void cut_page(std::vector<alert>& merged, int64_t offset, int64_t limit);

/// One page of a listing, and how many alerts it is a page of.
struct alert_page {
  int64_t total = 0;
  std::vector<alert> alerts;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_page& x) {
  return f(caf::meta::type_name("argus.alert_page"), x.total, x.alerts);
}

/// The filter that reads every active alert of a manager, however many (a
/// negative limit is "no limit" to every store): what inhibition and the
/// release of held openings decide on.
alert_filter every_active_alert_of(const std::string& manager_id);

/// Alerts by the values of their own stored fields: when `restricted`, an
/// alert is selected if its severity is one of `severity`, or its class one
/// of `class_name`, or its summary or dedupKey one of theirs; otherwise
/// every alert is. A SQL store compares these columns in its query, before
/// it reads a row whole (`store::active_where`).
struct column_filter {
  bool restricted = false;
  std::vector<std::string> severity;
  std::vector<std::string> class_name;
  std::vector<std::string> summary;
  std::vector<std::string> dedup_key;

  bool admits(const alert& a) const;
};

} // namespace argus::domain
