#include "storage/store.hpp"

#include "delivery/outbox.hpp"
#include "domain/flat_map.hpp"
#include "domain/retention.hpp"
#include "domain/text_hash.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace argus::storage {

namespace {

/// A resolved alert as the store keeps it once its group let go of it,
/// without what its place in the store already says: the event manager (the
/// key of its `manager_alerts`), the dedupKey (the key of its row), the id
/// (a function of the two, `alert_id_for`; a row whose id is not keeps it in
/// `manager_alerts::odd_ids`), and what `row` keeps for every alert. The
/// class and grouping value are interned (few distinct values, many
/// alerts), and the four free texts share one buffer. About 150 bytes
/// instead of a 420-byte alert plus its id's heap block.
struct packed_alert {
  /// dedupKey, summary, details, parent dedupKey, acknowledged_by, back to
  /// back. The row's key views the dedupKey here.
  std::string text;
  uint32_t dedup_len = 0;
  uint32_t summary_len = 0;
  uint32_t details_len = 0;
  uint32_t parent_len = 0;
  domain::severity sev = domain::severity::low;
  domain::resolution resolved_by = domain::resolution::none;
  bool resolve_requested = false;
  bool acknowledged = false;
  bool has_grouping_value = false;
  domain::shared_text class_name;
  domain::shared_text grouping_value;
  int64_t child_count = 0;
  domain::time_point updated_at{};
  domain::time_point resolved_at{};
  domain::time_point window_ends_at{};
  domain::time_point expires_at{};
  domain::time_point acknowledged_at{};
  domain::time_point acknowledged_until{};
  domain::time_point auto_resolve_at{};

  std::string_view dedup_key() const {
    return std::string_view{text}.substr(0, dedup_len);
  }
  std::string_view parent_dedup_key() const {
    return std::string_view{text}.substr(dedup_len + summary_len + details_len,
                                         parent_len);
  }
};

/// One stored alert. While it is active its grouping actor holds it too,
/// so the row shares the snapshot the group wrote last instead of keeping a
/// second copy; once resolved the group lets go of it and the row packs it.
/// The fields of the merge of `alert_write` that differ from the snapshot
/// (the first creation time, the summed count, the highest sequence) are
/// kept here, beside status and type for the filters.
struct row {
  /// The latest snapshot while the alert is active, else null.
  domain::alert_ptr shared;
  /// The packed alert once resolved, else null.
  std::unique_ptr<packed_alert> packed;
  int64_t event_count = 0;
  uint64_t last_seq = 0;
  domain::time_point created_at{};
  domain::alert_type type = domain::alert_type::parent;
  domain::alert_status status = domain::alert_status::active;
  /// While active, its place in its manager's `active` list (it fits in
  /// what would be padding).
  uint32_t active_at = 0;

