// The router's dedupKey index (issue 15): a flat map of dedupKeys per event
// manager must behave as one map keyed by (manager, dedupKey).

#include "domain/alert_key_map.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <string>
#include <utility>

using argus::domain::alert_key;
using argus::domain::alert_key_map;
using argus::domain::text_hash;

TEST_CASE("alert_key_map: agrees with a map keyed by (manager, dedupKey)",
          "[unit]") {
  alert_key_map<int> m;
  std::map<std::pair<std::string, std::string>, int> ref;
  std::mt19937 rng{7};
  // UUID-long manager ids and loadgen-long dedupKeys; managers alternate in
  // runs, as batches of one sender arrive.
  const std::string managers[] = {"9b2f6c1e-0000-4000-8000-000000000001",
                                  "9b2f6c1e-0000-4000-8000-000000000002",
                                  "bench"};
  for (size_t step = 0; step < 40000; ++step) {
    const auto& manager = managers[(step / 50 + rng() % 2) % 3];
    auto dedup = "k100000000000" + std::to_string(rng() % 500);
    switch (rng() % 5) {
    case 0:
    case 1: {
      // Half the inserts pass the dedupKey's hash, as the router does.
      auto [e, added] = step % 2 == 0
                            ? m.try_emplace(manager, dedup)
                            : m.try_emplace(manager, dedup, text_hash(dedup));
      auto [r, ref_added] = ref.try_emplace({manager, dedup}, 0);
      REQUIRE(added == ref_added);
      REQUIRE(e->key == dedup);
      e->value += 1;
      r->second += 1;
      break;
    }
    case 2: {
      auto* e = m.find(manager, dedup);
      REQUIRE(m.find(manager, dedup, text_hash(dedup)) == e);
      auto r = ref.find({manager, dedup});
      REQUIRE((e != nullptr) == (r != ref.end()));
      if (e != nullptr) {
        REQUIRE(e->value == r->second);
        m.erase(manager, e);
        ref.erase(r);
      }
      break;
    }
    case 3:
      REQUIRE(m.erase(alert_key{manager, dedup}) ==
              (ref.erase({manager, dedup}) == 1));
      break;
    default: {
      auto* e = m.find(alert_key{manager, dedup});
      auto r = ref.find({manager, dedup});
      REQUIRE((e != nullptr) == (r != ref.end()));
      if (e != nullptr)
        REQUIRE(e->value == r->second);
    }
    }
    REQUIRE(m.size() == ref.size());
  }
  // One manager's dedupKey is not another's.
  m[alert_key{"bench", "shared"}] = 1;
  CHECK(m.find("9b2f6c1e-0000-4000-8000-000000000001", "shared") == nullptr);
  CHECK(m.find("no such manager", "shared") == nullptr);

  SECTION("erase_if reaches every manager's entries") {
    m.erase_if([](auto& e) { return e.value % 2 == 1; });
    size_t left = 0;
    for (auto& [key, value] : ref)
      if (value % 2 == 0) {
        ++left;
        REQUIRE(m.find(key.first, key.second) != nullptr);
      } else {
        REQUIRE(m.find(key.first, key.second) == nullptr);
      }
    CHECK(m.find("bench", "shared") == nullptr);
    CHECK(m.size() == left);
  }
}

TEST_CASE("alert_key_map: a key added from a shared text shares its block",
          "[unit]") {
  alert_key_map<int> m;
  argus::domain::shared_text alerts_key{"k1000000000000001"};
  auto [e, added] = m.try_emplace("bench", alerts_key);
  REQUIRE(added);
  CHECK(e->key.shares_with(alerts_key));
  // Added from any other text, the key is a block of its own.
  auto [other, other_added] = m.try_emplace("bench", std::string{"k2"});
  REQUIRE(other_added);
  CHECK(other->key == "k2");
  // Found by any text of the same characters, which it does not copy.
  CHECK(m.find("bench", std::string_view{"k1000000000000001"}) == e);
  CHECK(m.find("bench", std::string{"k1000000000000001"}) == e);
  // Found again from a shared text: not added twice, the block kept.
  argus::domain::shared_text same{"k1000000000000001"};
  auto [again, added_again] = m.try_emplace("bench", same);
  CHECK_FALSE(added_again);
  CHECK(again == e);
  CHECK(again->key.shares_with(alerts_key));
  CHECK(m.size() == 2);
}
