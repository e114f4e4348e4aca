#pragma once

#include "domain/admission.hpp"
#include "domain/alert.hpp"

#include <caf/error.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

/// The list of open groups the web console shows (`GET /v1/groups`): each
/// active parent with its children counted, its window, its state, filtered
/// and paged. Pure: the caller passes the alerts, the silences' verdict and
/// `now`.
namespace argus::domain {

/// A page holds at most this many groups.
inline constexpr int64_t max_group_page = 1000;

/// What the list asks for; empty strings select everything.
struct group_query {
  std::string event_manager_id;
  /// active, acknowledged, resolve_requested or silenced (see group_state).
  std::string state;
  /// high, medium or low.
  std::string severity;
  /// Case-insensitive text in the summary, dedupKey, grouping value, class
  /// or manager id of the parent.
  std::string text;
  int64_t limit = 50;
  int64_t offset = 0;
};

/// The first field of `q` that is out of its range or set, as a
/// bad_request naming it with `name`.
caf::error check_group_query(const group_query& q, const field_namer& name);

/// One open group: its parent and what the console shows beside it.
struct group_row {
  alert parent;
  /// Active children (`parent.child_count` counts all), which the caller
  /// counts for the page's rows (`select_groups` leaves 0).
  int64_t active_children = 0;
  /// Ids of the active silences that match the parent now.
  std::vector<std::string> silenced_by;
  /// What an operator sees first: `resolve_requested` (waiting for its
  /// children), else `acknowledged`, else `silenced`, else `active`.
  std::string_view state;
  /// Until the window closes; zero when it has (or there is no value).
  duration window_left{};
};

/// One page of groups, and how many groups passed the filters.
struct group_page {
  int64_t total = 0;
  std::vector<group_row> rows;
};

/// The state a group is shown in (see group_row::state).
std::string_view group_state(const alert& parent, bool silenced);

/// The ids of the active silences matching an alert now.
using silence_check = std::function<std::vector<std::string>(const alert&)>;

/// The groups of `parents` (active parents, in the order to show them:
/// newest first) that pass `q`, paged by `q.limit` and `q.offset`. Their
/// active children are the caller's to count, for the page's rows alone:
/// counting them for every open group read every open child, most of a
/// page's cost with 100,000 groups.
group_page select_groups(const std::vector<alert>& parents,
                         const silence_check& silenced, const group_query& q,
                         time_point now);

} // namespace argus::domain
