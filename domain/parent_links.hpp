#pragma once

#include "domain/shared_text.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace argus::domain {

/// The children a parent gathered in its current life. The active ones are
/// in the group's `active` (their parent_dedup_key names the parent), so
/// only the resolved ones need their keys kept here: one that triggers
/// again and rejoins is the same child, counted once in child_count.
struct parent_links {
  /// The parent's dedupKey: the map's key views it.
  shared_text parent;
  /// Share their alerts' dedupKey blocks.
  std::unordered_set<shared_text> resolved_children;
  int64_t active_children = 0;
};

/// The parent links of a group, by the parent's dedupKey: the few calls of
/// an std::unordered_map the rules use. Most groups never gain a child, so
/// the map is made by the first link and let go with the last; until then
/// it costs a group a pointer instead of an empty map's 56 bytes. Each key
/// views its entry's own `parent`, so a lookup by any text copies nothing.
class parent_link_map {
  using map = std::unordered_map<std::string_view, parent_links>;

public:
  using iterator = map::iterator;
  using const_iterator = map::const_iterator;

  parent_link_map() = default;
  parent_link_map(const parent_link_map& other);
  parent_link_map& operator=(const parent_link_map& other);
  parent_link_map(parent_link_map&&) noexcept = default;
  parent_link_map& operator=(parent_link_map&&) noexcept = default;

  /// The links of `parent`, made empty if it has none.
  parent_links& operator[](std::string_view parent);
  /// The same; new links share `parent`'s block instead of making one.
  parent_links& operator[](const shared_text& parent);
  parent_links& operator[](const char* parent) {
    return (*this)[std::string_view{parent}];
  }
  /// The links of `parent`; throws std::out_of_range if it has none.
  parent_links& at(std::string_view parent);
  /// `end()` if `parent` has no links. (Without a map both are
  /// value-initialized iterators, which compare equal.)
  iterator find(std::string_view parent);
  iterator end() { return links_ ? links_->end() : iterator{}; }
  const_iterator find(std::string_view parent) const;
  const_iterator end() const {
    return links_ ? links_->cend() : const_iterator{};
  }
  const parent_links& at(std::string_view parent) const {
    return const_cast<parent_link_map*>(this)->at(parent);
  }
  void erase(std::string_view parent);
  bool empty() const { return !links_; }
  size_t size() const { return links_ ? links_->size() : 0; }
  void clear() { links_.reset(); }

private:
  template <class Text>
  parent_links& links_of(const Text& parent);

  std::unique_ptr<map> links_; ///< null while empty
};

} // namespace argus::domain
