#pragma once

// xxHash's XXH3 (Debian's libxxhash-dev), compiled inline into each caller:
// its header alone, no library to link.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstddef>
#include <string_view>

namespace argus::domain {

/// The hash every in-memory index of texts shares (dedupKeys, managers,
/// grouping values, notification ids): a router's, a group's set of
/// alerts, the memory store's rows. One event's dedupKey is looked up in
/// several of them, so it is hashed once and the hash carried along
/// (`event::dedup_hash`).
///
/// XXH3 rather than std::hash: on these short texts (a dedupKey of a few
/// bytes, a 36-character uuid) it takes about half the instructions of
/// libstdc++'s `_Hash_bytes`, which is a call into the shared library, and
/// about ten texts are hashed per event. Never stored or sent: a node
/// built with another hash would still agree with every other node (the
/// cluster's owner is chosen by `rendezvous_score`, not by this).
inline size_t text_hash(std::string_view text) {
  return static_cast<size_t>(XXH3_64bits(text.data(), text.size()));
}

/// `text_hash` for unordered containers keyed by texts: std::string,
/// std::string_view and anything that converts to a view hash alike.
struct text_hasher {
  size_t operator()(std::string_view text) const { return text_hash(text); }
};

} // namespace argus::domain
