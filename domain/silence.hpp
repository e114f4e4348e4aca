#pragma once

#include "domain/alert.hpp"
#include "domain/schedule.hpp"
#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <functional>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Silences: operator-made, time-bound mutes of notifications for the alerts
/// that match them (Alertmanager's semantics). Alerts stay grouped, stored and
/// readable; only their notifications are held back.
namespace argus::domain {

/// One condition on an alert field or label, as Alertmanager's matcher.
struct silence_matcher {
  std::string name;
  std::string value;
  /// `value` is a regular expression, anchored at both ends.
  bool is_regex = false;
  /// false negates: the field must not equal (not match) the value.
  bool is_equal = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, silence_matcher& x) {
  return f(caf::meta::type_name("argus.silence_matcher"), x.name, x.value,
           x.is_regex, x.is_equal);
}

/// Reads a field of an alert's details by name (as `field_reader` of
/// domain/catalog.hpp, which includes this header): none when absent.
using details_reader =
    std::function<std::optional<std::string>(const std::string& name)>;

/// Alertmanager's three states; a pure function of the silence and now. A
/// maintenance window (a silence with a schedule) is pending between its
/// occurrences too.
enum class silence_state : uint8_t { pending, active, expired };

/// The `ends_at` of a silence that never ends (a maintenance window without
/// an end date): 2200-01-01T00:00:00Z, whole milliseconds (the stores'
/// unit) well within the nanosecond clock's range (to 2262).
inline constexpr time_point forever{std::chrono::milliseconds{7258118400000}};

std::string_view to_string(silence_state x);
std::optional<silence_state> parse_silence_state(std::string_view text);

struct silence {
  std::string id;
  std::vector<silence_matcher> matchers;
  /// Only alerts of this manager; empty: of every manager.
  std::string event_manager_id;
  time_point starts_at{};
  time_point ends_at{};
  std::string created_by;
  std::string comment;
  time_point updated_at{};
  /// A maintenance window: muting only during the schedule's occurrences
  /// (between `starts_at` and `ends_at`); empty: all the time.
  schedule recurrence;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, silence& x) {
  return f(caf::meta::type_name("argus.silence"), x.id, x.matchers,
           x.event_manager_id, x.starts_at, x.ends_at, x.created_by, x.comment,
           x.updated_at, x.recurrence);
}

/// The most matchers one silence may have.
inline constexpr size_t max_matchers = 64;

/// pending before `starts_at`, active until `ends_at`, expired from then on;
/// with a schedule, active only during an occurrence (pending between).
silence_state state_of(const silence& s, time_point now);

/// The next `n` occurrences of a maintenance window that start after `now`
/// and before its `ends_at` (none without a schedule).
std::vector<occurrence> next_occurrences(const silence& s, time_point now,
                                         size_t n);

/// Checks what a client asked for: at least one matcher, each with a
/// name, a regex that compiles (the message names the matcher),
/// `ends_at` after `starts_at`, a `created_by` and a `comment` (amtool sends
/// both), and a valid schedule if any (normalised, as `validate(schedule&)`).
caf::error validate(silence& s);

/// Whether `m` holds for the field's text (a missing field is "", as for
/// Alertmanager's absent labels).
bool matches(const silence_matcher& m, const std::string& text);

/// The text a matcher's name refers to for alert `a`: the alert fields
/// `severity`, `class`, `summary`, `dedupKey`, `event_manager_id` and
/// `grouping_value`; else `details` (which reads the alert's details by
/// top-level name, then dotted path); else, for a plain name, the label
/// `labels.<name>` (where Alertmanager alerts keep their labels). "" when
/// none has it.
std::string field_text(const alert& a, const std::string& name,
                       const details_reader& details);

/// Whether every matcher of `s` holds for `a` and `s` covers its
/// manager. The state is not looked at.
bool matches(const silence& s, const alert& a, const details_reader& details);

/// The silences of `all` in force at `now` that may cover manager
/// `manager_id` (those of no manager too; empty: of any manager): the only
/// ones that can match its alerts.
std::map<std::string, silence>
active_silences(const std::map<std::string, silence>& all,
                const std::string& manager_id, time_point now);

/// Whether a silence of `all` active at `now` matches `a` (the first that
/// does ends the search).
bool is_silenced(const std::map<std::string, silence>& all, const alert& a,
                 const details_reader& details, time_point now);

/// The ids of the silences in `all` active at `now` that match `a`, sorted.
std::vector<std::string> silenced_by(const std::map<std::string, silence>& all,
                                     const alert& a,
                                     const details_reader& details,
                                     time_point now);

/// When `s`, active at `now`, stops muting: its `ends_at`, or for a
/// maintenance window the end of the occurrence in force if that comes
/// first. `now` when it is not active.
time_point active_until(const silence& s, time_point now);

/// When none of the silences `ids` of `all` mutes any more (the latest of
/// their `active_until`): the earliest moment an alert they silence at
/// `now` can be unmuted by time alone. `now` when none of them is active.
time_point silenced_until(const std::map<std::string, silence>& all,
                          const std::vector<std::string>& ids, time_point now);

/// Ends `s` at `now` unless it already ended (DELETE, `amtool silence
/// expire`); a pending silence then ends before it starts, so it starts
/// then too.
void expire(silence& s, time_point now);

/// Whether Alertmanager would change silence `old` in place into `next`
/// (POST /api/v2/silences with the id of `old`): the same matchers, and
/// for an active one the same start and an end not in the past, for a
/// pending one a start not in the past; never an expired one. Otherwise
/// Alertmanager expires `old` (unless it already ended) and creates `next`
/// as a new silence with a new id.
bool can_update_in_place(const silence& old, const silence& next,
                         time_point now);

/// The matchers as text for the stores: per matcher its name, value and
/// operator (`=`, `!=`, `=~`, `!~`), as `encode_keys` lines.
std::string encode_matchers(const std::vector<silence_matcher>& matchers);

/// Reads `encode_matchers`'s text back; none when it is not such text.
std::optional<std::vector<silence_matcher>>
decode_matchers(std::string_view text);

} // namespace argus::domain
