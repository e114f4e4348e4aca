#pragma once

// A hash map for the hot path's large indexes (the router's dedupKey index,
// the memory store's rows): a million entries and an insert or lookup per
// event. std::unordered_map allocates a node per entry and walks a bucket
// through a pointer to the node before it, so a lookup costs two or three
// cache misses and an insert a malloc. Here the entries sit in chunked
// storage (no allocation per entry, no move on growth) and the table is an
// array of 8-byte slots probed linearly: a miss usually costs one cache
// line, a hit one more for the entry. Growing rebuilds only the slots, from
// hash bits they keep, without hashing a key again, and a piece per insert:
// rebuilt at once, the table of a million entries stalled its owner (the
// router, the memory store) for 10-20 ms, mostly zeroing the new array.

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

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

  // Lookups and erasure take a key of any type that compares with `Key`
  // and hashes alike (a view of a text for a map of texts), so they build
  // no `Key` (for a map keyed by shared_text, that would be an allocation).
  // A precondition nothing checks: `Hash` must give a `K` the hash of the
  // `Key` it equals, and `==` must agree with `Key`'s own. Texts do; a map
  // of uint32_t looked up by a uint64_t would not.

  /// The entry of `key`, or nullptr.
  template <class K>
  entry* find(const K& key) {
    return const_cast<entry*>(std::as_const(*this).find(key));
  }
  template <class K>
  const entry* find(const K& key) const {
    return find(key, Hash{}(key));
  }

  /// `find` with `key`'s hash (`Hash{}(key)`) known already: a caller that
  /// looks one key up in several maps hashes it once.
  template <class K>
  entry* find(const K& key, size_t hash) {
    return const_cast<entry*>(std::as_const(*this).find(key, hash));
  }
  template <class K>
  const entry* find(const K& key, size_t hash) const {
    auto bits = bits_from(hash);
    if (auto* e = find_in(slots_, key, bits))
      return e;
    return find_in(draining_, key, bits);
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
    grow_a_step();
    size_t i = bits & mask(slots_);
    for (; slots_[i] != 0; i = (i + 1) & mask(slots_))
      if (bits_in(slots_[i]) == bits) {
        auto& e = entries_[index_in(slots_[i])];
        if (e.key == key)
          return {&e, false};
      }
    if (auto* e = find_in(draining_, key, bits))
      return {const_cast<entry*>(e), false};
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
      __builtin_prefetch(slots_.data() + (bits_from(hash) & mask(slots_)));
  }

  Value& operator[](const Key& key) { return try_emplace(key).first->value; }
  Value& operator[](Key&& key) {
    return try_emplace(std::move(key)).first->value;
  }

  /// Erases `key`'s entry; whether there was one.
  template <class K, class = std::enable_if_t<
                         !std::is_convertible_v<const K&, const entry*>>>
  bool erase(const K& key) {
    auto* e = find(key);
    if (e == nullptr)
      return false;
    erase(e);
    return true;
  }

  /// Erases the entry `e` points to (from `find`, `try_emplace` or
  /// iteration); the last entry moves into its place.
  void erase(entry* e) {
    size_t index;
    if (auto slot = slot_index_of(slots_, e); slot != npos) {
      index = index_in(slots_[slot]);
      release_slot(slot);
    } else {
      // Not moved over yet: a tombstone keeps the old table's runs whole.
      slot = slot_index_of(draining_, e);
      index = index_in(draining_[slot]);
      draining_[slot] = tombstone;
    }
    auto last = entries_.size() - 1;
    if (index != last) {
      auto& moved = entries_[last];
      auto now_at = slot_of(index, moved.hash_bits);
      if (auto slot = slot_index_of(slots_, &moved); slot != npos)
        slots_[slot] = now_at;
      else
        draining_[slot_index_of(draining_, &moved)] = now_at;
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
    slots_ = {};
    next_ = {};
    draining_ = {};
  }

  auto begin() { return entries_.begin(); }
  auto end() { return entries_.end(); }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

private:
  /// Slots, not zeroed when allocated: a new table is zeroed a piece per
  /// insert before it is used (`grow_a_step`).
  class slot_table {
  public:
    slot_table() = default;
    explicit slot_table(size_t n) : data_(new uint64_t[n]), size_(n) {}
    uint64_t& operator[](size_t i) { return data_[i]; }
    uint64_t operator[](size_t i) const { return data_[i]; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    const uint64_t* data() const { return data_.get(); }
    uint64_t* begin() { return data_.get(); }
    uint64_t* end() { return data_.get() + size_; }

  private:
    std::unique_ptr<uint64_t[]> data_;
    size_t size_ = 0;
  };

  // A slot holds the entry's index plus one (0: empty) in its high half and
  // 32 bits of its hash in the low half: probing compares those before
  // touching an entry, and growth places slots by them alone.
  static uint64_t slot_of(size_t index, uint32_t bits) {
    return (static_cast<uint64_t>(index + 1) << 32) | bits;
  }
  static size_t index_in(uint64_t slot) { return (slot >> 32) - 1; }
  static uint32_t bits_in(uint64_t slot) { return static_cast<uint32_t>(slot); }
  static size_t mask(const slot_table& t) { return t.size() - 1; }
  /// In the table being drained only: a slot moved over or erased. Probes
  /// go on past it (its run stays whole) and never match it; no entry
  /// index comes near it.
  static constexpr uint64_t tombstone = ~uint64_t{0};
  static constexpr size_t npos = ~size_t{0};

  /// Growth, a piece per insert: zero `zero_step` slots of the next table,
  /// or move `drain_step` slots of the last one over. A table starts its
  /// successor at half full and must switch by three quarters, a quarter
  /// of its size in inserts: enough for zeroing twice its size at 8 a
  /// step; the new table has at least as many inserts to go before half
  /// full, enough for draining at 4. Twice those, for margin; an owner that
  /// erases as much as it adds may fall behind, and then the rest is done
  /// at once when the next growth is due.
  static constexpr size_t zero_step = 16;
  static constexpr size_t drain_step = 8;

  static uint32_t bits_from(size_t hash) {
    // Fibonacci mixing: the position comes from the low bits, and some
    // hashes (a boost-style combine) leave those weak.
    uint64_t h = static_cast<uint64_t>(hash) * 0x9E3779B97F4A7C15ull;
    return static_cast<uint32_t>(h >> 32);
  }

  /// `key`'s entry if `table` has a slot for it.
  template <class K>
  const entry* find_in(const slot_table& table, const K& key,
                       uint32_t bits) const {
    if (table.empty())
      return nullptr;
    for (size_t i = bits & mask(table); table[i] != 0;
         i = (i + 1) & mask(table))
      if (table[i] != tombstone && bits_in(table[i]) == bits) {
        auto& e = entries_[index_in(table[i])];
        if (e.key == key)
          return &e;
      }
    return nullptr;
  }

  /// The slot of `table` that points at `e`, or npos.
  size_t slot_index_of(const slot_table& table, const entry* e) const {
    if (table.empty())
      return npos;
    for (size_t i = e->hash_bits & mask(table); table[i] != 0;
         i = (i + 1) & mask(table))
      if (table[i] != tombstone && bits_in(table[i]) == e->hash_bits &&
          &entries_[index_in(table[i])] == e)
        return i;
    return npos;
  }

  /// Empties slot `i` of the current table, moving later slots of the same
  /// run back so every probe still finds them (no tombstones there).
  void release_slot(size_t i) {
    auto m = mask(slots_);
    for (size_t j = (i + 1) & m; slots_[j] != 0; j = (j + 1) & m) {
      size_t home = bits_in(slots_[j]) & m;
      // Slot j may move to i if its home is not in (i, j], cyclically.
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = 0;
  }

  /// Puts `slot` in the first free place of its run in the current table.
  void place(uint64_t slot) {
    size_t i = bits_in(slot) & mask(slots_);
    while (slots_[i] != 0)
      i = (i + 1) & mask(slots_);
    slots_[i] = slot;
  }

  /// Before an insert: one step of growth, and all that is left of it if
  /// the current table is full enough that it must not take more.
  void grow_a_step() {
    if (slots_.empty()) {
      slots_ = slot_table{16};
      std::fill(slots_.begin(), slots_.end(), 0);
      return;
    }
    if (!draining_.empty())
      drain(drain_step);
    else if (!next_.empty())
      zero(zero_step);
    else if ((entries_.size() + 1) * 2 > slots_.size()) {
      next_ = slot_table{slots_.size() * 2};
      zeroed_ = 0;
      zero(zero_step);
    }
    if ((entries_.size() + 1) * 4 > slots_.size() * 3) {
      zero(next_.size());
      drain(draining_.size());
    }
  }

  /// Zeroes up to `n` more slots of the next table; once all are, it
  /// becomes the current one and the current one is drained into it.
  void zero(size_t n) {
    if (next_.empty())
      return;
    auto end = std::min(next_.size(), zeroed_ + n);
    std::fill(next_.begin() + zeroed_, next_.begin() + end, 0);
    zeroed_ = end;
    if (zeroed_ < next_.size())
      return;
    draining_ = std::move(slots_);
    slots_ = std::move(next_);
    next_ = {};
    drained_ = 0;
  }

  /// Moves up to `n` more slots of the drained table to the current one.
  void drain(size_t n) {
    if (draining_.empty())
      return;
    auto end = std::min(draining_.size(), drained_ + n);
    for (; drained_ < end; ++drained_) {
      auto& slot = draining_[drained_];
      if (slot != 0 && slot != tombstone)
        place(slot);
      if (slot != 0)
        slot = tombstone; // its run stays whole for the probes still to come
    }
    if (drained_ == draining_.size())
      draining_ = {};
  }

  std::deque<entry> entries_;
  /// Where inserts go; lookups look here first.
  slot_table slots_;
  /// The next table while it is zeroed (`zeroed_` slots so far).
  slot_table next_;
  size_t zeroed_ = 0;
  /// The last table while its slots move over (`drained_` so far); every
  /// entry has a slot here or in `slots_`, never both.
  slot_table draining_;
  size_t drained_ = 0;
};

} // namespace argus::domain
