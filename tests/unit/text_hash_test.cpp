#include "domain/text_hash.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

using argus::domain::text_hash;

namespace {

/// Keys whose XXH3 with its default secret all end in the same `bits` low bits,
/// found by trying suffixes: what a sender who knew the hash could send to put
/// every key of a flat map into one probe chain.
std::vector<std::string> keys_colliding_by_default(size_t count,
                                                   unsigned bits) {
  const uint64_t mask = (uint64_t{1} << bits) - 1;
  std::vector<std::string> keys;
  for (size_t i = 0; keys.size() < count; ++i) {
    auto key = "dedup-" + std::to_string(i);
    if ((XXH3_64bits(key.data(), key.size()) & mask) == 0)
      keys.push_back(std::move(key));
  }
  return keys;
}

} // namespace

TEST_CASE("text_hash is the same for the same text in one process, on every "
          "thread",
          "[unit]") {
  auto here = text_hash("payments/disk-full");
  CHECK(text_hash("payments/disk-full") == here);
  CHECK(text_hash(std::string{"payments/disk-full"}) == here);
  size_t elsewhere = 0;
  std::thread{[&] { elsewhere = text_hash("payments/disk-full"); }}.join();
  CHECK(elsewhere == here);
  CHECK(text_hash("payments/disk-ful") != here);
  CHECK(text_hash("") == text_hash(std::string_view{}));
}

TEST_CASE("keys chosen to collide under XXH3's default secret spread out under "
          "text_hash",
          "[unit]") {
  // 2,000 keys that would all share one of 1,024 slots. Seeded, they fall
  // into about 1,024 * (1 - e^-2) = 885 distinct slots, as random keys do;
  // fewer than 700 would take a broken secret (the default keeps all
  // 2,000 in one).
  constexpr unsigned bits = 10;
  auto keys = keys_colliding_by_default(2000, bits);
  std::set<size_t> default_slots;
  std::set<size_t> slots;
  for (auto& key : keys) {
    default_slots.insert(XXH3_64bits(key.data(), key.size()) & 1023);
    slots.insert(text_hash(key) & 1023);
  }
  CHECK(default_slots.size() == 1);
  CHECK(slots.size() > 700);
}

TEST_CASE("text_hash keys XXH3 with this process's secret, short texts and "
          "long",
          "[unit]") {
  using argus::domain::detail::text_hash_secret;
  // Made before main: not XXH3's default, and not left zero.
  CHECK(std::memcmp(text_hash_secret, XXH3_kSecret, sizeof text_hash_secret) !=
        0);
  CHECK(std::count(std::begin(text_hash_secret), std::end(text_hash_secret),
                   0) < 16);
  // Every length class of XXH3: 0, 1-3, 4-8, 9-16, 17-128, 129-240, more.
  for (size_t length : {0, 2, 7, 12, 36, 200, 240, 241, 1000}) {
    std::string text(length, 'x');
    INFO(length);
    CHECK(text_hash(text) == XXH3_64bits_withSecret(text.data(), text.size(),
                                                    text_hash_secret,
                                                    sizeof text_hash_secret));
    CHECK(text_hash(text) != XXH3_64bits(text.data(), text.size()));
  }
}
