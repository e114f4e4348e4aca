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

std::string_view shown_state(const alert& parent, bool silenced) {
  if (parent.resolve_requested)
    return "resolve_requested";
  if (parent.acknowledged)
    return "acknowledged";
  if (silenced)
    return "silenced";
  return "active";
}

group_filter::group_filter(const group_query& q, silence_test silenced)
    : query_(q), silenced_(std::move(silenced)), needle_(lower(q.text)),
      severity_(parse_severity(q.severity)) {}

bool group_filter::operator()(const alert& p) const {
  auto& q = query_;
  if (!p.is_active() || !p.is_parent())
    return false;
  if (!q.event_manager_id.empty() && p.event_manager_id != q.event_manager_id)
    return false;
  if (severity_ && p.sev != *severity_)
    return false;
  if (!needle_.empty() && !contains_text(p, needle_))
    return false;
  if (q.state.empty())
    return true;
  // A group waiting for its children, or acknowledged, shows so whatever
  // silences match it.
  auto state = shown_state(p, false);
  if (state != "active")
    return state == q.state;
  return q.state == (silenced_(p) ? "silenced" : "active");
}

bool group_filter::narrows() const {
  return severity_ || !needle_.empty() || !query_.state.empty();
}

group_row group_row_of(alert parent, std::vector<std::string> silenced_by,
                       time_point now) {
  group_row row;
  row.state = shown_state(parent, !silenced_by.empty());
  if (parent.has_grouping_value && parent.window_ends_at > now)
    row.window_left = parent.window_ends_at - now;
  row.parent = std::move(parent);
  row.silenced_by = std::move(silenced_by);
  return row;
}

} // namespace argus::domain
