#pragma once

#include "domain/alert.hpp"
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

/// Alertmanager's three states; a pure function of the silence and now.
enum class silence_state : uint8_t { pending, active, expired };

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
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, silence& x) {
  return f(caf::meta::type_name("argus.silence"), x.id, x.matchers,
           x.event_manager_id, x.starts_at, x.ends_at, x.created_by, x.comment,
           x.updated_at);
}

/// The most matchers one silence may have.
inline constexpr size_t max_matchers = 64;

/// pending before `starts_at`, active until `ends_at`, expired from then on.
silence_state state_of(const silence& s, time_point now);

/// Checks what a client asked for: at least one matcher, each with a
/// name, a regex that compiles (the message names the matcher),
/// `ends_at` after `starts_at`, a `created_by` and a `comment` (amtool sends
/// both).
caf::error validate(const silence& s);

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

/// The ids of the silences in `all` active at `now` that match `a`, sorted.
std::vector<std::string> silenced_by(const std::map<std::string, silence>& all,
                                     const alert& a,
                                     const details_reader& details,
                                     time_point now);

/// Ends `s` at `now` unless it already ended (DELETE, `amtool silence
/// expire`); a pending silence then ends before it starts, so it starts
/// then too.
void expire(silence& s, time_point now);

/// The matchers as text for the stores: per matcher its name, value and
/// operator (`=`, `!=`, `=~`, `!~`), as `encode_keys` lines.
std::string encode_matchers(const std::vector<silence_matcher>& matchers);

/// Reads `encode_matchers`'s text back; none when it is not such text.
std::optional<std::vector<silence_matcher>>
decode_matchers(std::string_view text);

} // namespace argus::domain
