#pragma once

// A hash map for the hot path's large indexes (the router's dedupKey index,
// the memory store's rows): a million entries and an insert or lookup per
// event. std::unordered_map allocates a node per entry and walks a bucket
// through a pointer to the node before it, so a lookup costs two or three
// cache misses and an insert a malloc. Here the entries sit in chunked
// storage (no allocation per entry, no move on growth) and the table is an
// array of 8-byte slots probed linearly: a miss usually costs one cache
// line, a hit one more for the entry. Growing rebuilds only the slots, from
// hash bits they keep, without hashing a key again.

#include <cstdint>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

namespace argus::domain {

/// How many keys ahead a loop over a batch calls `flat_map::prefetch`:
/// enough for the loads to arrive before their lookup, few enough to stay
/// in the cache meanwhile.
inline constexpr size_t prefetch_distance = 8;

/// Open-addressing map. Erasing moves the last entry into the hole, so
/// references and iterators to entries are valid until the next insert or
/// erase; growth alone keeps them.
template <class Key, class Value, class Hash = std::hash<Key>>
class flat_map {
public:
  using hasher = Hash;

  struct entry {
    Key key;
    Value value;
    uint32_t hash_bits;
  };

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  /// The entry of `key`, or nullptr.
  entry* find(const Key& key) {
    return const_cast<entry*>(std::as_const(*this).find(key));
  }
  const entry* find(const Key& key) const { return find(key, Hash{}(key)); }

  /// `find` with `key`'s hash (`Hash{}(key)`) known already: a caller that
  /// looks one key up in several maps hashes it once.
  entry* find(const Key& key, size_t hash) {
    return const_cast<entry*>(std::as_const(*this).find(key, hash));
  }
  const entry* find(const Key& key, size_t hash) const {
    if (slots_.empty())
      return nullptr;
    auto bits = bits_from(hash);
    for (size_t i = bits & mask(); slots_[i] != 0; i = (i + 1) & mask())
      if (bits_in(slots_[i]) == bits) {
        auto& e = entries_[index_in(slots_[i])];
        if (e.key == key)
          return &e;
      }
    return nullptr;
  }

  /// The entry of `key`, default-constructing its value if there was none;
  /// second is whether it was added.
  template <class K>
  std::pair<entry*, bool> try_emplace(K&& key) {
    auto hash = Hash{}(key);
    return try_emplace(std::forward<K>(key), hash);
  }

  /// `try_emplace` with `key`'s hash (`Hash{}(key)`) known already.
  template <class K>
  std::pair<entry*, bool> try_emplace(K&& key, size_t hash) {
    auto bits = bits_from(hash);
    if ((entries_.size() + 1) * 4 > slots_.size() * 3)
      grow();
    size_t i = bits & mask();
    for (; slots_[i] != 0; i = (i + 1) & mask())
      if (bits_in(slots_[i]) == bits) {
        auto& e = entries_[index_in(slots_[i])];
        if (e.key == key)
          return {&e, false};
      }
    entries_.push_back(entry{Key(std::forward<K>(key)), Value{}, bits});
    slots_[i] = slot_of(entries_.size() - 1, bits);
    return {&entries_.back(), true};
  }

  /// Starts loading the slot a lookup of `key` probes first. A loop over a
  /// batch calls it a few keys ahead, so that the cache misses of its
  /// lookups in a large map overlap instead of coming one after another.
  template <class K>
  void prefetch(const K& key) const {
    prefetch_hash(Hash{}(key));
  }
  /// `prefetch` by the key's hash (`Hash{}(key)`).
  void prefetch_hash(size_t hash) const {
    if (!slots_.empty())
      __builtin_prefetch(&slots_[bits_from(hash) & mask()]);
  }

  Value& operator[](const Key& key) { return try_emplace(key).first->value; }
  Value& operator[](Key&& key) {
    return try_emplace(std::move(key)).first->value;
  }

  /// Erases `key`'s entry; whether there was one.
  bool erase(const Key& key) {
    auto* e = find(key);
    if (e == nullptr)
      return false;
    erase(e);
    return true;
  }

  /// Erases the entry `e` points to (from `find`, `try_emplace` or
  /// iteration); the last entry moves into its place.
  void erase(entry* e) {
    auto slot = slot_index_of(e);
    auto index = index_in(slots_[slot]);
    release_slot(slot);
    auto last = entries_.size() - 1;
    if (index != last) {
      auto& moved = entries_[last];
      slots_[slot_index_of(&moved)] = slot_of(index, moved.hash_bits);
      entries_[index] = std::move(moved);
    }
    entries_.pop_back();
  }

  /// Erases every entry `pred` holds for.
  template <class Pred>
  void erase_if(Pred pred) {
    for (size_t i = 0; i < entries_.size();)
      if (pred(entries_[i]))
        erase(&entries_[i]); // the last one moved here: look at it next
      else
        ++i;
  }

  void clear() {
    entries_.clear();
    slots_.clear();
  }

  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

private:
  // A slot holds the entry's index plus one (0: empty) in its high half and
  // 32 bits of its hash in the low half: probing compares those before
  // touching an entry, and growth places slots by them alone.
  static uint64_t slot_of(size_t index, uint32_t bits) {
    return (static_cast<uint64_t>(index + 1) << 32) | bits;
  }
  static size_t index_in(uint64_t slot) { return (slot >> 32) - 1; }
  static uint32_t bits_in(uint64_t slot) { return static_cast<uint32_t>(slot); }
  size_t mask() const { return slots_.size() - 1; }

  static uint32_t bits_from(size_t hash) {
    // Fibonacci mixing: the position comes from the low bits, and some
    // hashes (a boost-style combine) leave those weak.
    uint64_t h = static_cast<uint64_t>(hash) * 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(h >> 32);
  }

  /// The slot that points at `e`.
  size_t slot_index_of(const entry* e) const {
    size_t i = e->hash_bits & mask();
    while (bits_in(slots_[i]) != e->hash_bits ||
           &entries_[index_in(slots_[i])] != e)
      i = (i + 1) & mask();
    return i;
  }

  /// Empties slot `i`, moving later slots of the same run back so every
  /// probe still finds them (no tombstones to clean up later).
  void release_slot(size_t i) {
    for (size_t j = (i + 1) & mask(); slots_[j] != 0; j = (j + 1) & mask()) {
      size_t home = bits_in(slots_[j]) & mask();
      // Slot j may move to i if its home is not in (i, j], cyclically.
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = 0;
  }

  void grow() {
    std::vector<uint64_t> old(slots_.empty() ? 16 : slots_.size() * 2, 0);
    old.swap(slots_);
    for (auto slot : old)
      if (slot != 0) {
        size_t i = bits_in(slot) & mask();
        while (slots_[i] != 0)
          i = (i + 1) & mask();
        slots_[i] = slot;
      }
  }

  std::deque<entry> entries_;
  std::vector<uint64_t> slots_;
};

} // namespace argus::domain
