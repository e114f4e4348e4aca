#pragma once

// xxHash's XXH3 (Debian's libxxhash-dev), compiled inline into each caller:
// its header alone, no library to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>

namespace argus::domain {

/// This process's secret for `text_hash`: XXH3's key material, made once
/// from the system's random source. A sender picks the dedupKeys and
/// grouping values these indexes are keyed by: with a hash anyone can
/// compute, it could choose thousands that share a slot and turn every
/// lookup into a long probe (a hash-flooding denial of service). With a
/// secret, the slots differ from process to process and cannot be worked
/// out from outside. Not a keyed MAC like SipHash, but it takes the same
/// instructions as the default secret, where SipHash would take several
/// times more on every event. A secret rather than XXH3's 64-bit seed:
/// a seed is added to the default secret's words on every call, 2% more
/// instructions per event on the in-process pipeline.
inline const unsigned char* text_hash_secret() {
  // A function's static rather than a global, so that a map filled during
  // another file's static initialisation hashes with the same secret.
  static const auto secret = [] {
    std::array<uint32_t, 8> entropy;
    std::random_device source;
    for (auto& word : entropy)
      word = source();
    std::array<unsigned char, XXH3_SECRET_DEFAULT_SIZE> out;
    XXH3_generateSecret(out.data(), out.size(), entropy.data(), sizeof entropy);
    return out;
  }();
  return secret.data();
}

/// The hash every in-memory index of texts shares (dedupKeys, managers,
/// grouping values, notification ids): a router's, a group's set of
/// alerts, the memory store's rows. One event's dedupKey is looked up in
/// several of them, so it is hashed once and the hash carried along
/// (`event::dedup_hash`).
///
/// XXH3 rather than std::hash: on these short texts (a dedupKey of a few
/// bytes, a 36-character uuid) it takes about half the instructions of
/// libstdc++'s `_Hash_bytes`, which is a call into the shared library, and
/// about ten texts are hashed per event. Seeded per process, so never
/// stored or sent: nodes agree on owners by `rendezvous_score`, not by
/// this, and an order of entries in these maps may differ between runs.
inline size_t text_hash(std::string_view text) {
  return static_cast<size_t>(XXH3_64bits_withSecret(
      text.data(), text.size(), text_hash_secret(), XXH3_SECRET_DEFAULT_SIZE));
}

/// `text_hash` for unordered containers keyed by texts: std::string,
/// std::string_view and anything that converts to a view hash alike.
struct text_hasher {
  size_t operator()(std::string_view text) const { return text_hash(text); }
};

} // namespace argus::domain
