#include "domain/flat_map.hpp"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <unordered_map>

using argus::domain::flat_map;

namespace {

/// Every key in one probe run: exercises collisions and the backward shift.
struct one_hash {
  size_t operator()(const std::string&) const { return 42; }
};

/// A few distinct homes: runs that wrap around the end of the table.
struct few_hashes {
  size_t operator()(const std::string& s) const { return s.size() % 3; }
};

/// Applies the same random inserts, lookups and erases to `m` and to a
/// std::unordered_map, checking they agree after each step.
template <class Map>
void agrees_with_unordered_map(Map& m, size_t steps, size_t key_space,
                               unsigned seed) {
  std::unordered_map<std::string, int> ref;
  std::mt19937 rng{seed};
  for (size_t step = 0; step < steps; ++step) {
    auto key = "k" + std::to_string(rng() % key_space);
    // Every other step passes the key's hash, as a caller that hashed it
    // once for several maps does: both forms must find the same entries.
    bool hashed = step % 2 == 1;
    auto hash = typename Map::hasher{}(key);
    if (hashed)
      m.prefetch_hash(hash); // a hint only: changes nothing
    else
      m.prefetch(key); // a hint only: changes nothing, empty map included
    switch (rng() % 4) {
    case 0:
    case 1: {
      auto [e, added] = hashed ? m.try_emplace(key, hash) : m.try_emplace(key);
      auto [r, ref_added] = ref.try_emplace(key, 0);
      REQUIRE(added == ref_added);
      e->value += 1;
      r->second += 1;
      break;
    }
    case 2:
      REQUIRE(m.erase(key) == (ref.erase(key) == 1));
      break;
    default: {
      auto* e = m.find(key);
      REQUIRE(m.find(key, hash) == e);
      auto r = ref.find(key);
      REQUIRE((e == nullptr) == (r == ref.end()));
      if (e != nullptr)
        REQUIRE(e->value == r->second);
    }
    }
    REQUIRE(m.size() == ref.size());
  }
  for (auto& [key, value] : ref) {
    auto* e = m.find(key);
    REQUIRE(e != nullptr);
    CHECK(e->value == value);
  }
  size_t seen = 0;
  for (auto& e : m) {
    CHECK(ref.at(e.key) == e.value);
    ++seen;
  }
  CHECK(seen == ref.size());
}

} // namespace

TEST_CASE("flat_map agrees with std::unordered_map", "[flat_map]") {
  SECTION("a good hash") {
    flat_map<std::string, int> m;
    agrees_with_unordered_map(m, 200000, 5000, 1);
  }
  SECTION("every key colliding") {
    flat_map<std::string, int, one_hash> m;
    agrees_with_unordered_map(m, 20000, 300, 2);
  }
  SECTION("runs wrapping around the table's end") {
    flat_map<std::string, int, few_hashes> m;
    agrees_with_unordered_map(m, 20000, 300, 3);
  }
  SECTION("growing through many sizes, a piece per insert, erasing "
          "meanwhile") {
    // About 65,000 entries in the end: every growth from 16 slots to
    // 131,072 happens with lookups, inserts and erases while the next
    // table is zeroed and the last one drained.
    flat_map<std::string, int> m;
    agrees_with_unordered_map(m, 400000, 100000, 4);
  }
}

TEST_CASE("flat_map finds every entry while erases empty it mid-growth",
          "[flat_map]") {
  // Erases take no growth step, so a table filled to any size and then
  // emptied is caught in every phase: its successor being zeroed, or its
  // slots half moved over, while each erase moves the last entry into the
  // erased one's place.
  for (int n = 1; n <= 300; ++n) {
    flat_map<std::string, int> m;
    for (int i = 0; i < n; ++i)
      m["k" + std::to_string(i)] = i;
    for (int gone = 0; gone < n; ++gone) {
      REQUIRE(m.erase("k" + std::to_string(gone)));
      for (int i = gone + 1; i < n; ++i) {
        auto* e = m.find("k" + std::to_string(i));
        REQUIRE(e != nullptr);
        REQUIRE(e->value == i);
      }
    }
    REQUIRE(m.empty());
    REQUIRE(m.find("k0") == nullptr);
  }
}

