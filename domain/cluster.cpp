#include "domain/cluster.hpp"

namespace argus::domain {

namespace {

constexpr uint64_t fnv_offset = 14695981039346656037ull;
constexpr uint64_t fnv_prime = 1099511628211ull;

void mix_in(uint64_t& h, std::string_view text) {
  // The length first, so that ("ab", "c") and ("a", "bc") differ.
  auto n = static_cast<uint64_t>(text.size());
  for (int i = 0; i < 8; ++i) {
    h ^= (n >> (8 * i)) & 0xff;
    h *= fnv_prime;
  }
  for (unsigned char c : text) {
    h ^= c;
    h *= fnv_prime;
  }
}

/// MurmurHash3's 64-bit finalizer: spreads FNV's weak low bits.
uint64_t finalize(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

} // namespace

uint64_t rendezvous_score(std::string_view member, std::string_view manager,
                          std::string_view value) {
  uint64_t h = fnv_offset;
  mix_in(h, member);
  mix_in(h, manager);
  mix_in(h, value);
  return finalize(h);
}

std::string owner_of(const std::vector<std::string>& members,
                     std::string_view manager, std::string_view value) {
  const std::string* best = nullptr;
  uint64_t best_score = 0;
  for (auto& m : members) {
    auto score = rendezvous_score(m, manager, value);
    if (best == nullptr || score > best_score ||
        (score == best_score && m < *best)) {
      best = &m;
      best_score = score;
    }
  }
  return best == nullptr ? std::string{} : *best;
}

std::string group_owner(const std::vector<std::string>& members,
                        std::string_view manager, bool has_value,
                        std::string_view value) {
  // A prefix keeps "no value" apart from every value, the empty one too.
  return owner_of(members, manager,
                  has_value ? "=" + std::string{value} : std::string{"-"});
}

} // namespace argus::domain