  bool is_active() const { return status == domain::alert_status::active; }
  bool is_parent() const { return type == domain::alert_type::parent; }
  std::string_view parent_dedup_key() const {
    if (shared)
      return shared->parent_dedup_key;
    return packed ? packed->parent_dedup_key() : std::string_view{};
  }
};

/// Rows by dedupKey: a flat map, as a write looks one up per alert. A key
/// views the dedupKey its row holds anyway (its snapshot's while active,
/// its packed text's once resolved; `keep` points it at the one the row
/// holds) instead of a copy: a copy of a 17-byte dedupKey is 32 bytes
/// inline and a 32-byte heap block per alert.
using row_map = domain::flat_map<std::string_view, row, domain::text_hasher>;
/// A dedupKey with its row. Only `drop_resolved` erases rows, and it points
/// the indexes at the entry the map moved into the hole: otherwise an entry
/// keeps its address (the flat map moves entries only to fill an erased
/// one's place).
using row_entry = row_map::entry;

/// The alerts of one event manager with the indexes the reads need, so no
/// query walks the whole store unless it has to.
struct manager_alerts {
  /// Alerts by dedupKey.
  row_map by_key;
  /// The children of each parent dedupKey. The indexes point at `by_key`'s
  /// entries instead of copying their keys. A vector, not a set: a child
  /// enters once and leaves only if it moves to another parent (rare), so
  /// an insert per child joining is a push_back, not a node and a rehash.
  /// Flat like `by_key`: a lookup per child written, in a map as large as
  /// the open groups.
  domain::flat_map<std::string, std::vector<const row_entry*>,
                   domain::text_hasher>
      children;
  /// The active alerts, in no order; each row knows its place
  /// (`row::active_at`). A list, not a set: an alert enters at the end and
  /// leaves by swapping with the last, so a new alert costs no hashing and
  /// no probe of a table a million slots wide (4% of the batch profile as
  /// a flat set, mostly cache misses).
  std::vector<row_entry*> active;
  /// Ids that are not `alert_id_for(manager, dedupKey)`, by dedupKey (rows
  /// written with another id, e.g. by tests); normally empty.
  std::unordered_map<std::string, domain::alert_id, domain::text_hasher>
      odd_ids;
};

/// A row with the keys it is stored under, for sorting before copying out.
struct row_ref {
  const std::string* manager_id;
  std::string_view dedup_key;
  const row* r;
};

/// The listing order every backend shares: newest first, then dedupKey, then
/// manager so that ties across managers still come out the same every time.
bool newer_first(const row_ref& lhs, const row_ref& rhs) {
  if (lhs.r->created_at != rhs.r->created_at)
    return lhs.r->created_at > rhs.r->created_at;
  // One comparison of the keys, not `!=` then `<`: alerts of one batch
  // share their created_at, and these compares were most of sorting them.
  if (int order = lhs.dedup_key.compare(rhs.dedup_key); order != 0)
    return order < 0;
  return *lhs.manager_id < *rhs.manager_id;
}

bool matches(const std::string& manager_id, const row& r,
             const domain::alert_filter& filter) {
  if (!filter.event_manager_id.empty() && manager_id != filter.event_manager_id)
    return false;
  if (!filter.status.empty() && domain::to_string(r.status) != filter.status)
    return false;
  if (!filter.type.empty() && domain::to_string(r.type) != filter.type)
    return false;
  return true;
}

class memory_store final : public store {
public:
  explicit memory_store(size_t keep_notifications)
      : outbox_(std::make_shared<delivery::memory_outbox>(keep_notifications)) {
  }

  std::string backend() const override { return "memory"; }
  bool blocks() const override { return false; }

  using store::write;

