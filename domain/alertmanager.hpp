#pragma once

#include "domain/event.hpp"
#include "domain/labels.hpp"
#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

/// Alertmanager's API v2 as a front of Argus: how a posted alert becomes an
/// event, and which alerts a `GET /api/v2/alerts` lists. Prometheus servers
/// and amtool speak it unchanged.
namespace argus::domain {

/// One element of a `postableAlerts` body.
struct postable_alert {
  label_set labels;
  label_set annotations;
  /// `no_time` when unset: missing, or Go's zero time
  /// `0001-01-01T00:00:00Z`, which amtool sends for an unset one.
  time_point starts_at = no_time;
  time_point ends_at = no_time;
  std::string generator_url;
};

/// Parses an RFC 3339 time as Go writes it (`2026-12-02T11:33:32.083Z`,
/// `...+01:00`, up to nanoseconds). Go's zero time gives `no_time`; a time
/// outside what a `time_point` holds (years 1678 to 2261) is an error.
caf::expected<time_point> parse_am_time(std::string_view text);

/// How long an alert posted without `endsAt` stays firing without a
/// re-send: Alertmanager's default `resolve_timeout`.
inline constexpr duration am_resolve_timeout = std::chrono::minutes{5};

/// How a manager maps the `severity` label to Argus's severities. Values
/// compare case-insensitively; a missing label, or a value the map lacks,
/// gets `fallback`.
struct severity_mapping {
  /// Lowercase label value -> severity.
  std::map<std::string, severity> by_label = defaults();
  severity fallback = severity::low;

  /// critical, error -> high; warning -> medium; info, none -> low.
  static std::map<std::string, severity> defaults();

  severity of(const label_set& labels) const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, severity_mapping& x) {
  return f(caf::meta::type_name("argus.severity_mapping"), x.by_label,
           x.fallback);
}

/// The mapping as text for the stores: the fallback's name on the first
/// line, then one `<severity> <label value>` line per entry, with `\` and
/// line breaks in values escaped as `\\` and `\n`.
std::string encode(const severity_mapping& m);

/// Reads `encode`'s text back; none if it is not such text. The empty text
/// is the default mapping (stores from before mappings existed).
std::optional<severity_mapping> decode_severity_mapping(std::string_view text);

/// An admitted Alertmanager alert: the event for the one admission path,
/// and the times Alertmanager would show and act on.
struct am_alert {
  /// dedupKey = fingerprint of the labels; trigger or resolve; summary and
  /// severity from annotations and labels (grouping value, window and
  /// details are the caller's: they need the event's JSON view).
  event ev;
  /// Effective start: as sent, else `endsAt` when only that is set, else now.
  time_point starts_at = no_time;
  /// Effective end: as sent, else now + `am_resolve_timeout`. A trigger
  /// resolves at this time unless a re-send moves it.
  time_point ends_at = no_time;
};

/// Checks one alert as Alertmanager's `Alert.Validate` does, after dropping
/// labels with empty values (as Alertmanager does): at least one label,
/// valid label and annotation names, `endsAt` not before `startsAt`. The
/// messages are Alertmanager's.
caf::error validate(const postable_alert& a);

/// Maps a posted alert to an event of manager `manager_id` accepted at
/// `now`: `endsAt` at or before now resolves, anything else triggers.
/// Unset times get Alertmanager's defaults, then the alert is validated
/// (see `validate`).
caf::expected<am_alert> admit_am_alert(const postable_alert& a,
                                       const std::string& manager_id,
                                       const severity_mapping& severities,
                                       time_point now);

/// The query of `GET /api/v2/alerts`.
struct am_query {
  std::vector<matcher> filter;
  /// Alertmanager's flags. Argus has no inhibitions and lists only
  /// processed alerts, so a listed alert is `active`, or `suppressed` by a
  /// silence (the HTTP layer then checks `silenced` in place of `active`);
  /// `inhibited` and `unprocessed` change nothing.
  bool active = true;
  bool silenced = true;
  bool inhibited = true;
  bool unprocessed = true;
  /// Anchored regex over the receiver name (the event manager's id).
  std::optional<std::regex> receiver;
};

/// Parses the `receiver` parameter into an anchored regex.
caf::expected<std::regex> parse_receiver_regex(const std::string& text);

/// Whether an active alert with `labels`, ending at `ends_at`, of receiver
/// `receiver` is listed at `now` (an alert whose end has passed is not, as
/// in Alertmanager).
bool am_listed(const am_query& q, const label_set& labels,
               const std::string& receiver, time_point ends_at, time_point now);

} // namespace argus::domain
