#pragma once

#include "domain/alert.hpp"
#include "domain/catalog.hpp"
#include "domain/delivery.hpp"
#include "domain/event.hpp"
#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The one admission path: what every front (HTTP, argusctl, later ones)
/// checks of an event, an alert query or a read before it reaches the
/// actors. Fronts map their input onto these calls and word nothing of the
/// rules themselves.
namespace argus::domain {

// -- events -------------------------------------------------------------------

/// Whether a key field's value fits the store's key columns. Inline, and
/// apart from the error, because every event's two keys are checked: a
/// caf::error, even an empty one, is destroyed by a call into libcaf_core.
inline bool key_fits(std::string_view value) {
  return value.size() <= max_key_bytes;
}

/// Checks that key field `field` fits the store's key columns.
caf::error check_key_length(std::string_view field, std::string_view value);

/// Parses an event's action ("trigger", "resolve", "acknowledge" or
/// "unacknowledge").
caf::expected<action> parse_event_action(std::string_view text);

/// Parses an event's severity ("high", "medium" or "low").
caf::expected<severity> parse_event_severity(std::string_view text);

/// Checks a typed event: both keys present and short enough, a known action
/// and severity, and a summary on triggers. A front that already parsed its
/// input with the same rules passes this trivially; a typed event that came
/// over the wire (argusctl) is checked here.
caf::error validate(const event& e);

/// Reads the field an event's rule groups by as grouping text (see
/// `field_reader`); none when the event lacks it. HTTP looks into the JSON
/// body, the Alertmanager front into an alert's labels and annotations,
/// argusctl into its map.
using field_lookup = field_reader;

/// Validates `e` and admits it against `catalog`: its manager must exist;
/// the manager's rule picks the grouping value (through `fields`: one key,
/// a dotted path or a tuple of keys) and the window; `now` (the node's
/// injected clock) is when it was accepted.
caf::expected<event> admit(event e, const catalog& catalog,
                           const field_lookup& fields, time_point now);

/// `admit` in place: the batch path fills each event where it stays, as a
/// move of an event (seven strings) per step was 5% of its CPU. On an error
/// `e` is left part-way and must be dropped.
caf::error admit_in_place(event& e, const catalog& catalog,
                          const field_lookup& fields, time_point now);

// -- back-pressure ------------------------------------------------------------

/// Whether `incoming` more events would take the accepted-but-unfinished
/// work (`pending`) past `bound`, so memory cannot grow without limit.
bool overloaded(uint64_t pending, uint64_t incoming, uint64_t bound);

/// `overloaded` as the error a front answers with (unavailable: retry).
caf::error check_backlog(uint64_t pending, uint64_t incoming, uint64_t bound);

// -- reads
// ---------------------------------------------------------------------

/// The most alerts one list request returns.
inline constexpr int64_t max_alert_limit = 1000;

/// The largest offset a list request may skip (beyond any real store).
inline constexpr int64_t max_alert_offset = INT64_MAX / 2;

/// Notifications one request returns by default, and at most.
inline constexpr int64_t default_notification_limit = 100;
inline constexpr int64_t max_notification_limit = 10000;

/// "<name> must be an integer from <low> to <high>" (bad_request).
caf::error out_of_range(const std::string& name, int64_t low, int64_t high);

/// The fields of an alert filter, in the order they are checked.
enum class filter_field { status, type, limit, offset };

/// The first field of `f` an alert list cannot take, if any.
std::optional<filter_field> invalid_field(const alert_filter& f);

/// How a front names a field in its errors: "status" for the admin
/// endpoint, "query parameter 'status'" for HTTP.
using field_namer = std::function<std::string(const std::string& field)>;

/// `invalid_field` as a bad_request error naming the field with `name`.
caf::error check_filter(const alert_filter& f, const field_namer& name);

/// Checks the notification-list limit (1 to `max_notification_limit`).
caf::error check_notification_limit(int64_t limit, const std::string& name);

/// Checks a notification listing: its limit, and a state that is one of
/// pending, delivered, failed, suppressed (or empty). Fields are named with
/// `name`.
caf::error check_notification_filter(const notification_filter& f,
                                     const field_namer& name);

/// The one alert among `found` (every alert with dedupKey `dedup`): none is
/// not_found; several (one per manager) is a conflict, and `choose` tells
/// the client how to name the manager ("pass ?event_manager_id=").
caf::expected<alert> single_alert(std::vector<alert>& found,
                                  const std::string& dedup,
                                  const std::string& choose);

} // namespace argus::domain
