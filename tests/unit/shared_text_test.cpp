// Texts a group's alerts share instead of copying (issue 15): shared_text's
// own rules, and that the alerts of one group hold one block per text (the
// event manager, grouping value, class, parent's dedupKey), also once
// restored from the store or received over the wire as values.

#include "domain/grouping.hpp"
#include "domain/shared_text.hpp"
#include "support/grouping_events.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::domain::alert;
using argus::domain::decision;
using argus::domain::from_millis;
using argus::domain::shared_text;
using argus::domain::time_point;

const time_point t0 = from_millis(1'700'000'000'000);

/// Group "g0000000000000001" of manager "m1", as loadgen names groups: a
/// value longer than std::string keeps inline.
const std::string long_value = "g0000000000000001";

} // namespace

TEST_CASE("shared_text: an empty text holds no block", "[unit]") {
  shared_text none;
  shared_text from_empty{std::string{}};
  CHECK(none.empty());
  CHECK(from_empty.empty());
  CHECK(none.shares_with(from_empty)); // both hold nothing
  CHECK(none == "");
  CHECK(none.size() == 0);
  CHECK(std::string_view{none}.empty());
  CHECK(none.str().empty());
  REQUIRE(none.view().data() != nullptr); // C APIs read a null text as NULL
  CHECK(*none.view().data() == '\0');
  none.prefetch(); // a hint with nothing to load: changes nothing
  CHECK(none.empty());
}

TEST_CASE("shared_text: keeps any text whole, in one block after a pointer",
          "[unit]") {
  STATIC_REQUIRE(sizeof(shared_text) == sizeof(void*));
  std::string with_nul{"a\0b", 3};
  std::string long_text(100000, 'x');
  long_text.back() = 'y';
  for (const std::string& text :
       {std::string{"x"}, long_value, with_nul, long_text}) {
    shared_text t{text};
    CHECK(t.size() == text.size());
    CHECK(t.view() == text);
    CHECK(t.str() == text);
    shared_text copy = t;
    t.clear(); // the copy keeps the block alive
    CHECK(copy == text);
  }
}

TEST_CASE("shared_text: copies share one block and assigning replaces it",
          "[unit]") {
  shared_text a{long_value};
  shared_text b = a;
  CHECK(b.shares_with(a));
  CHECK(b == long_value);
  shared_text c{long_value};
  CHECK_FALSE(c.shares_with(a)); // equal text, its own block
  CHECK(c == a);
  b = "other";
  CHECK(b == "other");
  CHECK(a == long_value); // the block a holds never changes
  shared_text moved = std::move(a);
  CHECK(moved == long_value);
  CHECK(moved.shares_with(c) == false);
  b.clear();
  CHECK(b.empty());
}

TEST_CASE("shared_text: compares, orders and joins like a string", "[unit]") {
  shared_text x{"beta"};
  std::string alpha = "alpha";
  std::string_view view = "beta";
  CHECK(x == "beta");
  CHECK("beta" == x);
  CHECK(x == std::string{"beta"});
  CHECK(x == view);
  CHECK(x != alpha);
  CHECK(alpha != x);
  CHECK(shared_text{alpha} < x);
  CHECK("[" + x + "]" == std::string{"[beta]"});
  std::string as_string = x.str(); // a copy, only when asked
  CHECK(as_string == "beta");
  std::string_view as_view = x;
  CHECK(as_view == "beta");
  std::unordered_set<shared_text> set{x, shared_text{"beta"}};
  CHECK(set.size() == 1);
}

TEST_CASE("shared_text: JSON and CAF's inspectors see the text", "[unit]") {
  alert a;
  a.dedup_key = "k1";
  a.event_manager_id = "m1";
  a.class_name = "disk";
  a.grouping_value = long_value;
  a.parent_dedup_key = "p1";
  nlohmann::json j = {{"class", a.class_name}, {"value", a.grouping_value}};
  CHECK(j.dump() == R"({"class":"disk","value":"g0000000000000001"})");
  shared_text back = j.at("value").get<shared_text>();
  CHECK(back == long_value);
  CHECK(caf::deep_to_string(a.grouping_value) ==
        caf::deep_to_string(long_value));

  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(a));
  alert received;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(received));
  CHECK(received.event_manager_id == "m1");
  CHECK(received.class_name == "disk");
  CHECK(received.grouping_value == long_value);
  CHECK(received.parent_dedup_key == "p1");
  CHECK(received.acknowledged_by.empty());
}

