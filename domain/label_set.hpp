#pragma once

// Prometheus label sets (an alert's labels, or its annotations) as one
// sorted vector. A std::map took a tree node (an allocation, plus a string
// compare per level) for every label: reading an Alertmanager post's
// labels into maps was 7% of the Alertmanager API's CPU per alert. Here a
// set is one allocation, names in sorted order append in constant time
// (Prometheus sends them sorted), and a lookup is a binary search over a
// handful of names. A name inserted out of order moves the names after
// it, so labels from a request (in any order, and as many as its body
// holds) are gathered first and sorted once (`label_set::from`).

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace argus::domain {

/// What `label_set::from` does with a name given more than once.
enum class duplicate_names {
  keep_first, ///< as std::map's emplace or insert
  keep_last,  ///< as assigning to std::map's operator[], or a JSON DOM
  refuse,     ///< no set
};

/// A label set, sorted by name (the order the fingerprint hashes in); a
/// name appears at most once. The interface is the part of std::map's the
/// project uses, with map's rules: `emplace` keeps the value already
/// there, `operator[]` adds an empty one. Both take linear time for a name
/// that sorts before the last one; `from` builds a set of many names in
/// any order.
class label_set {
public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;

  /// The set of `labels`, given in any order, sorted once: O(n log n)
  /// where inserting them one by one would be O(n^2). None when `rule` is
  /// `refuse` and a name is given twice.
  static std::optional<label_set> from(std::vector<value_type> labels,
                                       duplicate_names rule);

  label_set() = default;
  /// As a map built from `labels`: of a name given twice, the first value.
  label_set(std::initializer_list<value_type> labels) { insert(labels); }

  const_iterator begin() const { return labels_.begin(); }
  const_iterator end() const { return labels_.end(); }
  size_t size() const { return labels_.size(); }
  bool empty() const { return labels_.empty(); }
  void clear() { labels_.clear(); }

  /// The label named `name`, or end().
  const_iterator find(std::string_view name) const {
    auto it = position_of(labels_, name);
    return it != end() && it->first == name ? it : end();
  }

  /// Adds `name` with `value` unless the set has `name`; the label of
  /// `name`, and whether it was added.
  template <class Name, class Value>
  std::pair<const_iterator, bool> emplace(Name&& name, Value&& value) {
    std::string_view key{name};
    auto it = position_of(labels_, key);
    if (it != labels_.end() && it->first == key)
      return {it, false};
    it = labels_.emplace(it, std::string{std::forward<Name>(name)},
                         std::string{std::forward<Value>(value)});
    return {it, true};
  }

  /// `emplace` of each of `labels`, in order.
  void insert(std::initializer_list<value_type> labels) {
    labels_.reserve(labels_.size() + labels.size());
    for (auto& label : labels)
      emplace(label.first, label.second);
  }

  /// The value of `name`, added empty when the set has no such label.
  std::string& operator[](std::string_view name) {
    auto it = position_of(labels_, name);
    if (it == labels_.end() || it->first != name)
      it = labels_.emplace(it, std::string{name}, std::string{});
    return it->second;
  }

  /// Removes every label `drop` is true for.
  template <class Predicate>
  void erase_if(Predicate drop) {
    labels_.erase(std::remove_if(labels_.begin(), labels_.end(), drop),
                  labels_.end());
  }

  friend bool operator==(const label_set& a, const label_set& b) {
    return a.labels_ == b.labels_;
  }
  friend bool operator!=(const label_set& a, const label_set& b) {
    return !(a == b);
  }

private:
  /// The first label of `labels` not named before `name`: where `name` is,
  /// or goes (const or not, as `labels`).
  template <class Labels>
  static auto position_of(Labels& labels, std::string_view name)
      -> decltype(labels.begin()) {
    // Names arrive sorted, so the end is tried before a search.
    if (labels.empty() || labels.back().first < name)
      return labels.end();
    return std::lower_bound(labels.begin(), labels.end(), name,
                            [](const value_type& label, std::string_view n) {
                              return label.first < n;
                            });
  }

  std::vector<value_type> labels_;
};

} // namespace argus::domain
