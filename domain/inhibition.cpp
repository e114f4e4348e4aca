#include "domain/inhibition.hpp"

#include "domain/catalog.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <utility>

namespace argus::domain {

namespace {

bool all_match(const std::vector<silence_matcher>& ms,
               const inhibition_candidate& c) {
  return std::all_of(ms.begin(), ms.end(), [&](const silence_matcher& m) {
    return matches(m, field_text(*c.subject, m.name, c.details));
  });
}

/// Checks one side's matchers as a silence's, renaming the field in the
/// message (`matchers[i]` -> `<where>[i]`).
caf::error check_side(const std::vector<silence_matcher>& ms,
                      const std::string& where) {
  if (ms.empty())
    return make_error(ec::validation_failed,
                      "field '" + where + "' needs at least one matcher");
  silence probe;
  probe.matchers = ms;
  probe.starts_at = time_point{std::chrono::seconds{1}};
  probe.ends_at = time_point{std::chrono::seconds{2}};
  probe.created_by = "-";
  probe.comment = "-";
  auto err = validate(probe);
  if (!err)
    return {};
  auto text = message_of(err);
  if (auto at = text.find("'matchers"); at != std::string::npos)
    text.replace(at + 1, 8, where);
  return make_error(ec::validation_failed, text);
}

} // namespace

caf::error validate(const std::vector<inhibit_rule>& rules) {
  if (rules.size() > max_inhibit_rules)
    return make_error(ec::validation_failed,
                      "field 'inhibit_rules' has more than " +
                          std::to_string(max_inhibit_rules) + " rules");
  for (size_t i = 0; i < rules.size(); ++i) {
    auto where = "inhibit_rules[" + std::to_string(i) + "]";
    auto& r = rules[i];
    if (auto err = check_side(r.source_matchers, where + ".source_matchers"))
      return err;
    if (auto err = check_side(r.target_matchers, where + ".target_matchers"))
      return err;
    for (size_t j = 0; j < r.equal.size(); ++j)
      if (r.equal[j].empty())
        return make_error(ec::validation_failed, "field '" + where + ".equal[" +
                                                     std::to_string(j) +
                                                     "]' must not be empty");
  }
  return {};
}

bool is_target(const std::vector<inhibit_rule>& rules,
               const inhibition_candidate& target) {
  return std::any_of(rules.begin(), rules.end(), [&](const inhibit_rule& r) {
    return all_match(r.target_matchers, target);
  });
}

bool is_source(const std::vector<inhibit_rule>& rules,
               const inhibition_candidate& source) {
  return std::any_of(rules.begin(), rules.end(), [&](const inhibit_rule& r) {
    return all_match(r.source_matchers, source);
  });
}

column_filter source_filter(const std::vector<inhibit_rule>& rules) {
  column_filter filter;
  filter.restricted = true; // no rule: no source
  for (auto& rule : rules) {
    // One equality on a stored field, the likeliest to be rare first; a
    // rule without one lets any alert through, so nothing narrows. These
    // names are the ones `field_text` reads from the alert's own fields,
    // never from its details.
    const std::pair<const char*, std::vector<std::string>*> fields[] = {
        {"dedupKey", &filter.dedup_key},
        {"class", &filter.class_name},
        {"summary", &filter.summary},
        {"severity", &filter.severity}};
    std::vector<std::string>* values = nullptr;
    const silence_matcher* chosen = nullptr;
    for (auto& field : fields) {
      auto it = std::find_if(
          rule.source_matchers.begin(), rule.source_matchers.end(),
          [&](const silence_matcher& m) {
            return m.name == field.first && !m.is_regex && m.is_equal;
          });
      if (it != rule.source_matchers.end()) {
        values = field.second;
        chosen = &*it;
        break;
      }
    }
    if (!chosen)
      return column_filter{};
    values->push_back(chosen->value);
  }
  return filter;
}

bool inhibits(const inhibit_rule& rule, const inhibition_candidate& source,
              const inhibition_candidate& target) {
  auto& s = *source.subject;
  auto& t = *target.subject;
  if (s.event_manager_id == t.event_manager_id && s.dedup_key == t.dedup_key)
    return false; // an alert does not inhibit itself
  if (!all_match(rule.target_matchers, target) ||
      !all_match(rule.source_matchers, source))
    return false;
  for (auto& name : rule.equal)
    if (field_text(s, name, source.details) !=
        field_text(t, name, target.details))
      return false;
  if (all_match(rule.source_matchers, target) &&
      all_match(rule.target_matchers, source))
    return false;
  return true;
}

namespace {

/// The texts of `rule`'s `equal` fields for `c`, as one key.
std::string equal_key(const inhibit_rule& rule, const inhibition_candidate& c) {
  std::vector<std::string> texts;
  texts.reserve(rule.equal.size());
  for (auto& name : rule.equal)
    texts.push_back(field_text(*c.subject, name, c.details));
  return encode_keys(texts);
}

} // namespace

inhibition_index::inhibition_index(
    const std::vector<inhibit_rule>& rules,
    const std::vector<inhibition_candidate>& sources) {
  rules_.reserve(rules.size());
  for (auto& rule : rules) {
    rule_sources indexed{&rule, {}};
    for (auto& c : sources)
      if (all_match(rule.source_matchers, c))
        indexed.by_equal[equal_key(rule, c)].push_back(
            source{c, all_match(rule.target_matchers, c)});
    rules_.push_back(std::move(indexed));
  }
}

std::vector<std::string>
inhibition_index::inhibitors_of(const inhibition_candidate& target) const {
  auto& t = *target.subject;
  std::vector<std::string> keys;
  for (auto& [rule, by_equal] : rules_) {
    if (by_equal.empty() || !all_match(rule->target_matchers, target))
      continue;
    auto found = by_equal.find(equal_key(*rule, target));
    if (found == by_equal.end())
      continue;
    // `inhibits`' last test: a target that matches the source matchers is
    // not inhibited by sources that match the target matchers.
    bool target_matches_sources = all_match(rule->source_matchers, target);
    for (auto& [who, matches_targets] : found->second) {
      auto& s = *who.subject;
      if (s.event_manager_id != t.event_manager_id ||
          s.dedup_key == t.dedup_key ||
          (target_matches_sources && matches_targets))
        continue;
      keys.push_back(s.dedup_key.str());
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::string encode_inhibit_rules(const std::vector<inhibit_rule>& rules) {
  std::vector<std::string> lines;
  lines.reserve(rules.size());
  for (auto& r : rules) {
    lines.push_back(encode_keys({encode_matchers(r.source_matchers),
                                 encode_matchers(r.target_matchers),
                                 encode_keys(r.equal)}));
  }
  return encode_keys(lines);
}

std::optional<std::vector<inhibit_rule>>
decode_inhibit_rules(std::string_view text) {
  std::vector<inhibit_rule> out;
  for (auto& line : decode_keys(text)) {
    auto parts = decode_keys(line);
    // A rule with no `equal` fields encodes as two lines.
    if (parts.size() == 2)
      parts.emplace_back();
    if (parts.size() != 3)
      return std::nullopt;
    auto source = decode_matchers(parts[0]);
    auto target = decode_matchers(parts[1]);
    if (!source || !target)
      return std::nullopt;
    out.push_back(inhibit_rule{std::move(*source), std::move(*target),
                               decode_keys(parts[2])});
  }
  return out;
}

} // namespace argus::domain
