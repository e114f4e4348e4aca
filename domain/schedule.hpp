#pragma once

#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <optional>
#include <string>
#include <vector>

/// Maintenance windows: when a recurring silence is in force. A schedule
/// names a time zone of the system's tz database (/usr/share/zoneinfo, read
/// by Howard Hinnant's date/tz library, Debian's libhowardhinnant-date-dev)
/// and the local times its occurrences start, either as days of the week
/// and a start time or as a five-field cron expression; each occurrence
/// lasts `duration_seconds` of real time.
///
/// Daylight saving: a local start time that does not exist that day (the
/// clocks spring forward over it) starts at the first valid instant after
/// the gap, e.g. 02:00 Europe/Berlin on 2027-03-28 starts at 03:00 CEST; a
/// local start time that happens twice (the clocks fall back) starts at the
/// first of them, e.g. 02:00 on 2027-10-31 is 02:00 CEST (00:00 UTC), once.
/// Either way the occurrence lasts `duration_seconds` from its start.
namespace argus::domain {

struct schedule {
  /// An IANA time zone name, e.g. "Europe/Berlin"; empty: no schedule.
  std::string time_zone;
  /// The days form: days of the week ("sun".."sat", lower case once
  /// validated) and the local start time "HH:MM".
  std::vector<std::string> days;
  std::string start;
  /// The cron form, instead of days and start: when occurrences start.
  std::string cron;
  int64_t duration_seconds = 0;

  bool empty() const { return time_zone.empty(); }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, schedule& x) {
  return f(caf::meta::type_name("argus.schedule"), x.time_zone, x.days, x.start,
           x.cron, x.duration_seconds);
}

/// The longest occurrence: 31 days.
inline constexpr int64_t max_schedule_duration_seconds =
    int64_t{31} * 24 * 3600;

/// One occurrence of a schedule: [starts_at, ends_at).
struct occurrence {
  time_point starts_at{};
  time_point ends_at{};
};

/// Checks a schedule and normalises it (day names to lower case): a known
/// time zone, either days and start or cron, a positive duration up to
/// `max_schedule_duration_seconds`. Messages name the field as
/// `<field>.<name>`.
caf::error validate(schedule& s, const std::string& field = "schedule");

/// The occurrence in force at `now`, if any (a valid schedule; none for an
/// invalid one).
std::optional<occurrence> occurrence_at(const schedule& s, time_point now);

/// The first `n` occurrences starting after `now` and before `until`
/// (`no_time`: no bound), in order; fewer when there are no more within
/// four years.
std::vector<occurrence> next_occurrences(const schedule& s, time_point now,
                                         size_t n, time_point until = no_time);

/// The schedule as text for the stores (`encode_keys` lines); "" for none.
std::string encode_schedule(const schedule& s);

/// Reads `encode_schedule`'s text back; none when it is not such text.
std::optional<schedule> decode_schedule(std::string_view text);

} // namespace argus::domain
