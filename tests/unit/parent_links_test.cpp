#include "domain/parent_links.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

using argus::domain::parent_link_map;
using argus::domain::shared_text;

TEST_CASE("parent links hold no map until a parent has a child", "[unit]") {
  parent_link_map links;
  CHECK(links.empty());
  CHECK(links.size() == 0);
  CHECK(links.find("p") == nullptr);
  CHECK_THROWS_AS(links.at("p"), std::out_of_range);
  links.erase("p"); // nothing to erase: no effect

  links["p"].active_children = 2;
  links["q"].resolved_children.insert("c1");
  CHECK_FALSE(links.empty());
  CHECK(links.size() == 2);
  REQUIRE(links.find("p") != nullptr);
  CHECK(links.find("p")->active_children == 2);
  CHECK(links.at("q").resolved_children.count("c1") == 1);
  CHECK(links.find("r") == nullptr);

  SECTION("a copy is its own") {
    parent_link_map copy = links;
    copy["p"].active_children = 5;
    copy.erase("q");
    CHECK(links.at("p").active_children == 2);
    CHECK(links.size() == 2);
    CHECK(copy.size() == 1);
    links = copy;
    CHECK(links.at("p").active_children == 5);
    CHECK(links.size() == 1);
  }

  SECTION("the last erase lets the map go") {
    links.erase("p");
    CHECK(links.size() == 1);
    links.erase("q");
    CHECK(links.empty());
    CHECK(links.find("q") == nullptr);
  }
}

TEST_CASE("parent links past a few parents are indexed, and erase keeps "
          "every other parent's links",
          "[unit]") {
  parent_link_map links;
  auto name = [](int i) { return "parent-" + std::to_string(i); };
  // Past `unindexed` the index is made; erasing back below drops it. Each
  // parent's links must stay its own through both.
  const int many = static_cast<int>(parent_link_map::unindexed) + 4;
  for (int i = 0; i < many; ++i)
    links[shared_text{name(i)}].active_children = i;
  CHECK(links.size() == static_cast<size_t>(many));
  for (int i = 0; i < many; ++i) {
    REQUIRE(links.find(name(i)) != nullptr);
    CHECK(links.find(name(i))->active_children == i);
    CHECK(links.find(name(i))->parent == name(i));
  }
  CHECK(links.find("parent-x") == nullptr);
  // Erase from the front, the middle and the back, across the boundary.
  std::vector<int> gone{0, many / 2, many - 1, 1, 2, 3, 4};
  for (int g : gone)
    links.erase(name(g));
  links.erase("parent-x"); // none: no effect
  CHECK(links.size() == static_cast<size_t>(many) - gone.size());
  for (int i = 0; i < many; ++i) {
    bool erased = std::find(gone.begin(), gone.end(), i) != gone.end();
    INFO(name(i));
    if (erased) {
      CHECK(links.find(name(i)) == nullptr);
    } else {
      REQUIRE(links.find(name(i)) != nullptr);
      CHECK(links.at(name(i)).active_children == i);
    }
  }
  // Growing past the boundary again indexes what is left.
  for (int i = many; i < many + 8; ++i)
    links[shared_text{name(i)}].active_children = i;
  for (int i = 5; i < many + 8; ++i)
    if (i != many / 2 && i != many - 1)
      CHECK(links.at(name(i)).active_children == i);
  // A copy of an indexed map finds its own entries.
  parent_link_map copy = links;
  copy[shared_text{name(5)}].active_children = -1;
  CHECK(links.at(name(5)).active_children == 5);
  CHECK(copy.at(name(5)).active_children == -1);
  CHECK(copy.size() == links.size());
}
