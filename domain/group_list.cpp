#include "domain/group_list.hpp"

#include "domain/error.hpp"

#include <algorithm>
#include <cctype>

namespace argus::domain {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool contains_text(const alert& a, const std::string& needle) {
  for (std::string_view field :
       {std::string_view{a.summary}, std::string_view{a.dedup_key},
        a.grouping_value.view(), a.class_name.view(),
        a.event_manager_id.view()})
    if (lower(field).find(needle) != std::string::npos)
      return true;
  return false;
}

} // namespace

caf::error check_group_query(const group_query& q, const field_namer& name) {
  static constexpr std::string_view states[] = {
      "active", "acknowledged", "resolve_requested", "silenced"};
  if (!q.state.empty() && std::find(std::begin(states), std::end(states),
                                    q.state) == std::end(states))
    return make_error(ec::bad_request,
                      name("state") + " must be one of active, acknowledged, "
                                      "resolve_requested, silenced");
  if (!q.severity.empty() && !parse_severity(q.severity))
    return make_error(ec::bad_request,
                      name("severity") + " must be one of high, medium, low");
  if (q.limit < 1 || q.limit > max_group_page)
    return out_of_range(name("limit"), 1, max_group_page);
  if (q.offset < 0 || q.offset > max_alert_offset)
    return out_of_range(name("offset"), 0, max_alert_offset);
  return {};
}

std::string_view group_state(const alert& parent, bool silenced) {
  if (parent.resolve_requested)
    return "resolve_requested";
  if (parent.acknowledged)
    return "acknowledged";
  if (silenced)
    return "silenced";
  return "active";
}

group_page select_groups(const std::vector<alert>& parents,
                         const silence_check& silenced, const group_query& q,
                         time_point now) {
  auto needle = lower(q.text);
  auto sev = parse_severity(q.severity);
  group_page out;
  for (auto& p : parents) {
    if (!p.is_active() || !p.is_parent())
      continue;
    if (!q.event_manager_id.empty() && p.event_manager_id != q.event_manager_id)
      continue;
    if (sev && p.sev != *sev)
      continue;
    if (!needle.empty() && !contains_text(p, needle))
      continue;
    auto ids = silenced(p);
    auto state = group_state(p, !ids.empty());
    if (!q.state.empty() && state != q.state)
      continue;
    auto index = out.total++;
    if (index < q.offset || index >= q.offset + q.limit)
      continue;
    group_row row;
    row.parent = p;
    row.silenced_by = std::move(ids);
    row.state = state;
    if (p.has_grouping_value && p.window_ends_at > now)
      row.window_left = p.window_ends_at - now;
    out.rows.push_back(std::move(row));
  }
  return out;
}

} // namespace argus::domain
