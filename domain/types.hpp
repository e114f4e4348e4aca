#pragma once

#include <caf/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// Vocabulary of the alert domain: enumerations, time, and their spellings.
namespace argus::domain {

/// Wall-clock time with nanosecond resolution; the domain never reads a clock,
/// callers pass `now` in.
using time_point = caf::timestamp;
using duration = caf::timespan;

/// The zero time point marks "not set" (e.g. `resolved_at` of an active alert).
inline constexpr time_point no_time{};

/// Milliseconds since the UNIX epoch, the unit the stores and JSON use.
int64_t to_millis(time_point t);
time_point from_millis(int64_t ms);

/// Formats as RFC 3339 UTC with milliseconds, e.g. 2026-11-27T10:19:39.123Z.
std::string to_rfc3339(time_point t);

/// The length of `to_rfc3339`'s text, the same for every time_point (its
/// years are 1677 to 2262).
inline constexpr size_t rfc3339_length = 24;

/// `to_rfc3339`'s text written at `out` (`rfc3339_length` bytes, no
/// terminator), for writers that would only copy the string on.
void write_rfc3339(char* out, time_point t);

enum class severity : uint8_t { high, medium, low };
/// What an event asks for. `acknowledge` (PagerDuty's word) marks an active
/// alert as being worked on; `unacknowledge` is its operator-side undo.
/// Values are stored in the journals: append, never renumber.
enum class action : uint8_t { trigger, resolve, acknowledge, unacknowledge };
enum class alert_type : uint8_t { parent, child };
enum class alert_status : uint8_t { active, resolved };
/// Why an alert resolved (or, on a parent waiting for its children, why it
/// was asked to): a resolve event, its own end (`expires_at`) passing, or
/// no trigger for the manager's or rule's `auto_resolve_after`. `none` on
/// an active alert and on rows stored before it was recorded. Stored in
/// the databases by spelling.
enum class resolution : uint8_t { none, event, expired, automatic };

std::string_view to_string(severity x);
std::string_view to_string(action x);
std::string_view to_string(alert_type x);
std::string_view to_string(alert_status x);
/// "" for `none`, "event", "expired", "auto".
std::string_view to_string(resolution x);

std::optional<severity> parse_severity(std::string_view text);
std::optional<action> parse_action(std::string_view text);
std::optional<alert_type> parse_alert_type(std::string_view text);
std::optional<alert_status> parse_alert_status(std::string_view text);
std::optional<resolution> parse_resolution(std::string_view text);

/// Longest id or dedupKey we accept, in bytes.
inline constexpr size_t max_key_bytes = 1024;

} // namespace argus::domain
