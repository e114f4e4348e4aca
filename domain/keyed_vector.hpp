#pragma once

// A few entries found by a text key. A group's parents with children and
// the writes its outbox stages are nearly always one or two: a look along a
// vector beats a hash map's bucket array and nodes (two blocks and a hash
// per key, 2-2.5% of an event's work where they were maps). Past a few
// entries a hash index of their places keeps a lookup O(1).

#include "domain/shared_text.hpp"
#include "domain/text_hash.hpp"

#include <cstddef>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace argus::domain {

/// Entries in a vector, each found by its `shared_text` member `Key`.
/// References to entries last until the next append or erase.
template <class Entry, shared_text Entry::*Key>
class keyed_vector {
public:
  /// Past this many entries, their places are kept in a hash index.
  static constexpr size_t unindexed = 8;

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  size_t capacity() const { return entries_.capacity(); }
  void reserve(size_t n) { entries_.reserve(n); }
  Entry& operator[](size_t at) { return entries_[at]; }
  const Entry& operator[](size_t at) const { return entries_[at]; }

  /// The place of `key`'s entry, or `size()` if there is none. A
  /// `shared_text` key that shares an entry's block matches it without
  /// comparing characters.
  template <class Text>
  size_t place_of(const Text& key) const {
    if (!index_.empty()) {
      auto it = index_.find(std::string_view{key});
      return it != index_.end() ? it->second : entries_.size();
    }
    for (size_t i = 0; i < entries_.size(); ++i)
      if (entries_[i].*Key == key)
        return i;
    return entries_.size();
  }

  /// The place of `key`'s entry, appended with only its key set if there
  /// was none.
  template <class Text>
  size_t place_or_append(const Text& key) {
    if constexpr (std::is_same_v<Text, shared_text>) {
      if (!index_.empty()) {
        // One hash: the index key may view `key`'s block, as the new
        // entry shares it (a view of other text would dangle).
        auto [it, added] = index_.try_emplace(key.view(), entries_.size());
        if (added)
          entries_.emplace_back().*Key = key;
        return it->second;
      }
    }
    auto at = place_of(key);
    if (at < entries_.size())
      return at;
    entries_.emplace_back().*Key = key;
    if (!index_.empty())
      index_.emplace(key_of(at), at);
    else if (entries_.size() > unindexed)
      for (size_t i = 0; i < entries_.size(); ++i)
        index_.emplace(key_of(i), i);
    return at;
  }

  /// Removes the entry at `at`; the last entry takes its place.
  void erase_at(size_t at) {
    if (!index_.empty())
      index_.erase(key_of(at)); // before the block its key views goes
    if (at + 1 != entries_.size()) {
      entries_[at] = std::move(entries_.back());
      if (!index_.empty())
        index_[key_of(at)] = at;
    }
    entries_.pop_back();
    if (entries_.size() <= unindexed)
      index_.clear();
  }

private:
  std::string_view key_of(size_t at) const {
    return (entries_[at].*Key).view();
  }

  std::vector<Entry> entries_;
  /// Empty while there are `unindexed` entries or fewer. Keys view the
  /// entries' own key blocks, which stay put as the vector moves.
  std::unordered_map<std::string_view, size_t, text_hasher> index_;
};

} // namespace argus::domain