  caf::error write(const std::vector<domain::alert_write>& writes,
                   const notifications& notes,
                   uint64_t applied_through) override {
    applied_through_ = std::max(applied_through_, applied_through);
    // Nothing below can fail short of running out of memory, so applying the
    // writes one by one is all or nothing.
    // A write's alerts are nearly always one manager's: its map is looked
    // up once, not per alert.
    std::string_view last_id;
    manager_alerts* last = nullptr;
    auto manager_of = [&](std::string_view id) -> manager_alerts& {
      if (last == nullptr || last_id != id) {
        auto& entry = manager_entry(id);
        last_id = entry.first; // the map's own copy: it stays put
        last = &entry.second;
      }
      return *last;
    };
    // Each lookup reads a chain of cold memory: the alert, its dedupKey's
    // block, then the map's slot. Loading each link a few writes before
    // the next needs it lets the misses of many writes overlap (the
    // hash of an alert's key waiting on its text was 6% of the batch
    // path).
    constexpr size_t alert_ahead = 2 * domain::prefetch_distance;
    constexpr size_t text_ahead = domain::prefetch_distance * 3 / 2;
    for (size_t k = 0; k < writes.size(); ++k) {
      if (k + alert_ahead < writes.size())
        __builtin_prefetch(&writes[k + alert_ahead].snapshot->dedup_key);
      if (k + text_ahead < writes.size())
        writes[k + text_ahead].snapshot->dedup_key.prefetch();
      // Starts loading the slot of a write a few ahead, so the cache
      // misses of a large store's lookups overlap.
      if (k + domain::prefetch_distance < writes.size()) {
        auto& ahead = writes[k + domain::prefetch_distance];
        manager_of(ahead.snapshot->event_manager_id)
            .by_key.prefetch_hash(dedup_hash_of(ahead));
      }
      auto& w = writes[k];
      auto& a = *w.snapshot;
      auto& m = manager_of(a.event_manager_id);
      auto [i, added] = m.by_key.try_emplace(a.dedup_key, dedup_hash_of(w));
      auto& r = i->value;
      if (added) {
        keep(*i, w.snapshot);
        r.event_count = w.event_count_delta;
        r.last_seq = a.last_seq;
        r.created_at = a.created_at;
        // The grouping marks the ids it derived: no second uuid per alert.
        if (!a.id_is_derived &&
            a.id != domain::alert_id_for(a.event_manager_id, a.dedup_key))
          m.odd_ids[a.dedup_key.str()] = a.id;
        index(m, *i);
        continue;
      }
      // A rewrite touches only the indexes of what it changes: a re-trigger
      // or a parent gaining a child none, a resolve the active set, and
      // only a child moving to another parent the children.
      bool new_status = r.status != a.status;
      bool new_parent = r.parent_dedup_key() != a.parent_dedup_key;
      if (new_status)
        unindex_status(m, *i);
      if (new_parent)
        unindex_parent(m, *i);
      // The merge of `alert_write`: id and created_at stay, the count
      // grows, last_seq keeps the larger value.
      r.event_count += w.event_count_delta;
      r.last_seq = std::max(r.last_seq, a.last_seq);
      keep(*i, w.snapshot);
      if (new_status)
        index_status(m, *i);
      if (new_parent)
        index_parent(m, *i);
    }
    for (auto& n : notes)
      outbox_->add(n);
    return {};
  }

  caf::expected<std::shared_ptr<delivery::outbox>>
  open_outbox(const std::string&) override {
    return std::shared_ptr<delivery::outbox>{outbox_};
  }

  caf::expected<std::vector<domain::alert>>
  list(const domain::alert_filter& filter) override {
    auto rows = matching_rows(filter);
    return page_of(rows, filter.offset, filter.limit);
  }

  caf::expected<domain::alert_page>
  list_where(const domain::alert_filter& filter, const alert_check& keep,
             int64_t scan) override {
    auto rows = matching_rows(filter);
    if (scan >= 0 && rows.size() > static_cast<size_t>(scan)) {
      std::nth_element(rows.begin(), rows.begin() + scan, rows.end(),
                       newer_first);
      rows.resize(static_cast<size_t>(scan));
    }
    // `keep` decides on an active alert's snapshot as it is: a copy of each
    // alert it looks at (and its destruction) was most of a console's
    // listing of 100,000 groups. Resolved rows are unpacked into one alert.
    domain::alert unpacked;
    if (keep)
      rows.erase(std::remove_if(rows.begin(), rows.end(),
                                [&](const row_ref& ref) {
                                  if (ref.r->shared)
                                    return !keep(*ref.r->shared);
                                  unpacked =
                                      to_alert(*ref.manager_id,
                                               managers_.at(*ref.manager_id),
                                               ref.dedup_key, *ref.r);
                                  return !keep(unpacked);
                                }),
                 rows.end());
    domain::alert_page page;
    page.total = static_cast<int64_t>(rows.size());
    page.alerts = page_of(rows, filter.offset, filter.limit);
    return page;
  }

  caf::expected<int64_t>
  count_matching(const domain::alert_filter& filter) override {
    return static_cast<int64_t>(matching_rows(filter).size());
  }

