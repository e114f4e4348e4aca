#include "storage/store.hpp"

#include "delivery/outbox.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace argus::storage {

// Defined here rather than inline so the vtable has one home.
store::~store() = default;

namespace {

/// The listing order every backend shares: newest first, then dedupKey, then
/// manager so that ties across managers still come out the same every time.
bool newer_first(const domain::alert* lhs, const domain::alert* rhs) {
  if (lhs->created_at != rhs->created_at)
    return lhs->created_at > rhs->created_at;
  if (lhs->dedup_key != rhs->dedup_key)
    return lhs->dedup_key < rhs->dedup_key;
  return lhs->event_manager_id < rhs->event_manager_id;
}

/// Sorts just enough of `rows` for the page at `offset`/`limit` and copies
/// it out; a negative limit means "no limit", as in SQL.
std::vector<domain::alert> page_of(std::vector<const domain::alert*>& rows,
                                   int64_t offset, int64_t limit) {
  auto total = static_cast<int64_t>(rows.size());
  auto first = std::clamp<int64_t>(offset, 0, total);
  auto last = limit < 0 ? total : std::min(total, first + limit);
  // A page is usually far smaller than the store: sorting only its prefix
  // keeps listings cheap with a million alerts.
  std::partial_sort(rows.begin(), rows.begin() + last, rows.end(), newer_first);
  std::vector<domain::alert> result;
  result.reserve(static_cast<size_t>(last - first));
  for (auto i = first; i < last; ++i)
    result.push_back(*rows[static_cast<size_t>(i)]);
  return result;
}

/// The alerts of one event manager with the indexes the reads need, so no
/// query walks the whole store unless it has to.
struct manager_alerts {
  /// Alerts by dedupKey.
  std::unordered_map<std::string, domain::alert> by_key;
  /// dedupKeys of the children of each parent dedupKey.
  std::unordered_map<std::string, std::unordered_set<std::string>> children;
  /// dedupKeys of the active alerts.
  std::unordered_set<std::string> active;
};

class memory_store final : public store {
public:
  explicit memory_store(size_t keep_notifications)
      : outbox_(std::make_shared<delivery::memory_outbox>(keep_notifications)) {
  }

  std::string backend() const override { return "memory"; }

  using store::write;

  caf::error write(const std::vector<domain::alert_write>& writes,
                   const notifications& notes,
                   uint64_t applied_through) override {
    applied_through_ = std::max(applied_through_, applied_through);
    // Nothing below can fail short of running out of memory, so applying the
    // writes one by one is all or nothing.
    for (auto& w : writes) {
      auto& m = managers_[w.snapshot.event_manager_id];
      auto i = m.by_key.find(w.snapshot.dedup_key);
      if (i == m.by_key.end()) {
        i = m.by_key.emplace(w.snapshot.dedup_key, w.snapshot).first;
        i->second.event_count = w.event_count_delta;
      } else {
        unindex(m, i->second);
        domain::merge_into(i->second, w);
      }
      index(m, i->second);
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
    std::vector<const domain::alert*> rows;
    auto collect = [&](const manager_alerts& m) {
      // The active set is much smaller than the store on a busy system.
      if (filter.status == domain::to_string(domain::alert_status::active)) {
        for (auto& key : m.active) {
          auto& a = m.by_key.at(key);
          if (domain::matches(a, filter))
            rows.push_back(&a);
        }
        return;
      }
      for (auto& [key, a] : m.by_key)
        if (domain::matches(a, filter))
          rows.push_back(&a);
    };
    if (filter.event_manager_id.empty()) {
      for (auto& [id, m] : managers_)
        collect(m);
    } else if (auto m = managers_.find(filter.event_manager_id);
               m != managers_.end()) {
      collect(m->second);
    }
    return page_of(rows, filter.offset, filter.limit);
  }

  caf::expected<std::vector<domain::alert>>
  by_dedup_key(const std::string& manager_id,
               const std::string& dedup_key) override {
    std::vector<domain::alert> result;
    auto add_from = [&](const manager_alerts& m) {
      if (auto i = m.by_key.find(dedup_key); i != m.by_key.end())
        result.push_back(i->second);
    };
    if (manager_id.empty()) {
      // Managers are few, so asking each one beats a second global index.
      for (auto& [id, m] : managers_)
        add_from(m);
    } else if (auto m = managers_.find(manager_id); m != managers_.end()) {
      add_from(m->second);
    }
    return result;
  }

  caf::expected<std::vector<domain::alert>>
  children(const std::string& manager_id,
           const std::string& parent_dedup_key) override {
    std::vector<const domain::alert*> rows;
    if (auto m = managers_.find(manager_id); m != managers_.end()) {
      auto& links = m->second.children;
      if (auto c = links.find(parent_dedup_key); c != links.end())
        for (auto& key : c->second)
          rows.push_back(&m->second.by_key.at(key));
    }
    return page_of(rows, 0, -1);
  }

  caf::expected<std::vector<domain::alert>> open_work() override {
    std::vector<domain::alert> result;
    for (auto& [id, m] : managers_) {
      for (auto& key : m.active) {
        auto& a = m.by_key.at(key);
        result.push_back(a);
        if (!a.is_parent())
          continue;
        auto c = m.children.find(key);
        if (c == m.children.end())
          continue;
        // Active children are already in via the active set.
        for (auto& child_key : c->second) {
          auto& child = m.by_key.at(child_key);
          if (!child.is_active() && child.type == domain::alert_type::child)
            result.push_back(child);
        }
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
      for (auto& [key, a] : m.by_key)
        if (a.last_seq > seq)
          result.push_back(a);
    return result;
  }

  caf::expected<std::pair<int64_t, int64_t>> count_by_status() override {
    return std::pair<int64_t, int64_t>{active_count_, resolved_count_};
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
                   audit_.begin() + (audit_.size() - max_audit_entries));
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
  void index(manager_alerts& m, const domain::alert& a) {
    if (!a.parent_dedup_key.empty())
      m.children[a.parent_dedup_key].insert(a.dedup_key);
    if (a.is_active()) {
      m.active.insert(a.dedup_key);
      ++active_count_;
    } else {
      ++resolved_count_;
    }
  }

  void unindex(manager_alerts& m, const domain::alert& a) {
    if (!a.parent_dedup_key.empty()) {
      auto c = m.children.find(a.parent_dedup_key);
      c->second.erase(a.dedup_key);
      if (c->second.empty())
        m.children.erase(c);
    }
    if (a.is_active()) {
      m.active.erase(a.dedup_key);
      --active_count_;
    } else {
      --resolved_count_;
    }
  }

  /// Ordered by id so reads across managers come out in a stable order.
  std::map<std::string, manager_alerts> managers_;
  int64_t active_count_ = 0;
  int64_t resolved_count_ = 0;
  domain::catalog catalog_;
  /// The audit log in the order of appending (which is time order: one
  /// writer, the repository actor).
  std::vector<domain::audit_entry> audit_;
  static constexpr size_t max_audit_entries = 100000;
  uint64_t applied_through_ = 0;
  /// Shared with the delivery worker (it locks itself).
  std::shared_ptr<delivery::memory_outbox> outbox_;
};

} // namespace

std::unique_ptr<store> make_memory_store(size_t keep_notifications) {
  return std::make_unique<memory_store>(keep_notifications);
}

} // namespace argus::storage
