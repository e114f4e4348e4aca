#pragma once

#include "domain/alert.hpp"

#include <array>
#include <optional>
#include <string>
#include <string_view>

/// SQL for the `alerts` table that the SQLite and PostgreSQL stores share;
/// only the parameter placeholders and the name of "the larger of two"
/// differ between them.
namespace argus::storage::alert_sql {

/// The alert columns in the order each store binds and reads them.
inline constexpr std::array<const char*, 27> columns = {
    "id",
    "dedup_key",
    "event_manager_id",
    "summary",
    "severity",
    "class",
    "type",
    "status",
    "has_grouping_value",
    "grouping_value",
    "parent_dedup_key",
    "child_count",
    "resolve_requested",
    "event_count",
    "created_at_ms",
    "updated_at_ms",
    "resolved_at_ms",
    "window_ends_at_ms",
    "details",
    "last_seq",
    "expires_at_ms",
    "acknowledged",
    "acknowledged_at_ms",
    "acknowledged_by",
    "acknowledged_until_ms",
    "resolved_by",
    "auto_resolve_at_ms",
};

/// The listing order: newest first, ties broken by key.
inline constexpr std::string_view newest_first =
    " ORDER BY created_at_ms DESC, dedup_key ASC, event_manager_id ASC";

/// What differs between the two SQL dialects.
struct dialect {
  /// The `n`-th (1-based) parameter placeholder.
  std::string (*placeholder)(int n);
  /// The function that yields the larger of two values.
  const char* larger;
  /// What the listings of the open parents read from, of every manager and
  /// of one: SQLite is told to take its indexes of them (its planner
  /// preferred the status index, which holds every active alert, or the
  /// manager's, which holds every alert of the manager).
  const char* open_parents_source;
  const char* open_parents_of_manager_source;
};

extern const dialect sqlite;
extern const dialect postgres;

/// "p.id, p.dedup_key, ..." for a table alias `p` (or none).
std::string column_list(std::string_view alias = {});

/// The upsert that carries out `alert_write`'s merge: an existing row keeps
/// `id` and `created_at_ms`, adds the delta to `event_count` and keeps the
/// larger `last_seq`; every other column takes the new value.
std::string upsert(const dialect& d);

/// The same merge for a stored row whose status, parent and type stay as
/// they are (a parent gaining a child, a re-trigger): an UPDATE that leaves
/// those three columns out of its SET, with the same parameters as
/// `upsert`. It changes no row when the alert is not stored or one of
/// them differs; then the upsert must follow. SQLite rewrites the entries of
/// every index on a column a SET names, even to the value it had: the
/// upsert rewrote alerts_by_status and alerts_by_parent for every write
/// of an existing alert, and a type in the SET would rewrite a parent's
/// entry in the index of open parents at each child it gains. (PostgreSQL
/// compares the values and skips them.)
std::string refresh(const dialect& d);

/// The active alerts of one manager, in no order (`store::active_where`):
/// the manager as parameter 1; when `restricted`, then the values of
/// `column_filter`'s severity, class, summary and dedupKey, each a JSON
/// array of texts (`filter_values`), one of which a row must match.
std::string active_of_manager(const dialect& d, bool restricted);

/// The parameters 2 to 5 of a restricted `active_of_manager`, or none when
/// the filter is unrestricted or the SQL could not compare a value as
/// stored (a NUL or 0x01 byte: PostgreSQL stores them escaped, and JSON
/// texts with a NUL read short in SQLite) or cannot carry in JSON (text
/// that is not UTF-8); the caller then reads the
/// manager's active alerts unrestricted and filters them itself.
std::optional<std::array<std::string, 4>>
filter_values(const domain::column_filter& filter);

/// The listings' combinations of filters, by `combination_of`'s index: 0
/// to 7 set any of manager (4), status (2) and type (1); 8 and 9 are the
/// open parents (the web console's groups) of every manager and of one,
/// whose statements name the status and type as well, so that SQLite may
/// use its index of open parents (a partial index serves only queries
/// that name its condition).
inline constexpr size_t open_parents = 8;
inline constexpr size_t open_parents_of_manager = 9;
inline constexpr size_t combinations = 10;

/// The listing query for one combination of filters (manager, status, type
/// as parameters in that order, then limit and offset). Each combination
/// gets its own statement so the planner can use the matching index.
std::string list(const dialect& d, size_t combination);

/// The combination of `filter`'s filters, the index of its statement of
/// `list` or `count`.
inline size_t combination_of(const domain::alert_filter& filter) {
  if (filter.status == domain::to_string(domain::alert_status::active) &&
      filter.type == domain::to_string(domain::alert_type::parent))
    return filter.event_manager_id.empty() ? open_parents
                                           : open_parents_of_manager;
  return (filter.event_manager_id.empty() ? 0 : 4) +
         (filter.status.empty() ? 0 : 2) + (filter.type.empty() ? 0 : 1);
}

/// `make`'s statement for each combination, by `combination_of`'s index
/// (`list` or `count`).
std::array<std::string, combinations>
every_combination(const dialect& d,
                  std::string (*make)(const dialect&, size_t combination));

/// Binds, by `bind(text)`, the texts of the filters `filter` sets, in the
/// order of `list`'s and `count`'s parameters.
template <class Bind>
void bind_filters(const domain::alert_filter& filter, Bind bind) {
  for (auto* text : {&filter.event_manager_id, &filter.status, &filter.type})
    if (!text->empty())
      bind(*text);
}

/// How many alerts one combination of the listing's filters matches (the
/// parameters as `list`'s, without limit and offset).
std::string count(const dialect& d, size_t combination);

/// Deletes at most the second parameter's number of alerts resolved before
/// the first (milliseconds), a child only with its parent or without one
/// (`storage::store::drop_resolved`), by their physical row ids (SQLite's
/// rowid, PostgreSQL's ctid). A resolved alert was created before it
/// resolved, so the rows sought are a range of an index on the creation
/// time (`alerts_by_status` for SQLite), each parent looked up by its key:
/// the statement reads the old resolved rows, not the table.
std::string drop_resolved(const dialect& d);

} // namespace argus::storage::alert_sql