  /// The rows `filter` matches (limit and offset aside), in no order.
  std::vector<row_ref> matching_rows(const domain::alert_filter& filter) const {
    std::vector<row_ref> rows;
    auto collect = [&](const std::string& id, const manager_alerts& m) {
      // The active set is much smaller than the store on a busy system.
      if (filter.status == domain::to_string(domain::alert_status::active)) {
        for (auto* e : m.active)
          if (matches(id, e->value, filter))
            rows.push_back({&id, e->key, &e->value});
        return;
      }
      for (auto& e : m.by_key)
        if (matches(id, e.value, filter))
          rows.push_back({&id, e.key, &e.value});
    };
    if (filter.event_manager_id.empty()) {
      for (auto& [id, m] : managers_)
        collect(id, m);
    } else if (auto m = managers_.find(filter.event_manager_id);
               m != managers_.end()) {
      collect(m->first, m->second);
    }
    return rows;
  }

  caf::expected<std::vector<domain::alert>>
  active_where(const std::string& manager_id,
               const domain::column_filter& where,
               const std::function<bool(const domain::alert&)>& keep) override {
    std::vector<domain::alert> result;
    auto m = managers_.find(manager_id);
    if (m == managers_.end())
      return result;
    for (auto* e : m->second.active) {
      // An active row keeps its snapshot (`keep` below), which holds the
      // fields the filter compares and the dedupKey the row's key views: a
      // row the filter does not admit is passed over before its alert is
      // built.
      if (!e->value.is_active() || !where.admits(*e->value.shared))
        continue;
      auto a = to_alert(m->first, m->second, e->key, e->value);
      if (keep(a))
        result.push_back(std::move(a));
    }
    return result;
  }

  caf::expected<std::vector<domain::alert>>
  by_dedup_key(const std::string& manager_id,
               const std::string& dedup_key) override {
    std::vector<domain::alert> result;
    auto add_from = [&](const std::string& id, const manager_alerts& m) {
      if (auto* i = m.by_key.find(dedup_key); i != nullptr)
        result.push_back(to_alert(id, m, i->key, i->value));
    };
    if (manager_id.empty()) {
      // Managers are few, so asking each one beats a second global index.
      for (auto& [id, m] : managers_)
        add_from(id, m);
    } else if (auto m = managers_.find(manager_id); m != managers_.end()) {
      add_from(m->first, m->second);
    }
    return result;
  }

  caf::expected<std::vector<domain::alert>>
  children(const std::string& manager_id,
           const std::string& parent_dedup_key) override {
    std::vector<row_ref> rows;
    if (auto m = managers_.find(manager_id); m != managers_.end()) {
      auto& links = m->second.children;
      if (auto* c = links.find(parent_dedup_key))
        for (auto* e : c->value)
          rows.push_back({&m->first, e->key, &e->value});
    }
    return page_of(rows, 0, -1);
  }

  caf::expected<std::vector<int64_t>> active_children_counts(
      const std::string& manager_id,
      const std::vector<std::string>& parent_dedup_keys) override {
    std::vector<int64_t> counts(parent_dedup_keys.size(), 0);
    auto m = managers_.find(manager_id);
    if (m == managers_.end())
      return counts;
    for (size_t i = 0; i < parent_dedup_keys.size(); ++i)
      if (auto* c = m->second.children.find(parent_dedup_keys[i]))
        counts[i] =
            std::count_if(c->value.begin(), c->value.end(), [](auto* e) {
              return e->value.is_active() && !e->value.is_parent();
            });
    return counts;
  }

  caf::expected<std::vector<domain::alert>> open_work() override {
    std::vector<domain::alert> result;
    for (auto& [id, m] : managers_) {
      for (auto* e : m.active) {
        result.push_back(to_alert(id, m, e->key, e->value));
        if (!e->value.is_parent())
          continue;
        auto* c = m.children.find(e->key);
        if (c == nullptr)
          continue;
        // Active children are already in via the active set.
        for (auto* child : c->value)
          if (!child->value.is_active() &&
              child->value.type == domain::alert_type::child)
            result.push_back(to_alert(id, m, child->key, child->value));
      }
    }
    return result;
  }

