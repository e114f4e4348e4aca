#pragma once

#include "actors/actors.hpp"
#include "actors/burst_hint.hpp"
#include "actors/context.hpp"
#include "actors/lean_actor.hpp"
#include "domain/grouping.hpp"
#include "domain/keyed_vector.hpp"
#include "domain/text_hash.hpp"

#include <memory>
#include <unordered_set>
#include <vector>

namespace argus::actors {

/// The actors a grouping actor talks to, and the node's context. Kept in
/// the state once rather than captured by each handler of the behavior.
struct grouping_peers {
  router_actor router;
  repository_actor repository;
  context_ptr ctx;
};

struct grouping_state {
  grouping_peers to;
  /// This group's identity, as the router knows it.
  domain::group_key key;
  domain::group_state group;
  /// Events received; the router retires an idle group only when this
  /// matches what it sent, so no event is ever in flight to a stopped actor.
  uint64_t received = 0;
  /// Identifies the armed acknowledgement timer; older timers are stale.
  uint64_t ack_token = 0;
  /// Identifies the armed timer for the earliest alert end (older ones are
  /// stale), and the end it is armed for.
  uint64_t expiry_token = 0;
  domain::time_point expiry_armed{};
  /// A change not yet sent to the repository. While the group itself still
  /// holds the alert, the entry keeps only a weak reference and the flush
  /// takes the alert as it is then: a strong one would count as a second
  /// owner, and the next change in the same burst would copy the whole
  /// alert (copy-on-write), which for a parent gaining children was a copy
  /// per child.
  struct staged_write {
    /// Shares the alert's dedupKey block.
    domain::shared_text dedup_key;
    /// Its snapshot is null while `held` stands in for it.
    domain::alert_write write;
    std::weak_ptr<const domain::alert> held;
  };
  /// What the next flush sends the repository, as one message once the
  /// queued messages are handled, so a burst of children costs one parent
  /// write.
  struct pending_changes {
    /// One entry per alert (a later change of the same alert replaces the
    /// snapshot and adds its count). Most flushes carry one or two: a hash
    /// map by dedupKey was 2% of a group's work.
    domain::keyed_vector<staged_write, &staged_write::dedup_key> writes;
    /// Journal sequence numbers of the events behind the changes; the
    /// repository advances the high-water mark with them.
    std::vector<uint64_t> seqs;
    /// Notifications of the changes, in order.
    std::vector<domain::notification> notes;
  };
  /// Made by the first change after a flush and let go by the flush: nearly
  /// every group of a million waits with nothing to send, and empty
  /// containers in the state cost each of them 128 bytes.
  std::unique_ptr<pending_changes> outbox;
  bool flush_scheduled = false;
  /// Events applied whose changes still wait in the outbox. They count as
  /// processed once the flush has handed their changes to the repository,
  /// so a read after "processed" caught up with "accepted" sees them.
  uint64_t applied_unflushed = 0;
  /// How many writes the last flush sent: the next outbox's capacity.
  burst_hint outbox_hint;
  /// dedupKeys whose trigger this group sent back to the router. Later
  /// events for them that still arrive here go back too, behind it, so
  /// they keep their order.
  /// Made by the first reroute (only a cluster's ownership changes
  /// reroute).
  std::unique_ptr<std::unordered_set<std::string, domain::text_hasher>>
      rerouted;
  static inline const char* name = "grouping";
};

/// The grouping actor for (event manager, grouping value), spawned by a
/// router, possibly with restored state.
///
/// A lean actor (see lean_actor.hpp): a million open groups are a million
/// of these. Its handlers capture nothing, so every group shares one
/// behavior; a handler finds its actor through `handling()`.
class grouping_impl : public lean_actor {
public:
  grouping_impl(caf::actor_config& cfg, domain::group_key key,
                domain::group_state initial, router_actor router,
                repository_actor repository, context_ptr ctx);
  ~grouping_impl() override;

  grouping_impl(const grouping_impl&) = delete;
  grouping_impl& operator=(const grouping_impl&) = delete;

  const char* name() const override;

  /// The grouping actor whose message this thread is handling.
  static grouping_impl& handling();

  /// This actor's typed handle.
  grouping_actor handle();

  /// Destroyed as the actor terminates (`on_terminate`, which CAF runs
  /// before the destructor in every case), so the router and repository
  /// handles it holds go with it rather than with the last handle to it.
  union {
    grouping_state state;
  };

protected:
  caf::behavior& behavior() override;
  void on_terminate(const caf::error& reason) override;
};

/// Spawns the grouping actor of `key` (see `grouping_impl`). A restored
/// group arms its alerts' timers; every group runs once its first message
/// arrives.
grouping_actor spawn_grouping(caf::actor_system& sys, domain::group_key key,
                              domain::group_state initial, router_actor router,
                              repository_actor repository, context_ptr ctx);

} // namespace argus::actors
