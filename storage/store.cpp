#include "storage/store.hpp"

#include <algorithm>

namespace argus::storage {

// Defined here rather than inline so the vtable has one home.
store::~store() = default;

caf::expected<std::vector<domain::alert>>
store::active_where(const std::string& manager_id,
                    const domain::column_filter& where,
                    const std::function<bool(const domain::alert&)>& keep) {
  auto found = list(domain::every_active_alert_of(manager_id));
  if (!found)
    return found;
  found->erase(std::remove_if(found->begin(), found->end(),
                              [&](const domain::alert& a) {
                                return !where.admits(a) || !keep(a);
                              }),
               found->end());
  return found;
}

caf::expected<std::vector<int64_t>> store::active_children_counts(
    const std::string& manager_id,
    const std::vector<std::string>& parent_dedup_keys) {
  std::vector<int64_t> counts;
  counts.reserve(parent_dedup_keys.size());
  for (auto& parent : parent_dedup_keys) {
    auto found = children(manager_id, parent);
    if (!found)
      return std::move(found.error());
    counts.push_back(std::count_if(found->begin(), found->end(), [](auto& c) {
      return c.is_active() && c.type == domain::alert_type::child;
    }));
  }
  return counts;
}

} // namespace argus::storage
