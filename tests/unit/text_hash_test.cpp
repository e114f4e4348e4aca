#include "domain/text_hash.hpp"

#include <catch2/catch.hpp>

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

TEST_CASE("text_hash_secret is made once per process", "[unit]") {
  auto* secret = argus::domain::text_hash_secret();
  CHECK(argus::domain::text_hash_secret() == secret);
  std::string key = "m1/k";
  CHECK(text_hash(key) == XXH3_64bits_withSecret(key.data(), key.size(), secret,
                                                 XXH3_SECRET_DEFAULT_SIZE));
}
