#pragma once

// xxHash's XXH3 (Debian's libxxhash-dev), compiled inline into each caller:
// its header alone, no library to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace argus::domain {

namespace detail {

/// This process's secret for `text_hash`: XXH3's key material, made from
/// the system's random source before any other static initialiser runs
/// (text_hash.cpp). A sender picks the dedupKeys and grouping values these
/// indexes are keyed by: with XXH3's published default secret anyone can
/// compute the slots, and could send thousands of keys that share one (a
/// hash-flooding denial of service). With a secret of its own, a process's
/// slots cannot be worked out from outside. Not a keyed MAC like SipHash,
/// which would take several times the instructions on every event.
///
/// An array filled at start-up rather than a function's static: the
/// static's guard, and its initialiser inlined beside the hash, cost 15
/// instructions per hash, a third more than the hash itself.
extern unsigned char text_hash_secret[XXH3_SECRET_DEFAULT_SIZE];

/// `text_hash` of a text longer than `XXH3_MIDSIZE_MAX` (240) bytes:
/// XXH3's long loop, out of line so that the short paths inline without
/// its registers and stack.
size_t text_hash_long(std::string_view text);

} // namespace detail

/// The hash every in-memory index of texts shares (dedupKeys, managers,
/// grouping values, notification ids): a router's, a group's set of
/// alerts, the memory store's rows. One event's dedupKey is looked up in
/// several of them, so it is hashed once and the hash carried along
/// (`event::dedup_hash`).
///
/// XXH3 rather than std::hash: on these short texts (a dedupKey of a few
/// bytes, a 36-character uuid) it takes about half the instructions of
/// libstdc++'s `_Hash_bytes`, which is a call into the shared library, and
/// about ten texts are hashed per event. Keyed per process, so never
/// stored or sent: nodes agree on owners by `rendezvous_score`, not by
/// this, and an order of entries in these maps may differ between runs.
[[gnu::flatten]] inline size_t text_hash(std::string_view text) {
  // `flatten` inlines XXH3's short paths here, and so into each caller;
  // without it GCC kept one shared out-of-line copy of them all.
  if (text.size() > XXH3_MIDSIZE_MAX)
    return detail::text_hash_long(text);
  return static_cast<size_t>(
      XXH3_64bits_withSecret(text.data(), text.size(), detail::text_hash_secret,
                             sizeof detail::text_hash_secret));
}

/// `text_hash` for unordered containers keyed by texts: std::string,
/// std::string_view and anything that converts to a view hash alike.
struct text_hasher {
  size_t operator()(std::string_view text) const { return text_hash(text); }
};

} // namespace argus::domain
