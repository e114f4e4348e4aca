#include "storage/store.hpp"

#include <algorithm>

namespace argus::storage {

namespace {

/// `list_where` of an empty check: the page by `list`, the total by
/// `count_matching`.
caf::expected<domain::alert_page>
page_of_every(store& db, const domain::alert_filter& filter, int64_t scan) {
  auto counted = db.count_matching(filter);
  if (!counted)
    return std::move(counted.error());
  domain::alert_page page;
  page.total = scan < 0 ? *counted : std::min(*counted, scan);
  // The page, cut to the `scan` newest.
  auto read = filter;
  read.offset = std::max<int64_t>(filter.offset, 0);
  auto left = page.total - read.offset;
  if (left <= 0 || read.limit == 0)
    return page;
  read.limit = read.limit < 0 ? left : std::min(read.limit, left);
  auto found = db.list(read);
  if (!found)
    return std::move(found.error());
  page.alerts = std::move(*found);
  return page;
}

} // namespace

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

caf::expected<int64_t>
store::count_matching(const domain::alert_filter& filter) {
  auto every = filter;
  every.limit = -1;
  every.offset = 0;
  auto found = list(every);
  if (!found)
    return std::move(found.error());
  return static_cast<int64_t>(found->size());
}

caf::expected<domain::alert_page>
store::list_where(const domain::alert_filter& filter, const alert_check& keep,
                  int64_t scan) {
  if (!keep)
    return page_of_every(*this, filter, scan);
  // The `scan` newest, from the first.
  auto read = filter;
  read.offset = 0;
  read.limit = scan;
  domain::alert_page page;
  if (auto err = each_listed(read, [&](domain::alert& a) {
        if (keep(a) &&
            domain::on_page(page.total++, filter.offset, filter.limit))
          page.alerts.push_back(std::move(a));
      }))
    return err;
  return page;
}

caf::error
store::each_listed(const domain::alert_filter& filter,
                   const std::function<void(domain::alert&)>& on_alert) {
  auto found = list(filter);
  if (!found)
    return std::move(found.error());
  for (auto& a : *found)
    on_alert(a);
  return {};
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
