#pragma once

// The events and groups the domain's lifecycle tests build: a trigger and a
// resolve of tenant "m1", group "db" unless told otherwise.

#include "domain/event.hpp"
#include "domain/grouping.hpp"

#include <chrono>
#include <set>
#include <string>

namespace argus::test {

inline domain::event trigger(const std::string& key,
                             const std::string& value = "db",
                             const std::string& manager = "m1") {
  using namespace std::chrono_literals;
  domain::event e;
  e.event_manager_id = manager;
  e.dedup_key = key;
  e.act = domain::action::trigger;
  e.summary = "summary of " + key;
  e.sev = domain::severity::high;
  e.class_name = "disk";
  e.details = R"({"host":"h1"})";
  e.has_grouping_value = true;
  e.grouping_value = value;
  e.window = 10min;
  return e;
}

inline domain::event resolve(const std::string& key,
                             const std::string& manager = "m1") {
  domain::event e;
  e.event_manager_id = manager;
  e.dedup_key = key;
  e.act = domain::action::resolve;
  return e;
}

/// What the grouping actor relies on to stage a write without looking the
/// alert up: after a decision, the last write of each alert is active
/// exactly when the group holds that very snapshot. (An earlier write of
/// the same alert may be stale: a parent asked to resolve, then resolved
/// when its last child ends in the same decision. The outbox keeps the
/// last.)
inline bool writes_match_group(const domain::group_state& g,
                               const domain::decision& d) {
  std::set<std::string> seen;
  for (auto w = d.writes.rbegin(); w != d.writes.rend(); ++w) {
    auto& a = *w->snapshot;
    if (!seen.insert(a.dedup_key.str()).second)
      continue; // a later write of it follows
    auto* held = g.active.find(a.dedup_key);
    bool holds = held != nullptr && held->get() == &a;
    if (holds != a.is_active())
      return false;
  }
  return true;
}

/// The empty group of (manager, value).
inline domain::group_state group_of(const std::string& value = "db",
                                    const std::string& manager = "m1") {
  domain::group_state g;
  g.event_manager_id = manager;
  g.has_value = true;
  g.grouping_value = value;
  return g;
}

} // namespace argus::test
