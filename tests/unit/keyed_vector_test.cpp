#include "domain/keyed_vector.hpp"

#include <catch2/catch.hpp>

#include <string>

using argus::domain::keyed_vector;
using argus::domain::shared_text;

namespace {

struct staged {
  shared_text key;
  int count = 0;
};
using staged_vector = keyed_vector<staged, &staged::key>;

} // namespace

TEST_CASE("a keyed vector appends in order and finds each entry again, past "
          "its index boundary too",
          "[unit]") {
  staged_vector v;
  CHECK(v.empty());
  CHECK(v.place_of("a") == 0);
  auto name = [](int i) { return "key-" + std::to_string(i); };
  const int many = static_cast<int>(staged_vector::unindexed) * 3;
  // Each key staged three times, as an outbox stages a burst's changes:
  // one entry per key, in the order keys first came.
  for (int round = 0; round < 3; ++round)
    for (int i = 0; i < many; ++i) {
      auto at = v.place_or_append(shared_text{name(i)});
      REQUIRE(at == static_cast<size_t>(i));
      v[at].count += 1;
    }
  REQUIRE(v.size() == static_cast<size_t>(many));
  for (int i = 0; i < many; ++i) {
    CHECK(v[static_cast<size_t>(i)].key == name(i));
    CHECK(v[static_cast<size_t>(i)].count == 3);
    CHECK(v.place_of(name(i)) == static_cast<size_t>(i));
  }
  CHECK(v.place_of("absent") == v.size());
  // A key given as a view gets a block of its own.
  std::string text = "from-a-view";
  auto at = v.place_or_append(std::string_view{text});
  text = "changed";
  CHECK(v[at].key == "from-a-view");
  CHECK(v.place_of("from-a-view") == at);
}

TEST_CASE("a keyed vector's erase moves the last entry into the hole and "
          "keeps every other entry found",
          "[unit]") {
  staged_vector v;
  auto name = [](int i) { return "key-" + std::to_string(i); };
  const int many = static_cast<int>(staged_vector::unindexed) + 3;
  for (int i = 0; i < many; ++i)
    v[v.place_or_append(shared_text{name(i)})].count = i;
  // From the front, across the boundary, down to none.
  for (int gone = 0; gone < many; ++gone) {
    v.erase_at(v.place_of(name(gone)));
    REQUIRE(v.size() == static_cast<size_t>(many - gone - 1));
    CHECK(v.place_of(name(gone)) == v.size());
    for (int i = gone + 1; i < many; ++i) {
      auto at = v.place_of(name(i));
      REQUIRE(at < v.size());
      CHECK(v[at].count == i);
    }
  }
  CHECK(v.empty());
}
