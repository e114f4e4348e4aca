#include "domain/parent_links.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>

using argus::domain::parent_link_map;

TEST_CASE("parent links hold no map until a parent has a child", "[unit]") {
  parent_link_map links;
  CHECK(links.empty());
  CHECK(links.size() == 0);
  CHECK(links.find("p") == links.end());
  CHECK_THROWS_AS(links.at("p"), std::out_of_range);
  links.erase("p"); // nothing to erase: no effect

  links["p"].active_children = 2;
  links["q"].resolved_children.insert("c1");
  CHECK_FALSE(links.empty());
  CHECK(links.size() == 2);
  REQUIRE(links.find("p") != links.end());
  CHECK(links.find("p")->second.active_children == 2);
  CHECK(links.at("q").resolved_children.count("c1") == 1);
  CHECK(links.find("r") == links.end());

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
    CHECK(links.find("q") == links.end());
  }
}
