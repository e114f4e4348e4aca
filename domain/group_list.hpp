#pragma once

#include "domain/admission.hpp"
#include "domain/alert.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <functional>
#include <optional>
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
  /// active, acknowledged, resolve_requested or silenced (see shown_state).
  std::string state;
  /// high, medium or low.
  std::string severity;
  /// Case-insensitive text in the summary, dedupKey, grouping value, class
  /// or manager id of the parent.
  std::string text;
  int64_t limit = 50;
  int64_t offset = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_query& x) {
  return f(caf::meta::type_name("argus.group_query"), x.event_manager_id,
           x.state, x.severity, x.text, x.limit, x.offset);
}

/// The first field of `q` that is out of its range or set, as a
/// bad_request naming it with `name`.
caf::error check_group_query(const group_query& q, const field_namer& name);

/// One open group: its parent and what the console shows beside it.
struct group_row {
  alert parent;
  /// Active children (`parent.child_count` counts all), which the caller
  /// counts for the page's rows (`group_row_of` leaves 0).
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
std::string_view shown_state(const alert& parent, bool silenced);

/// Whether an active silence matches an alert now.
using silence_test = std::function<bool(const alert&)>;

/// Which open groups `q` selects: its filters, without its paging. It asks
/// `silenced` only when `q` filters by a state the answer decides (a
/// silence may read the details). It reads what a group writes of its
/// parent (the manager, dedupKey, summary, class, grouping value, severity,
/// status, type, flags and details), never what a store merges across
/// writes, as `storage::store::alert_check` requires.
class group_filter {
public:
  group_filter(const group_query& q, silence_test silenced);

  bool operator()(const alert& parent) const;

  /// Whether it may drop an open parent that passes a listing of the open
  /// parents of `q`'s manager (of all, without one): only a state,
  /// severity or text does. If not, that listing is the selection.
  bool narrows() const;

private:
  group_query query_;
  silence_test silenced_;
  std::string needle_; ///< q.text in lower case
  std::optional<severity> severity_;
};

/// The row of a selected group's `parent`, which the active silences
/// `silenced_by` match, at `now`; its active children are left to count.
group_row group_row_of(alert parent, std::vector<std::string> silenced_by,
                       time_point now);

/// The open groups a listing reads at most per manager, newest first, as
/// `argusctl groups` does: a bound on one request's work.
inline constexpr int64_t max_open_groups_read = 100000;

} // namespace argus::domain
