#pragma once

// A map from alert keys (event manager, dedupKey) for the router's index of
// active dedupKeys: a million entries, few managers, a lookup per event.
// One flat map keyed by `alert_key` kept the manager's id in every entry
// beside the dedupKey: 32 bytes inline, plus a heap block once the id is
// longer than 15 bytes (a UUID), and a lookup built a whole key (a copy of
// both texts) per event. Here each manager has a flat map of dedupKeys
// alone, found once per run of events of the same manager, and a lookup
// copies nothing.
//
// A dedupKey is kept as a shared_text, which is 8 bytes in the entry
// where a std::string took 32 (both add a heap block for a key past 15
// characters): 40 bytes per entry instead of 64. The block is the index's
// own, never the one the alert holds: a block shared with the alert has
// its count touched by the router's thread and the group's, and sharing
// it cost 3-7% more CPU per event in the two rounds that measured it
// (docs/benchmarks.md, sixteenth and fortieth rounds).

#include "domain/flat_map.hpp"
#include "domain/keys.hpp"
#include "domain/shared_text.hpp"
#include "domain/text_hash.hpp"

#include <forward_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace argus::domain {

template <class Value>
class alert_key_map {
public:
  alert_key_map() = default;
  // `last_` points into a node of `managers_`: a move takes the nodes
  // along, a copy would point into the original.
  alert_key_map(const alert_key_map&) = delete;
  alert_key_map& operator=(const alert_key_map&) = delete;
  alert_key_map(alert_key_map&&) noexcept = default;
  alert_key_map& operator=(alert_key_map&&) noexcept = default;

  /// Hashed by `text_hash`, the hash callers pass along.
  using dedup_map = flat_map<shared_text, Value, text_hasher>;
  /// An entry: `key` is the dedupKey.
  using entry = typename dedup_map::entry;

  /// The entry of (manager, dedup), or nullptr.
  entry* find(std::string_view manager, std::string_view dedup) {
    auto* m = map_of(manager, false); // before hashing: often none
    return m != nullptr ? m->find(dedup) : nullptr;
  }
  /// `find` with the dedupKey's hash (`text_hash(dedup)`) known already.
  entry* find(std::string_view manager, std::string_view dedup, size_t hash) {
    auto* m = map_of(manager, false);
    return m != nullptr ? m->find(dedup, hash) : nullptr;
  }
  entry* find(const alert_key& k) {
    return find(k.event_manager_id, k.dedup_key);
  }

  /// The entry of (manager, dedup), default-constructing its value if there
  /// was none; second is whether it was added. Copies the dedupKey only
  /// when it adds (a shared_text's block is shared, so pass one only if
  /// no other thread holds it).
  template <class Text>
  std::pair<entry*, bool> try_emplace(std::string_view manager,
                                      const Text& dedup) {
    return try_emplace(manager, dedup, text_hash(dedup));
  }

  /// `try_emplace` with the dedupKey's hash (`text_hash(dedup)`) known
  /// already.
  template <class Text>
  std::pair<entry*, bool> try_emplace(std::string_view manager,
                                      const Text& dedup, size_t hash) {
    auto pair = map_of(manager, true)->try_emplace(dedup, hash);
    size_ += pair.second ? 1 : 0;
    return pair;
  }

  Value& operator[](const alert_key& k) {
    return try_emplace(k.event_manager_id, k.dedup_key).first->value;
  }

  /// Erases `e`, an entry of `manager` (from `find` or `try_emplace`,
  /// with no insert or erase since).
  void erase(std::string_view manager, entry* e) {
    map_of(manager, false)->erase(e);
    --size_;
  }

  /// Erases the entry of `k`; whether there was one.
  bool erase(const alert_key& k) {
    auto* e = find(k);
    if (e == nullptr)
      return false;
    erase(k.event_manager_id, e);
    return true;
  }

  /// Erases every entry `pred` holds for.
  template <class Pred>
  void erase_if(Pred pred) {
    size_ = 0;
    for (auto& [manager, dedups] : managers_) {
      dedups.erase_if(pred);
      size_ += dedups.size();
    }
  }

  /// Starts loading where (manager, a dedupKey of hash `hash`, its
  /// `text_hash`) is looked up (see `flat_map::prefetch`).
  void prefetch_hash(std::string_view manager, size_t hash) {
    if (auto* m = map_of(manager, false))
      m->prefetch_hash(hash);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

private:
  /// The map of `manager`'s dedupKeys, added when `add` (else nullptr if it
  /// has none). Events come in runs of one manager, so the last one found
  /// is compared before hashing. Managers' maps are never erased: their
  /// nodes, and so `last_`, stay valid.
  dedup_map* map_of(std::string_view manager, bool add) {
    if (last_ != nullptr && last_->first == manager)
      return &last_->second;
    auto it = managers_.find(manager);
    if (it == managers_.end()) {
      if (!add)
        return nullptr;
      it = managers_.try_emplace(ids_.emplace_front(manager)).first;
    }
    last_ = &*it;
    return &it->second;
  }

  /// The managers' ids, which the keys of `managers_` view: a lookup by
  /// any text copies nothing. Never erased, like the maps.
  std::forward_list<std::string> ids_;
  std::unordered_map<std::string_view, dedup_map, text_hasher> managers_;
  typename decltype(managers_)::value_type* last_ = nullptr;
  size_t size_ = 0;
};

} // namespace argus::domain
