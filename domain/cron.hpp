#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <bitset>
#include <string>
#include <string_view>

/// Five-field cron expressions (minute hour day-of-month month day-of-week),
/// as crontab(5) reads them, for maintenance windows. Pure: they match
/// local calendar fields; domain/schedule.hpp maps them to instants in a
/// time zone.
namespace argus::domain {

/// A parsed expression: the set of values each field allows.
struct cron_spec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  /// Index 1..31.
  std::bitset<32> days_of_month;
  /// Index 1..12.
  std::bitset<13> months;
  /// Index 0..6, Sunday 0 (7 in the text is Sunday too).
  std::bitset<7> days_of_week;
  /// The day-of-month / day-of-week field was not `*`: when both were
  /// restricted, a day matching either one fires (crontab's rule).
  bool dom_restricted = false;
  bool dow_restricted = false;

  /// Whether a local day fires: `month` 1..12, `day` 1..31, `weekday` 0..6
  /// (Sunday 0).
  bool day_matches(unsigned month, unsigned day, unsigned weekday) const;
};

/// Parses `text`: five fields separated by blanks, each `*` or a list of
/// values and ranges (`1,15`, `9-17`), each optionally stepped (`*/15`,
/// `0-30/10`); months and days of the week also by name (`jan`, `sun`,
/// case-insensitive). The error names `field` and the cron field that is
/// wrong.
caf::expected<cron_spec> parse_cron(std::string_view text,
                                    const std::string& field = "cron");

} // namespace argus::domain
