// A group's key and its view (issue 15): the router looks groups up by
// views of an event's texts, in a map keyed by views of each group's own
// key, so both forms must hash and compare alike.

#include "domain/keys.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <unordered_map>

using argus::domain::group_key;
using argus::domain::group_key_hash;
using argus::domain::group_key_ref;

TEST_CASE("group_key_ref: hashes and compares as the key it views", "[unit]") {
  group_key_hash hash;
  const group_key keys[] = {
      {"m1", true, "db"},
      {"m1", true, ""},
      {"m1", false, ""},
      {"9b2f6c1e-0000-4000-8000-000000000001", true, "g0000000000000042"},
  };
  for (auto& a : keys) {
    group_key_ref ref{a};
    CHECK(hash(ref) == hash(a));
    // It views the key's own texts, copying none.
    CHECK((group_key{std::string{ref.event_manager_id}, ref.has_value,
                     std::string{ref.value}} == a));
    for (auto& b : keys) {
      CHECK((ref == group_key_ref{b}) == (a == b));
      CHECK((hash(ref) == hash(b)) == (a == b));
    }
  }
}

TEST_CASE("group_key_ref: a value-less key ignores the value it was given",
          "[unit]") {
  std::string manager = "m1";
  std::string value = "left over";
  // As an event without the grouping field leaves its grouping value.
  group_key_ref from_event{manager, false, value};
  CHECK(from_event == group_key_ref{group_key{"m1", false, ""}});
  CHECK(from_event.value.empty());
  // The empty value is a value: its group is not the value-less one.
  CHECK(group_key_ref{manager, true, ""} != from_event);
}

TEST_CASE("group_key_ref: a map keyed by views of its values' own keys",
          "[unit]") {
  // The router's layout: the key views texts its mapped value owns.
  struct entry {
    group_key key;
  };
  std::unordered_map<group_key_ref, std::unique_ptr<entry>> groups;
  for (int i = 0; i < 1000; ++i) {
    auto e = std::make_unique<entry>();
    e->key = {"m" + std::to_string(i % 3), true,
              "grouping value " + std::to_string(i)};
    group_key_ref own{e->key};
    REQUIRE(groups.emplace(own, std::move(e)).second);
  }
  // Rehashing moved nodes, not texts: every lookup by a copy still lands.
  for (int i = 0; i < 1000; ++i) {
    std::string manager = "m" + std::to_string(i % 3);
    std::string value = "grouping value " + std::to_string(i);
    auto it = groups.find(group_key_ref{manager, true, value});
    REQUIRE(it != groups.end());
    CHECK(it->second->key.value == value);
    CHECK(it->first.value.data() == it->second->key.value.view().data());
  }
  CHECK(groups.count(group_key_ref{"m0", false, "grouping value 0"}) == 0);
}
