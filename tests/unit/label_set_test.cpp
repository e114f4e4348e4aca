#include "domain/label_set.hpp"
#include "domain/labels.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using argus::domain::duplicate_names;
using argus::domain::fingerprint;
using argus::domain::label_set;

namespace {

std::vector<std::string> names_of(const label_set& set) {
  std::vector<std::string> out;
  for (auto& [name, value] : set)
    out.push_back(name);
  return out;
}

} // namespace

TEST_CASE("a label set keeps its names sorted, whatever order they come in",
          "[unit]") {
  label_set sorted_in;
  for (auto name : {"alertname", "class", "instance", "severity"})
    CHECK(sorted_in.emplace(name, std::string{"v-"} + name).second);
  label_set shuffled_in;
  for (auto name : {"severity", "alertname", "instance", "class"})
    CHECK(shuffled_in.emplace(name, std::string{"v-"} + name).second);
  std::vector<std::string> sorted{"alertname", "class", "instance", "severity"};
  CHECK(names_of(sorted_in) == sorted);
  CHECK(names_of(shuffled_in) == sorted);
  CHECK(sorted_in == shuffled_in);
  // The fingerprint hashes in name order, so it does not see the order.
  CHECK(fingerprint(sorted_in) == fingerprint(shuffled_in));
  CHECK(sorted_in.size() == 4);
}

TEST_CASE("a label set finds each name and only those", "[unit]") {
  label_set set{{"b", "2"}, {"d", "4"}, {"a", "1"}, {"c", "3"}};
  for (auto [name, value] :
       {std::pair{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}}) {
    auto it = set.find(name);
    REQUIRE(it != set.end());
    CHECK(it->first == name);
    CHECK(it->second == value);
  }
  // Before the first, between two, after the last, and prefixes.
  for (auto absent : {"", "0", "aa", "bb", "e", "z", "d\xff"})
    CHECK(set.find(absent) == set.end());
  CHECK(label_set{}.find("a") == label_set{}.end());
}

TEST_CASE("a label set keeps a name's first value, as std::map", "[unit]") {
  label_set set{{"a", "first"}, {"b", "x"}, {"a", "second"}};
  CHECK(set.size() == 2);
  CHECK(set.find("a")->second == "first");
  auto [it, added] = set.emplace("b", "y");
  CHECK(!added);
  CHECK(it->second == "x");
  set.insert({{"c", "3"}, {"b", "z"}});
  CHECK(set == label_set{{"a", "first"}, {"b", "x"}, {"c", "3"}});
  CHECK(set != label_set{{"a", "first"}, {"b", "y"}, {"c", "3"}});
}

TEST_CASE("a label set's operator[] adds an empty value or reaches the one "
          "there",
          "[unit]") {
  label_set set{{"m", "middle"}};
  set["m"] += "!";
  CHECK(set.find("m")->second == "middle!");
  CHECK(set["a"].empty());
  set["z"] = "last";
  CHECK(set == label_set{{"a", ""}, {"m", "middle!"}, {"z", "last"}});
}

TEST_CASE("a label set drops the labels a predicate picks, keeping the order",
          "[unit]") {
  label_set set{{"a", ""}, {"b", "2"}, {"c", ""}, {"d", "4"}};
  set.erase_if([](auto& label) { return label.second.empty(); });
  CHECK(set == label_set{{"b", "2"}, {"d", "4"}});
  set.clear();
  CHECK(set.empty());
}

TEST_CASE("a label set built from labels in any order sorts them once",
          "[unit]") {
  using labels = std::vector<label_set::value_type>;
  labels given{{"b", "1"}, {"a", "2"}, {"b", "3"}, {"c", "4"}, {"b", "5"}};
  CHECK(*label_set::from(given, duplicate_names::keep_first) ==
        label_set{{"a", "2"}, {"b", "1"}, {"c", "4"}});
  CHECK(*label_set::from(given, duplicate_names::keep_last) ==
        label_set{{"a", "2"}, {"b", "5"}, {"c", "4"}});
  CHECK(!label_set::from(given, duplicate_names::refuse));
  CHECK(*label_set::from({{"b", "1"}, {"a", "2"}}, duplicate_names::refuse) ==
        label_set{{"a", "2"}, {"b", "1"}});
  CHECK(label_set::from({}, duplicate_names::refuse)->empty());
  // Sorted already, with the last two alike: the last kept.
  CHECK(*label_set::from({{"a", "1"}, {"b", "2"}, {"b", "3"}},
                         duplicate_names::keep_last) ==
        label_set{{"a", "1"}, {"b", "3"}});

  // Many names in reverse order, each given twice: one at a time, each
  // insert would move every name after it.
  labels many;
  for (int i = 100000; i > 0; --i) {
    many.emplace_back("k" + std::to_string(i), "first");
    many.emplace_back("k" + std::to_string(i), "last");
  }
  auto set = label_set::from(many, duplicate_names::keep_last);
  REQUIRE(set);
  CHECK(set->size() == 100000);
  CHECK(std::is_sorted(set->begin(), set->end()));
  CHECK(std::all_of(set->begin(), set->end(),
                    [](auto& label) { return label.second == "last"; }));
}
