#pragma once

// The events and groups the domain's lifecycle tests build: a trigger and a
// resolve of tenant "m1", group "db" unless told otherwise.

#include "domain/event.hpp"
#include "domain/grouping.hpp"

#include <chrono>
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
