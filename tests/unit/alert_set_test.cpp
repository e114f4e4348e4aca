#include "domain/alert_set.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

using argus::domain::alert;
using argus::domain::alert_set;
using argus::domain::owned_alert;
using argus::domain::text_hash;

namespace {

owned_alert alert_with(const std::string& dedup_key, int64_t count = 0) {
  auto a = std::make_shared<alert>();
  a->dedup_key = dedup_key;
  a->event_count = count;
  return a;
}

std::map<std::string, int64_t> contents(const alert_set& s) {
  std::map<std::string, int64_t> out;
  for (auto& a : s)
    out[a->dedup_key.str()] = a->event_count;
  return out;
}

} // namespace

TEST_CASE("an alert set finds, counts and erases alerts by dedupKey",
          "[unit]") {
  alert_set s;
  CHECK(s.empty());
  CHECK(s.find("a") == nullptr);
  CHECK_FALSE(s.erase("a"));
  CHECK(s.begin() == s.end());
  REQUIRE(s.insert(alert_with("a", 1)));
  REQUIRE(s.insert(alert_with("a-long-dedup-key-on-the-heap", 2)));
  CHECK(s.size() == 2);
  CHECK(s.count("a") == 1);
  CHECK(s.count("b") == 0);
  CHECK(s.at("a-long-dedup-key-on-the-heap")->event_count == 2);
  CHECK_THROWS_AS(s.at("b"), std::out_of_range);
  // A second alert with a key in the set is refused and left to the caller.
  auto again = alert_with("a", 3);
  CHECK_FALSE(s.insert(std::move(again)));
  CHECK(again != nullptr);
  CHECK(s.at("a")->event_count == 1);
  // The set holds the pointer: replacing it (copy-on-write) keeps the key.
  *s.find("a") = alert_with("a", 4);
  CHECK(s.at("a")->event_count == 4);
  CHECK(contents(s) == std::map<std::string, int64_t>{
                           {"a", 4}, {"a-long-dedup-key-on-the-heap", 2}});
  CHECK(s.erase("a"));
  CHECK(s.size() == 1);
  CHECK(s.find("a") == nullptr);
  s.clear();
  CHECK(s.empty());
  CHECK(s.begin() == s.end());
}

TEST_CASE("an alert set erases by the alert's own key, even as it lets go of "
          "the last reference",
          "[unit]") {
  alert_set s;
  for (int i = 0; i < 20; ++i)
    s.insert(alert_with("k" + std::to_string(i)));
  for (int i = 0; i < 20; i += 2) {
    auto* a = s.find("k" + std::to_string(i));
    REQUIRE(a != nullptr);
    REQUIRE(a->use_count() == 1);
    CHECK(s.erase((*a)->dedup_key)); // the key dies with the alert
  }
  std::set<std::string> left;
  for (auto& a : s)
    left.insert(a->dedup_key.str());
  CHECK(left.size() == 10);
  for (int i = 1; i < 20; i += 2)
    CHECK(s.count("k" + std::to_string(i)) == 1);
}

TEST_CASE("an alert set agrees with a std::map through random inserts and "
          "erases",
          "[unit]") {
  // A small key space keeps the table small and crowded: probe runs that
  // collide, wrap around the end and close up after erases.
  for (unsigned seed : {1u, 2u, 3u}) {
    alert_set s;
    std::map<std::string, int64_t> ref;
    std::mt19937 rng{seed};
    for (int step = 0; step < 20000; ++step) {
      auto key = "key-" + std::to_string(rng() % 48);
      auto count = static_cast<int64_t>(step);
      switch (rng() % 3) {
      case 0:
      case 1: {
        bool added = ref.emplace(key, count).second;
        // Half with the hash an event carries, half hashing the key.
        bool inserted = step % 2 == 0
                            ? s.insert(alert_with(key, count), text_hash(key))
                            : s.insert(alert_with(key, count));
        REQUIRE(inserted == added);
        break;
      }
      default:
        REQUIRE(s.erase(key) == (ref.erase(key) == 1));
      }
      REQUIRE(s.size() == ref.size());
      auto* found = s.find(key);
      REQUIRE(s.find(key, text_hash(key)) == found); // as events look up
      REQUIRE((found != nullptr) == (ref.count(key) == 1));
      if (found != nullptr)
        REQUIRE((*found)->event_count == ref.at(key));
    }
    CHECK(contents(s) == ref);
  }
}