  caf::expected<uint64_t> applied_through() override {
    return applied_through_;
  }

  caf::expected<std::vector<domain::alert>>
  applied_after(uint64_t seq) override {
    std::vector<domain::alert> result;
    for (auto& [id, m] : managers_)
      for (auto& e : m.by_key)
        if (e.value.last_seq > seq)
          result.push_back(to_alert(id, m, e.key, e.value));
    return result;
  }

  caf::expected<std::pair<int64_t, int64_t>> count_by_status() override {
    return std::pair<int64_t, int64_t>{active_count_, resolved_count_};
  }

  caf::expected<dropped> drop_resolved(domain::time_point cutoff,
                                       size_t at_most) override {
    // A pass goes through the managers in order and each one's rows once,
    // then through the interned texts, in steps: one step erases at most
    // `at_most` rows and looks at most ten times that many rows (or as
    // many texts),
    // so no step holds the repository (on a shared scheduler thread, for
    // this backend) for long. The next call goes on where this one
    // stopped; erasing moves the last row into the hole, which is looked
    // at next, so no row is skipped.
    dropped result;
    auto budget = at_most * 10;
    auto& cursor = retention_cursor_;
    auto it = cursor.in_texts ? managers_.end()
                              : managers_.lower_bound(cursor.manager);
    for (; it != managers_.end(); ++it) {
      auto& m = it->second;
      auto i = it->first == cursor.manager ? cursor.row : size_t{0};
      while (i < m.by_key.size()) {
        if (result.alerts == at_most || budget == 0) {
          cursor.manager = it->first;
          cursor.row = i;
          result.more = true;
          return result;
        }
        --budget;
        auto& e = *(m.by_key.begin() + static_cast<std::ptrdiff_t>(i));
        if (!past_retention(m, e.value, cutoff)) {
          ++i;
          continue;
        }
        erase_row(m, e);
        ++result.alerts;
      }
    }
    cursor.in_texts = true;
    if (!release_unused_texts(cursor.bucket, budget)) {
      result.more = true;
      return result;
    }
    cursor = {};
    return result;
  }

  caf::expected<dropped_notifications>
  drop_notifications(domain::time_point, uint64_t after, size_t) override {
    // The outbox bounds itself (`memory_outbox`'s `keep`).
    dropped_notifications result;
    result.last_seq = after;
    return result;
  }

  caf::error put(const domain::grouping_rule& rule) override {
    catalog_.rules[rule.id] = rule;
    return {};
  }

  caf::error put(const domain::event_manager& manager) override {
    catalog_.managers[manager.id] = manager;
    return {};
  }

  caf::error put(const domain::silence& silence) override {
    catalog_.silences[silence.id] = silence;
    return {};
  }

  caf::error erase_rule(const std::string& id) override {
    catalog_.rules.erase(id);
    return {};
  }

  caf::error erase_manager(const std::string& id) override {
    catalog_.managers.erase(id);
    return {};
  }

  caf::error put(const domain::api_key& key) override {
    catalog_.keys[key.id] = key;
    return {};
  }

  caf::error append(const domain::audit_entry& entry) override {
    audit_.push_back(entry);
    // Bounded like the outbox: memory is for tests and trials.
    if (audit_.size() > max_audit_entries)
      audit_.erase(audit_.begin(),
                   audit_.begin() + static_cast<std::ptrdiff_t>(
                                        audit_.size() - max_audit_entries));
    return {};
  }

  caf::expected<std::vector<domain::audit_entry>>
  audit(const domain::audit_filter& filter) override {
    std::vector<domain::audit_entry> out;
    for (auto it = audit_.rbegin(); it != audit_.rend(); ++it) {
      if (static_cast<int64_t>(out.size()) >= filter.limit)
        break;
      if (it->at >= filter.since)
        out.push_back(*it);
    }
    return out;
  }

