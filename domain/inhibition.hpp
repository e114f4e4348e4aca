#pragma once

#include "domain/alert.hpp"
#include "domain/silence.hpp"
#include "domain/text_hash.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

/// Inhibition (Alertmanager's inhibit_rules, per event manager): while an
/// active alert matches a rule's source matchers, the manager's alerts that
/// match its target matchers and have the same text in every `equal` field
/// do not notify. Matchers and field names are the silences' (alert fields,
/// details, labels).
namespace argus::domain {

struct inhibit_rule {
  std::vector<silence_matcher> source_matchers;
  std::vector<silence_matcher> target_matchers;
  /// Fields whose text must be the same in source and target (a field both
  /// lack counts as equal, as Alertmanager's missing labels).
  std::vector<std::string> equal;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inhibit_rule& x) {
  return f(caf::meta::type_name("argus.inhibit_rule"), x.source_matchers,
           x.target_matchers, x.equal);
}

/// The most inhibit rules of one manager.
inline constexpr size_t max_inhibit_rules = 64;

/// Checks the rules of a manager: each with source and target matchers
/// (names set, regexes that compile), at most `max_matchers` each, and
/// non-empty `equal` names. Messages name the field, e.g.
/// `inhibit_rules[0].target_matchers[1].value`.
caf::error validate(const std::vector<inhibit_rule>& rules);

/// An alert with the reader of its details (for label and details matchers).
struct inhibition_candidate {
  const alert* subject = nullptr;
  details_reader details;
};

/// Whether `source` inhibits `target` under `rule`: the target matches the
/// target matchers, the source the source matchers, the `equal` fields
/// agree, and the source is not the target itself. When the target also
/// matches the source matchers, sources that also match the target
/// matchers do not count (Alertmanager: an alert matching both sides is not
/// inhibited by its peers, so two of them do not mute each other).
bool inhibits(const inhibit_rule& rule, const inhibition_candidate& source,
              const inhibition_candidate& target);

/// Whether `target` matches the target matchers of any of `rules`. Only
/// such an alert can be inhibited, so for any other the sources need not
/// be read at all.
bool is_target(const std::vector<inhibit_rule>& rules,
               const inhibition_candidate& target);

/// Whether `source` matches the source matchers of any of `rules`: only
/// such an alert can hold others back, so only its resolution can release
/// them.
bool is_source(const std::vector<inhibit_rule>& rules,
               const inhibition_candidate& source);

/// What every source of `rules` has in its own stored fields: for each
/// rule, the value one of its source matchers requires of `dedupKey`,
/// `class`, `summary` or `severity` (equality, not a regex). An alert the
/// filter does not admit is no rule's source; a rule without such a matcher
/// makes the filter unrestricted. It narrows the read of the sources in the
/// store's query; `is_source` still decides.
column_filter source_filter(const std::vector<inhibit_rule>& rules);

/// A manager's inhibition sources, indexed: for each rule, the candidates
/// that match its source matchers, by the texts of their `equal` fields.
/// Built once from the manager's active alerts, it answers each target
/// with its rules and the sources that share its `equal` texts, not a pass
/// over every active alert: in a storm every new group is a target, and a
/// pass each made the checks quadratic. `rules` and the candidates'
/// alerts must outlive the index.
class inhibition_index {
public:
  inhibition_index(const std::vector<inhibit_rule>& rules,
                   const std::vector<inhibition_candidate>& sources);

  /// The dedupKeys of the indexed sources that inhibit `target` (`inhibits`
  /// under any rule), sorted, without repeats. Sources of another manager
  /// never count.
  std::vector<std::string>
  inhibitors_of(const inhibition_candidate& target) const;

private:
  struct source {
    inhibition_candidate who;
    /// It matches the rule's target matchers too (see `inhibits`).
    bool matches_targets = false;
  };
  struct rule_sources {
    const inhibit_rule* rule = nullptr;
    /// By `encode_keys` of the `equal` fields' texts.
    std::unordered_map<std::string, std::vector<source>, text_hasher> by_equal;
  };
  std::vector<rule_sources> rules_;
};

/// The rules as text for the stores (`encode_keys` lines); "" for none.
std::string encode_inhibit_rules(const std::vector<inhibit_rule>& rules);

/// Reads `encode_inhibit_rules`'s text back; none when it is not such text.
std::optional<std::vector<inhibit_rule>>
decode_inhibit_rules(std::string_view text);

} // namespace argus::domain
