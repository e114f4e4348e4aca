#include "http/active_alerts.hpp"

#include "http/silence_json.hpp"

namespace argus::http {

active_alerts::active_alerts(std::vector<domain::inhibit_rule> rules,
                             std::vector<domain::alert> active)
    : rules_(std::move(rules)), alerts_(std::move(active)) {
  by_key_.reserve(alerts_.size());
  for (auto& a : alerts_) {
    if (!a.is_active())
      continue; // resolved since it was read as active: not a source
    by_key_.emplace(a.dedup_key.view(), &a);
    if (!a.parent_dedup_key.empty())
      ++children_[a.parent_dedup_key.view()];
  }
  if (rules_.empty())
    return;
  // A reader for each (details are parsed only when a matcher reads them);
  // the index keeps the sources' readers only.
  std::vector<domain::inhibition_candidate> candidates;
  candidates.reserve(by_key_.size());
  for (auto& [key, a] : by_key_)
    candidates.push_back({a, details_reader_of(*a)});
  index_.emplace(rules_, candidates);
}

bool active_alerts::may_be_inhibited(
    const std::vector<domain::inhibit_rule>& rules, const domain::alert& a) {
  return a.is_active() && !rules.empty() &&
         domain::is_target(rules, {&a, details_reader_of(a)});
}

bool active_alerts::may_inhibit(const std::vector<domain::inhibit_rule>& rules,
                                const domain::alert& a) {
  return !rules.empty() && domain::is_source(rules, {&a, details_reader_of(a)});
}

const domain::alert* active_alerts::find(std::string_view dedup_key) const {
  auto it = by_key_.find(dedup_key);
  return it == by_key_.end() ? nullptr : it->second;
}

int64_t
active_alerts::active_children(std::string_view parent_dedup_key) const {
  auto it = children_.find(parent_dedup_key);
  return it == children_.end() ? 0 : it->second;
}

std::vector<std::string>
active_alerts::inhibitors_of(const domain::alert& a) const {
  if (!index_ || !a.is_active())
    return {};
  return index_->inhibitors_of({&a, details_reader_of(a)});
}

} // namespace argus::http
