#pragma once

// A group's active alerts, found by dedupKey. A group held them in an
// std::unordered_map<std::string, owned_alert>: per alert a 64-byte node
// (its own malloc), a bucket, and a copy of the dedupKey that the alert
// already holds, on the heap once it is longer than 15 bytes; a group of one
// alert paid for a 13-bucket array besides. Here a slot is the alert's
// shared pointer and 32 bits of its key's hash, in one array of slots probed
// linearly: the key is the alert's own dedup_key, so nothing is copied, an
// insert allocates only when the array grows, and an empty set allocates
// nothing.

#include "domain/alert.hpp"
#include "domain/text_hash.hpp"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace argus::domain {

/// Active alerts by dedupKey. An alert's dedup_key must not change while it
/// is in the set (copy-on-write through `mutable_alert` keeps it). Pointers
/// and references into the set stay valid until the next insert or erase.
class alert_set {
  struct slot {
    owned_alert alert; ///< null: empty
    uint32_t hash_bits = 0;
  };

public:
  /// Visits the alerts in the set, in no particular order.
  template <class Slot, class Alert>
  class basic_iterator {
  public:
    basic_iterator(Slot* at, Slot* end) : at_(at), end_(end) { skip_empty(); }
    Alert& operator*() const { return at_->alert; }
    Alert* operator->() const { return &at_->alert; }
    basic_iterator& operator++() {
      ++at_;
      skip_empty();
      return *this;
    }
    bool operator==(const basic_iterator& x) const { return at_ == x.at_; }
    bool operator!=(const basic_iterator& x) const { return at_ != x.at_; }

  private:
    void skip_empty() {
      while (at_ != end_ && !at_->alert)
        ++at_;
    }
    Slot* at_;
    Slot* end_;
  };
  using iterator = basic_iterator<slot, owned_alert>;
  using const_iterator = basic_iterator<const slot, const owned_alert>;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// The alert with this dedupKey, or nullptr.
  owned_alert* find(std::string_view dedup_key) {
    return empty() ? nullptr : find(dedup_key, text_hash(dedup_key));
  }
  const owned_alert* find(std::string_view dedup_key) const {
    return const_cast<alert_set*>(this)->find(dedup_key);
  }
  /// `find` with the key's `text_hash` known already (an event's
  /// `dedup_hash_of`): a miss then reads no text at all.
  owned_alert* find(std::string_view dedup_key, size_t hash) {
    auto* s = slot_of(dedup_key, bits_from(hash));
    return s == nullptr ? nullptr : &s->alert;
  }
  size_t count(std::string_view dedup_key) const {
    return find(dedup_key) == nullptr ? 0 : 1;
  }
  /// The alert with this dedupKey; throws std::out_of_range if none.
  owned_alert& at(std::string_view dedup_key);
  const owned_alert& at(std::string_view dedup_key) const {
    return const_cast<alert_set*>(this)->at(dedup_key);
  }

  /// Adds `a` under its dedup_key; false (and `a` untouched) if an alert
  /// with that key is in the set already.
  bool insert(owned_alert&& a) {
    auto hash = text_hash(a->dedup_key);
    return insert(std::move(a), hash);
  }
  /// `insert` with the key's `text_hash` known already (an event's
  /// `dedup_hash_of`).
  bool insert(owned_alert&& a, size_t hash);
  /// Removes the alert with this dedupKey; whether there was one. The key
  /// may be the alert's own: it is not read after the alert is let go.
  bool erase(std::string_view dedup_key);
  void clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    size_ = 0;
  }

  iterator begin() { return {slots_.data(), slots_.data() + slots_.size()}; }
  iterator end() {
    auto* e = slots_.data() + slots_.size();
    return {e, e};
  }
  const_iterator begin() const {
    return {slots_.data(), slots_.data() + slots_.size()};
  }
  const_iterator end() const {
    auto* e = slots_.data() + slots_.size();
    return {e, e};
  }

private:
  static uint32_t bits_from(size_t hash) {
    // Fibonacci mixing: the position comes from the low bits.
    auto h = static_cast<uint64_t>(hash) * 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(h >> 32);
  }
  size_t mask() const { return slots_.size() - 1; }
  slot* slot_of(std::string_view key, uint32_t bits);
  void grow();

  std::vector<slot> slots_; ///< a power of two in size, or empty
  size_t size_ = 0;
};

} // namespace argus::domain