  caf::expected<domain::catalog> load_catalog() override { return catalog_; }

private:
  /// `manager`'s alerts with the id they are kept under.
  std::pair<const std::string, manager_alerts>&
  manager_entry(std::string_view id) {
    auto it = managers_.find(id);
    if (it == managers_.end())
      it = managers_.emplace(std::string{id}, manager_alerts{}).first;
    return *it;
  }

  /// The block the store keeps for `text`'s text: one per distinct text
  /// however many resolved alerts have it (a class or grouping value is
  /// shared by many), kept until a retention pass finds none using it.
  domain::shared_text intern(const domain::shared_text& text) {
    return *strings_.insert(text).first;
  }

  /// Keeps `snapshot` in the row of `e`: shared while active, packed once
  /// resolved, and points the key at the dedupKey the row now holds.
  void keep(row_entry& e, const domain::alert_ptr& snapshot) {
    auto& r = e.value;
    r.type = snapshot->type;
    r.status = snapshot->status;
    if (snapshot->is_active()) {
      r.shared = snapshot;
      r.packed.reset();
      e.key = r.shared->dedup_key;
      return;
    }
    if (!r.packed)
      r.packed = std::make_unique<packed_alert>();
    pack(*r.packed, *snapshot);
    r.shared.reset();
    e.key = r.packed->dedup_key();
  }

  void pack(packed_alert& r, const domain::alert& a) {
    auto total = a.dedup_key.size() + a.summary.size() + a.details.size() +
                 a.parent_dedup_key.size() + a.acknowledged_by.size();
    // Reuse the buffer of a rewrite when it fits without much slack;
    // otherwise allocate just what it needs.
    if (r.text.capacity() < total || r.text.capacity() > total + 32) {
      std::string fresh;
      fresh.reserve(total);
      r.text.swap(fresh);
    }
    r.text.clear();
    r.text += a.dedup_key;
    r.text += a.summary;
    r.text += a.details;
    r.text += a.parent_dedup_key;
    r.text += a.acknowledged_by;
    r.dedup_len = static_cast<uint32_t>(a.dedup_key.size());
    r.summary_len = static_cast<uint32_t>(a.summary.size());
    r.details_len = static_cast<uint32_t>(a.details.size());
    r.parent_len = static_cast<uint32_t>(a.parent_dedup_key.size());
    r.sev = a.sev;
    r.resolved_by = a.resolved_by;
    r.resolve_requested = a.resolve_requested;
    r.acknowledged = a.acknowledged;
    // A rewrite of the same alert seldom changes them: skip the lookup then.
    if (r.class_name.empty() || r.class_name != a.class_name)
      r.class_name = intern(a.class_name);
    r.has_grouping_value = a.has_grouping_value;
    if (!a.has_grouping_value)
      r.grouping_value.clear();
    else if (r.grouping_value.empty() || r.grouping_value != a.grouping_value)
      r.grouping_value = intern(a.grouping_value);
    r.child_count = a.child_count;
    r.updated_at = a.updated_at;
    r.resolved_at = a.resolved_at;
    r.window_ends_at = a.window_ends_at;
    r.expires_at = a.expires_at;
    r.acknowledged_at = a.acknowledged_at;
    r.acknowledged_until = a.acknowledged_until;
    r.auto_resolve_at = a.auto_resolve_at;
  }

  static domain::alert to_alert(const std::string& manager_id,
                                const manager_alerts& m,
                                std::string_view dedup_key, const row& r) {
    domain::alert a;
    if (r.shared)
      a = *r.shared;
    else
      unpack(a, *r.packed);
    a.dedup_key = dedup_key;
    if (auto odd = m.odd_ids.empty() ? m.odd_ids.end()
                                     : m.odd_ids.find(a.dedup_key.str());
        odd != m.odd_ids.end()) {
      a.id = odd->second;
      a.id_is_derived = false; // a copy of a shared snapshot may say it is
    } else {
      a.id = domain::alert_id_for(manager_id, a.dedup_key);
      a.id_is_derived = true;
    }
    a.event_manager_id = manager_id;
    a.type = r.type;
    a.status = r.status;
    a.event_count = r.event_count;
    a.last_seq = r.last_seq;
    a.created_at = r.created_at;
    return a;
  }

