#pragma once

#include "domain/shared_text.hpp"
#include "domain/text_hash.hpp"

#include <caf/meta/type_name.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>

/// Typed identities: which alert, which group. Routers, ownership, storage
/// and the cluster protocol use these instead of hand-built key strings.
namespace argus::domain {

/// An alert's identity: the (event manager, dedupKey) pair. Stores merge by
/// it; the dedupKey index of a router maps it to the group holding it.
struct alert_key {
  std::string event_manager_id;
  std::string dedup_key;

  alert_key() = default;
  alert_key(std::string_view manager, std::string_view dedup)
      : event_manager_id(manager), dedup_key(dedup) {}

  friend bool operator==(const alert_key& a, const alert_key& b) {
    return a.event_manager_id == b.event_manager_id &&
           a.dedup_key == b.dedup_key;
  }
  friend bool operator!=(const alert_key& a, const alert_key& b) {
    return !(a == b);
  }
  friend bool operator<(const alert_key& a, const alert_key& b) {
    return std::tie(a.event_manager_id, a.dedup_key) <
           std::tie(b.event_manager_id, b.dedup_key);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_key& x) {
  return f(caf::meta::type_name("argus.alert_key"), x.event_manager_id,
           x.dedup_key);
}

/// A group's identity: (event manager, grouping value). Events without the
/// grouping field share the one value-less group of their manager, where
/// each is a parent of its own; `has_value` keeps that group apart from
/// every value, the empty string included.
///
/// Its texts are shared: the router's entry, the grouping actor, its
/// group state and every alert of the group hold one block of each.
struct group_key {
  shared_text event_manager_id;
  bool has_value = false;
  shared_text value;

  friend bool operator==(const group_key& a, const group_key& b) {
    return a.event_manager_id == b.event_manager_id &&
           a.has_value == b.has_value && a.value == b.value;
  }
  friend bool operator!=(const group_key& a, const group_key& b) {
    return !(a == b);
  }
  friend bool operator<(const group_key& a, const group_key& b) {
    return std::tie(a.event_manager_id, a.has_value, a.value) <
           std::tie(b.event_manager_id, b.has_value, b.value);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_key& x) {
  return f(caf::meta::type_name("argus.group_key"), x.event_manager_id,
           x.has_value, x.value);
}

/// A group's identity as views of texts held elsewhere: looking a group
/// up by an event's fields copies nothing. Its hash and equality agree
/// with `group_key`'s.
struct group_key_ref {
  std::string_view event_manager_id;
  bool has_value = false;
  std::string_view value;

  group_key_ref() = default;
  group_key_ref(std::string_view manager, bool has, std::string_view v)
      : event_manager_id(manager), has_value(has),
        value(has ? v : std::string_view{}) {}
  /// Views `key`'s texts: valid while `key` is.
  group_key_ref(const group_key& key) // NOLINT: a key is its own reference
      : group_key_ref(key.event_manager_id, key.has_value, key.value) {}

  friend bool operator==(const group_key_ref& a, const group_key_ref& b) {
    return a.event_manager_id == b.event_manager_id &&
           a.has_value == b.has_value && a.value == b.value;
  }
  friend bool operator!=(const group_key_ref& a, const group_key_ref& b) {
    return !(a == b);
  }
};

/// Where a node's routers hold an alert key active: `found` false when
/// they hold none; else the group that holds it. The answer to locating a
/// value-less event's dedupKey across the cluster.
struct alert_location {
  bool found = false;
  group_key group;

  friend bool operator==(const alert_location& a, const alert_location& b) {
    return a.found == b.found && a.group == b.group;
  }
  friend bool operator!=(const alert_location& a, const alert_location& b) {
    return !(a == b);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_location& x) {
  return f(caf::meta::type_name("argus.alert_location"), x.found, x.group);
}

/// Mixes `h` into `seed` (boost's hash_combine constants).
inline size_t hash_combine(size_t seed, size_t h) {
  return seed ^ (h + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2));
}

/// Hashes for unordered containers keyed by these types.
struct alert_key_hash {
  size_t operator()(const alert_key& k) const {
    return hash_combine(text_hash(k.event_manager_id), text_hash(k.dedup_key));
  }
};

/// One hash for both forms of a group's key.
struct group_key_hash {
  size_t operator()(const group_key_ref& k) const {
    return hash_combine(
        hash_combine(text_hash(k.event_manager_id), k.has_value),
        text_hash(k.value));
  }
  size_t operator()(const group_key& k) const {
    return (*this)(group_key_ref{k});
  }
};

} // namespace argus::domain

namespace std {
template <>
struct hash<argus::domain::alert_key> : argus::domain::alert_key_hash {};
template <>
struct hash<argus::domain::group_key> : argus::domain::group_key_hash {};
template <>
struct hash<argus::domain::group_key_ref> : argus::domain::group_key_hash {};
} // namespace std
