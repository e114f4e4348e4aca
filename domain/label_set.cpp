#include "domain/label_set.hpp"

namespace argus::domain {

namespace {

/// Sets up to this size are sorted by insertion (O(n^2) moves of a few
/// names), larger ones by std::stable_sort.
constexpr size_t small_set = 16;

} // namespace

std::optional<label_set> label_set::from(std::vector<value_type> labels,
                                         duplicate_names rule) {
  auto by_name = [](const value_type& a, const value_type& b) {
    return a.first < b.first;
  };
  auto same_name = [](const value_type& a, const value_type& b) {
    return a.first == b.first;
  };
  // Stable, so the names given twice stay in the order they came in.
  if (std::is_sorted(labels.begin(), labels.end(), by_name)) {
    // As Prometheus sends them.
  } else if (labels.size() <= small_set) {
    // In place: std::stable_sort allocates a buffer, which cost an
    // Alertmanager post's alert 6% of its front's instructions.
    for (auto it = std::next(labels.begin()); it != labels.end(); ++it)
      std::rotate(std::upper_bound(labels.begin(), it, *it, by_name), it,
                  std::next(it));
  } else {
    std::stable_sort(labels.begin(), labels.end(), by_name);
  }
  auto twice = std::adjacent_find(labels.begin(), labels.end(), same_name);
  if (twice != labels.end()) {
    switch (rule) {
    case duplicate_names::refuse:
      return std::nullopt;
    case duplicate_names::keep_first:
      labels.erase(std::unique(labels.begin(), labels.end(), same_name),
                   labels.end());
      break;
    case duplicate_names::keep_last: {
      // Each label is kept unless the next one has its name.
      auto kept = labels.begin();
      for (auto it = labels.begin(); it != labels.end(); ++it)
        if (std::next(it) == labels.end() || !same_name(*it, *std::next(it))) {
          if (kept != it)
            *kept = std::move(*it);
          ++kept;
        }
      labels.erase(kept, labels.end());
      break;
    }
    }
  }
  label_set out;
  out.labels_ = std::move(labels);
  return out;
}

} // namespace argus::domain
