#pragma once

#include "domain/keyed_vector.hpp"
#include "domain/shared_text.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>

namespace argus::domain {

/// The children a parent gathered in its current life. The active ones are
/// in the group's `active` (their parent_dedup_key names the parent), so
/// only the resolved ones need their keys kept here: one that triggers
/// again and rejoins is the same child, counted once in child_count.
struct parent_links {
  /// The parent's dedupKey: the key its links are found by.
  shared_text parent;
  /// Share their alerts' dedupKey blocks.
  std::unordered_set<shared_text> resolved_children;
  int64_t active_children = 0;
};

/// The parent links of a group, by the parent's dedupKey: the few calls of
/// a map the rules use. Most groups never gain a child, so the table is
/// made by the first link and let go with the last; until then it costs a
/// group a pointer. A group seldom has more than one parent with children
/// (one per window), so the links are a `keyed_vector` (an
/// std::unordered_map made three blocks and two hashes for a group's first
/// child, 2.5% of an event's work). References to links last until the
/// next insert or erase.
class parent_link_map {
  using table = keyed_vector<parent_links, &parent_links::parent>;

public:
  /// Past this many parents, their places are kept in a hash index.
  static constexpr size_t unindexed = table::unindexed;

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
  const parent_links& at(std::string_view parent) const {
    return const_cast<parent_link_map*>(this)->at(parent);
  }
  /// The links of `parent`, or null if it has none.
  parent_links* find(std::string_view parent);
  const parent_links* find(std::string_view parent) const {
    return const_cast<parent_link_map*>(this)->find(parent);
  }
  void erase(std::string_view parent);
  bool empty() const { return !table_; }
  size_t size() const { return table_ ? table_->size() : 0; }
  void clear() { table_.reset(); }

private:
  template <class Text>
  parent_links& links_of(const Text& parent);

  std::unique_ptr<table> table_; ///< null while empty
};

} // namespace argus::domain