  static void unpack(domain::alert& a, const packed_alert& r) {
    auto text = std::string_view{r.text}.substr(r.dedup_len);
    a.summary = text.substr(0, r.summary_len);
    a.details = text.substr(r.summary_len, r.details_len);
    a.parent_dedup_key = r.parent_dedup_key();
    a.acknowledged_by =
        text.substr(r.summary_len + r.details_len + r.parent_len);
    a.sev = r.sev;
    a.resolved_by = r.resolved_by;
    a.resolve_requested = r.resolve_requested;
    a.acknowledged = r.acknowledged;
    a.class_name = r.class_name;
    a.has_grouping_value = r.has_grouping_value;
    a.grouping_value = r.grouping_value;
    a.child_count = r.child_count;
    a.updated_at = r.updated_at;
    a.resolved_at = r.resolved_at;
    a.window_ends_at = r.window_ends_at;
    a.expires_at = r.expires_at;
    a.acknowledged_at = r.acknowledged_at;
    a.acknowledged_until = r.acknowledged_until;
    a.auto_resolve_at = r.auto_resolve_at;
  }

  /// Sorts just enough of `rows` for the page at `offset`/`limit` and copies
  /// it out; a negative limit means "no limit", as in SQL.
  std::vector<domain::alert> page_of(std::vector<row_ref>& rows, int64_t offset,
                                     int64_t limit) const {
    auto total = static_cast<int64_t>(rows.size());
    auto first = std::clamp<int64_t>(offset, 0, total);
    auto last = limit < 0 ? total : std::min(total, first + limit);
    // A page is usually far smaller than the store: sorting only its prefix
    // keeps listings cheap with a million alerts. A page of every row is a
    // whole sort, which std::sort does in about half a heap sort's time.
    if (last == total)
      std::sort(rows.begin(), rows.end(), newer_first);
    else
      std::partial_sort(rows.begin(), rows.begin() + last, rows.end(),
                        newer_first);
    std::vector<domain::alert> result;
    result.reserve(static_cast<size_t>(last - first));
    for (auto i = first; i < last; ++i) {
      auto& ref = rows[static_cast<size_t>(i)];
      result.push_back(to_alert(*ref.manager_id, managers_.at(*ref.manager_id),
                                ref.dedup_key, *ref.r));
    }
    return result;
  }

  static bool resolved_before(const row& r, domain::time_point cutoff) {
    return r.packed != nullptr &&
           domain::past_retention(r.status, r.packed->resolved_at, cutoff);
  }

  /// Whether retention deletes the row `r` of `m`: resolved before the
  /// cutoff, and for a child, its parent too or no parent stored.
  static bool past_retention(const manager_alerts& m, const row& r,
                             domain::time_point cutoff) {
    if (!resolved_before(r, cutoff))
      return false;
    auto parent = r.parent_dedup_key();
    if (parent.empty())
      return true;
    auto* p = m.by_key.find(parent);
    return domain::drops_child(
        p != nullptr, p != nullptr && resolved_before(p->value, cutoff));
  }

  /// Erases the resolved row of `e` from `m` and its indexes. The map
  /// moves its last entry into `e`'s place: the indexes pointing at that
  /// one are pointed at its new place.
  void erase_row(manager_alerts& m, row_entry& e) {
    unindex_parent(m, e);
    unindex_status(m, e);
    if (!m.odd_ids.empty())
      m.odd_ids.erase(std::string{e.key});
    auto* last = &*(m.by_key.end() - 1);
    m.by_key.erase(&e);
    if (last == &e)
      return;
    auto* moved = &e;
    if (moved->value.is_active())
      m.active[moved->value.active_at] = moved;
    if (auto parent = moved->value.parent_dedup_key(); !parent.empty()) {
      auto& kids = m.children.find(parent)->value;
      *std::find(kids.begin(), kids.end(), last) = moved;
    }
  }

