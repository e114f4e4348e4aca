#pragma once

#include "actors/actors.hpp"
#include "actors/burst_hint.hpp"
#include "actors/context.hpp"
#include "domain/alert_key_map.hpp"
#include "domain/flat_map.hpp"
#include "domain/keys.hpp"

#include <caf/stateful_actor.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace argus::actors {

struct router_state {
  struct group_entry {
    domain::group_key key;
    grouping_actor handle;
    /// Events sent to it, compared with its count when it reports idle.
    uint64_t sent = 0;
    /// False once the router stopped or lost the actor; dedupKey index
    /// entries that still point here then route afresh.
    bool live = true;
    /// Events staged for it; sent as one message once the router's queued
    /// messages are handled.
    std::vector<routed_event> outbox;
    /// How many events the last flush sent it: the next outbox's capacity.
    burst_hint outbox_hint;
  };
  /// Shared by the group map and the dedupKey index, so an event for an
  /// active dedupKey reaches its group without hashing the group's key, and
  /// an index entry costs 16 bytes instead of a copy of that key.
  using entry_ptr = std::shared_ptr<group_entry>;
  /// Live grouping actors by group. Each key views its entry's own `key`,
  /// which lives as long as the entry: a group's texts are held once, and
  /// looking one up by an event's fields copies nothing. Flat, like the
  /// index below: each event for a new dedupKey looks its group up, and
  /// with 100,000 groups a node map's lookup was 9% of the in-process
  /// pipeline's samples, mostly cache misses along the bucket chain.
  domain::flat_map<domain::group_key_ref, entry_ptr> groups;
  struct index_entry {
    entry_ptr group;
    /// The group's `sent` count when the router last forwarded an event for
    /// this dedupKey. A group's "resolved" report that predates it must not
    /// drop the entry: later events for the key are still on their way.
    uint64_t last_forwarded = 0;
  };
  /// Which group holds each active (manager, dedupKey): a million entries
  /// and a lookup or insert per event, hence the flat map.
  domain::alert_key_map<index_entry> active;
  /// Groups with staged events, and whether a flush is on its way.
  std::vector<entry_ptr> staged_groups;
  /// While replaying the journal after a restart: the last journaled event
  /// each recently changed (manager, dedupKey) already reflects. Events at or
  /// below it were applied before the crash and are skipped.
  std::unordered_map<domain::alert_key, uint64_t> replay_guard;
  bool flush_scheduled = false;
  /// The manager of the group spawned last, shared with the next one's key
  /// when it has the same.
  domain::shared_text last_manager;
  static inline const char* name = "router";
};

/// How many groups a router's drain asks at once.
constexpr size_t drain_in_flight = 256;

/// The group of (manager, grouping value).
domain::group_key group_key(std::string_view manager_id, bool has_value,
                            std::string_view value);

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self,
       repository_actor repository, context_ptr ctx);

} // namespace argus::actors
