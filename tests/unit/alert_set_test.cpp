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

TEST_CASE("an alert set holds two alerts in two slots and still ends every "
          "probe",
          "[unit]") {
  // Two slots and two alerts leave no empty slot to end a probe: a miss,
  // an erase and a third insert must each stop anyway. Many key pairs, so
  // both share a home slot in some and not in others.
  for (int pair = 0; pair < 64; ++pair) {
    auto first = "p" + std::to_string(pair);
    auto second = "c" + std::to_string(pair);
    for (bool erase_first : {true, false}) {
      alert_set s;
      REQUIRE(s.insert(alert_with(first, 1)));
      REQUIRE(s.insert(alert_with(second, 2)));
      CHECK(s.find("missing") == nullptr);
      CHECK(s.find("missing", text_hash("missing")) == nullptr);
      CHECK_FALSE(s.erase("missing"));
      CHECK(s.at(first)->event_count == 1);
      CHECK(s.at(second)->event_count == 2);
      auto gone = erase_first ? first : second;
      auto kept = erase_first ? second : first;
      REQUIRE(s.erase(gone));
      CHECK(s.find(gone) == nullptr);
      REQUIRE(s.find(kept) != nullptr); // still reached after the erase
      REQUIRE(s.insert(alert_with(gone, 3)));
      REQUIRE(s.insert(alert_with("third", 4))); // grows past two slots
      CHECK(contents(s) ==
            std::map<std::string, int64_t>{
                {gone, 3}, {kept, erase_first ? 2 : 1}, {"third", 4}});
    }
  }
}

TEST_CASE("an alert set agrees with a std::map while it stays small",
          "[unit]") {
  // Sets of up to three alerts, each from empty: the two-slot table full,
  // emptied and refilled, and its growth to four.
  std::mt19937 rng{7};
  for (int trial = 0; trial < 500; ++trial) {
    alert_set s;
    std::map<std::string, int64_t> ref;
    for (int step = 0; step < 12; ++step) {
      auto key = "key-" + std::to_string(rng() % 3 + trial * 3);
      if (rng() % 3 != 0) {
        bool added = ref.emplace(key, step).second;
        REQUIRE(s.insert(alert_with(key, step)) == added);
      } else {
        REQUIRE(s.erase(key) == (ref.erase(key) == 1));
      }
      REQUIRE(contents(s) == ref);
      for (auto& [k, count] : ref)
        REQUIRE(s.at(k)->event_count == count);
      REQUIRE(s.find("absent") == nullptr);
    }
  }
}