TEST_CASE("flat_map keeps every entry when erases keep pace with inserts "
          "while it grows",
          "[flat_map]") {
  // Three inserts to an erase, across many growths: erased entries sit
  // in either table.
  flat_map<std::string, int> m;
  std::unordered_map<std::string, int> ref;
  int next = 0;
  for (int round = 0; round < 40000; ++round) {
    for (int k = 0; k < 3; ++k, ++next) {
      auto key = "k" + std::to_string(next);
      m[key] = next;
      ref[key] = next;
    }
    auto gone = "k" + std::to_string(next / 2);
    REQUIRE(m.erase(gone) == (ref.erase(gone) == 1));
    REQUIRE(m.size() == ref.size());
  }
  for (auto& [key, value] : ref) {
    auto* e = m.find(key);
    REQUIRE(e != nullptr);
    CHECK(e->value == value);
  }
  for (int i = 0; i < next; ++i) {
    auto key = "k" + std::to_string(i);
    CHECK((m.find(key) != nullptr) == (ref.count(key) == 1));
  }
}

TEST_CASE("flat_map erase_if keeps the others", "[flat_map]") {
  flat_map<std::string, int> m;
  for (int i = 0; i < 1000; ++i)
    m["k" + std::to_string(i)] = i;
  m.erase_if([](auto& e) { return e.value % 3 == 0; });
  CHECK(m.size() == 666);
  for (int i = 0; i < 1000; ++i) {
    auto* e = m.find("k" + std::to_string(i));
    if (i % 3 == 0) {
      CHECK(e == nullptr);
    } else {
      REQUIRE(e != nullptr);
      CHECK(e->value == i);
    }
  }
}

TEST_CASE("flat_map entries keep their address while it grows", "[flat_map]") {
  flat_map<std::string, int> m;
  auto* first = m.try_emplace(std::string{"first"}).first;
  first->value = 7;
  for (int i = 0; i < 10000; ++i)
    m["k" + std::to_string(i)] = i;
  CHECK(m.find("first") == first);
  CHECK(first->value == 7);
  m.clear();
  CHECK(m.empty());
  CHECK(m.find("first") == nullptr);
}

namespace {

/// A key that counts how often it is built: lookups by a view must not
/// build one (for shared_text keys, each would be an allocation).
struct counted_key {
  static inline size_t built = 0;
  std::string text;
  explicit counted_key(std::string_view t) : text(t) { ++built; }
  friend bool operator==(const counted_key& k, std::string_view v) {
    return k.text == v;
  }
  friend bool operator==(const counted_key& x, const counted_key& y) {
    return x.text == y.text;
  }
};

struct counted_hash {
  size_t operator()(std::string_view v) const {
    return std::hash<std::string_view>{}(v);
  }
  size_t operator()(const counted_key& k) const { return (*this)(k.text); }
};

} // namespace

TEST_CASE("flat_map: lookups and erasure by another key type build no key",
          "[flat_map]") {
  counted_key::built = 0;
  flat_map<counted_key, int, counted_hash> m;
  for (int i = 0; i < 100; ++i)
    m.try_emplace(std::string_view{"k" + std::to_string(i)}).first->value = i;
  CHECK(counted_key::built == 100);
  for (int i = 0; i < 100; ++i) {
    auto key = "k" + std::to_string(i);
    std::string_view view{key};
    REQUIRE(m.find(view) != nullptr);
    CHECK(m.find(view)->value == i);
    CHECK(m.find(view, counted_hash{}(view)) == m.find(view));
    // Present already: nothing is built.
    CHECK_FALSE(m.try_emplace(view).second);
  }
  CHECK(m.find(std::string_view{"absent"}) == nullptr);
  CHECK(m.erase(std::string_view{"k7"}));
  CHECK_FALSE(m.erase(std::string_view{"k7"}));
  CHECK(m.size() == 99);
  CHECK(counted_key::built == 100);
}