  /// Erases the interned texts nothing else holds any more (the alerts
  /// that used them were deleted), bucket by bucket from `bucket` while
  /// `budget` texts are left to look at; whether it got through. A rehash
  /// between two steps moves texts between buckets: one it skips is
  /// caught by the next pass.
  bool release_unused_texts(size_t& bucket, size_t& budget) {
    std::vector<const domain::shared_text*> unused;
    for (; bucket < strings_.bucket_count(); ++bucket) {
      if (budget == 0)
        return false;
      unused.clear();
      for (auto t = strings_.begin(bucket); t != strings_.end(bucket); ++t) {
        // A text counts as ten rows: freeing one (its block and its node)
        // cost about 1 us, ten times a row's look, and steps of 20,000
        // took 20 ms.
        budget -= std::min<size_t>(budget, 10);
        if (t->sole_holder())
          unused.push_back(&*t);
      }
      // Pointers to a set's texts stay valid as others are erased.
      for (auto* t : unused)
        strings_.erase(strings_.find(*t));
    }
    return true;
  }

  /// Adds the row of `e` (an entry of `m.by_key`) to the indexes.
  void index(manager_alerts& m, row_entry& e) {
    index_parent(m, e);
    index_status(m, e);
  }

  void index_parent(manager_alerts& m, const row_entry& e) {
    if (auto parent = e.value.parent_dedup_key(); !parent.empty())
      m.children.try_emplace(parent).first->value.push_back(&e);
  }

  void unindex_parent(manager_alerts& m, const row_entry& e) {
    auto parent = e.value.parent_dedup_key();
    if (parent.empty())
      return;
    auto* c = m.children.find(parent);
    auto& kids = c->value;
    kids.erase(std::find(kids.begin(), kids.end(), &e));
    if (kids.empty())
      m.children.erase(c);
  }

  void index_status(manager_alerts& m, row_entry& e) {
    if (e.value.is_active()) {
      e.value.active_at = static_cast<uint32_t>(m.active.size());
      m.active.push_back(&e);
      ++active_count_;
    } else {
      ++resolved_count_;
    }
  }

  void unindex_status(manager_alerts& m, row_entry& e) {
    if (e.value.is_active()) {
      auto* last = m.active.back();
      m.active[e.value.active_at] = last;
      last->value.active_at = e.value.active_at;
      m.active.pop_back();
      --active_count_;
    } else {
      --resolved_count_;
    }
  }

  /// Ordered by id so reads across managers come out in a stable order.
  std::map<std::string, manager_alerts, std::less<>> managers_;
  /// Interned class names and grouping values of resolved alerts.
  std::unordered_set<domain::shared_text> strings_;
  int64_t active_count_ = 0;
  int64_t resolved_count_ = 0;
  domain::catalog catalog_;
  /// The audit log in the order of appending (which is time order: one
  /// writer, the repository actor).
  std::vector<domain::audit_entry> audit_;
  static constexpr size_t max_audit_entries = 100000;
  uint64_t applied_through_ = 0;
  /// Where the last `drop_resolved` step stopped (none: a pass starts):
  /// at a manager's row, or past the managers at a bucket of `strings_`.
  struct {
    std::string manager;
    size_t row = 0;
    bool in_texts = false;
    size_t bucket = 0;
  } retention_cursor_;
  /// Shared with the delivery worker (it locks itself).
  std::shared_ptr<delivery::memory_outbox> outbox_;
};

} // namespace

std::unique_ptr<store> make_memory_store(size_t keep_notifications) {
  return std::make_unique<memory_store>(keep_notifications);
}

} // namespace argus::storage
