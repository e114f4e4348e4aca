#include "domain/text_hash.hpp"

#include <array>
#include <random>

namespace argus::domain::detail {

alignas(64) unsigned char text_hash_secret[XXH3_SECRET_DEFAULT_SIZE];

size_t text_hash_long(std::string_view text) {
  return static_cast<size_t>(XXH3_64bits_withSecret(
      text.data(), text.size(), text_hash_secret, sizeof text_hash_secret));
}

namespace {

/// Fills `text_hash_secret` from 256 random bits.
struct secret_maker {
  secret_maker() {
    std::array<uint32_t, 8> entropy;
    std::random_device source;
    for (auto& word : entropy)
      word = source();
    XXH3_generateSecret(text_hash_secret, sizeof text_hash_secret,
                        entropy.data(), sizeof entropy);
  }
};

// Priority 101, the first a program may use: before every ordinary static
// initialiser of every file, so that none can hash with the secret still
// zero and look the same text up under another hash after start-up.
[[gnu::init_priority(101)]] secret_maker make_secret;

} // namespace

} // namespace argus::domain::detail