TEST_CASE("shared_text: a group's alerts share its texts", "[unit]") {
  auto g = argus::test::group_of(long_value);
  decision d;
  auto event_for = [&](const std::string& key) {
    auto e = argus::test::trigger(key, long_value);
    e.class_name = long_value; // a rule grouping by class, as loadgen's
    return e;
  };
  argus::domain::apply(g, event_for("p"), true, t0, d);
  argus::domain::apply(g, event_for("c1"), true, t0 + 1s, d);
  auto moved = event_for("c2");
  argus::domain::apply_taking_texts(g, moved, true, t0 + 2s, d);
  auto& parent = *g.active.at("p");
  auto& c1 = *g.active.at("c1");
  auto& c2 = *g.active.at("c2");
  for (auto* a : {&parent, &c1, &c2}) {
    CHECK(a->event_manager_id.shares_with(g.event_manager_id));
    CHECK(a->grouping_value.shares_with(g.grouping_value));
    CHECK(a->class_name.shares_with(g.grouping_value));
  }
  CHECK(c1.parent_dedup_key == "p");
  CHECK(c1.parent_dedup_key.shares_with(c2.parent_dedup_key));
  CHECK(parent.parent_dedup_key.empty());

  SECTION("a class other than the grouping value is shared by the next") {
    auto e = event_for("c3");
    e.class_name = "disk";
    argus::domain::apply(g, e, true, t0 + 3s, d);
    e = event_for("c4");
    e.class_name = "disk";
    argus::domain::apply(g, e, true, t0 + 4s, d);
    auto& c3 = *g.active.at("c3");
    auto& c4 = *g.active.at("c4");
    CHECK(c3.class_name == "disk");
    CHECK(c4.class_name.shares_with(c3.class_name));
    SECTION("and a re-trigger with another class changes only its own") {
      e = event_for("c3");
      e.class_name = "cpu";
      argus::domain::apply(g, e, false, t0 + 5s, d);
      CHECK(g.active.at("c3")->class_name == "cpu");
      CHECK(g.active.at("c4")->class_name == "disk");
      CHECK(c4.class_name.shares_with(g.active.at("c4")->class_name));
    }
  }

  SECTION("restored alerts share the group's texts again") {
    // As loaded from a store: every text its own copy.
    std::vector<alert> stored;
    for (auto* a : {&parent, &c1, &c2}) {
      alert copy = *a;
      copy.event_manager_id = std::string{a->event_manager_id};
      copy.grouping_value = std::string{a->grouping_value};
      copy.class_name = std::string{a->class_name};
      copy.parent_dedup_key = std::string{a->parent_dedup_key};
      stored.push_back(copy);
    }
    REQUIRE_FALSE(
        stored[1].parent_dedup_key.shares_with(stored[2].parent_dedup_key));
    auto restored =
        argus::domain::restore_group("m1", true, long_value, stored);
    REQUIRE(restored.active.size() == 3);
    for (auto& a : restored.active) {
      CHECK(a->event_manager_id.shares_with(restored.event_manager_id));
      CHECK(a->grouping_value.shares_with(restored.grouping_value));
      CHECK(a->class_name.shares_with(restored.grouping_value));
    }
    auto& r1 = *restored.active.at("c1");
    auto& r2 = *restored.active.at("c2");
    CHECK(r1.parent_dedup_key == "p");
    CHECK(r1.parent_dedup_key.shares_with(r2.parent_dedup_key));
    CHECK(restored.open_parent == "p");
    // A child joining after the restore names its parent alike.
    argus::domain::apply(restored, event_for("c5"), true, t0 + 4s, d);
    CHECK(restored.active.at("c5")->parent_dedup_key == "p");
  }
}
