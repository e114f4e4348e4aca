#pragma once

#include "domain/label_set.hpp"

#include <caf/expected.hpp>

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

/// Prometheus label sets as Alertmanager's API speaks them: the fingerprint
/// that names an alert, and the matchers that select alerts (`amtool alert
/// query alertname=X`, `?filter=` of `GET /api/v2/alerts`).
namespace argus::domain {

/// The fingerprint of a label set: FNV-1a 64 over `name 0xff value 0xff` of
/// every label, sorted by name, as 16 lowercase hex digits. It is the
/// fingerprint Prometheus and Alertmanager compute (prometheus/common
/// `LabelSet.Fingerprint`), so `amtool` and Argus name an alert alike, and
/// it is the same on every node and across restarts. 0xff cannot occur in
/// UTF-8, so no two label sets share the hashed bytes.
std::string fingerprint(const label_set& labels);

/// Whether `name` is a valid Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
bool valid_label_name(std::string_view name);

/// How a matcher compares a label's value.
enum class match_type { equal, not_equal, regex, not_regex };

/// One label matcher: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.
struct matcher {
  std::string name;
  std::string value;
  match_type type = match_type::equal;
  /// The compiled, anchored expression of a regex matcher (shared: matchers
  /// are copied into filters).
  std::shared_ptr<const std::regex> re;

  /// Whether a label with value `v` (empty when absent) matches.
  bool matches(const std::string& v) const;
};

/// Parses one matcher as Alertmanager does (`pkg/labels.ParseMatcher`): a
/// label name, an operator and a value that may be double-quoted, with `\"`,
/// `\\` and `\n` escapes. Regexes are anchored (`^(?:re)$`), as in
/// Alertmanager; they use ECMAScript syntax, which agrees with Go's RE2 on
/// the common forms (classes, alternation, repetition) but has no inline
/// flags such as `(?i)`.
caf::expected<matcher> parse_matcher(std::string_view text);

/// Parses a comma-separated list of matchers, optionally wrapped in `{...}`
/// (`{a="b", c=~"d"}` or `a=b,c=~d`); commas inside quotes do not split.
caf::expected<std::vector<matcher>> parse_matchers(std::string_view text);

/// Whether `labels` pass every matcher, with the API's rule for empty
/// values: `a=""` (or `a=~""`) also holds when `a` is absent, and `a!=""`
/// (or `a!~""`) holds when `a` is present.
bool matches_all(const std::vector<matcher>& matchers, const label_set& labels);

} // namespace argus::domain
