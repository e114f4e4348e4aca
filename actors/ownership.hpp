#pragma once

#include "domain/alert.hpp"
#include "domain/event.hpp"
#include "storage/journal.hpp"

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

/// A clustered node's share of the groups: which events it journals itself
/// and which it forwards, and the hand-over of groups when the membership
/// changes.
namespace argus::actors {

/// The membership as the cluster actor last saw it.
struct cluster_view {
  /// Live members' node ids, sorted; this node's too unless it is leaving.
  std::vector<std::string> live;
  /// How to reach each live peer (its admin or cluster actor).
  std::map<std::string, caf::actor> peers;
  /// The incarnation (journal id) of every member seen, live or not.
  std::map<std::string, std::string> incarnations;
};

/// Events on their way to the peer that owns their groups.
struct forward_share {
  caf::actor peer;
  const std::vector<domain::event>* events = nullptr;
};

/// What the ownership needs from its node; every hook blocks until done.
struct ownership_hooks {
  std::string self_id;
  /// This process's journal id (empty when durability is off).
  std::string incarnation;
  /// Applies everything handed to the routers and stores its effects.
  std::function<caf::error()> drain;
  /// Makes the routers stop the groups this node does not own among `live`.
  std::function<caf::error(const std::vector<std::string>& live)> release;
  /// Tells the live peers this node released what it does not own among
  /// `live`.
  std::function<void(const std::vector<std::string>& live)> announce;
  /// The store's open work (active alerts and children of active parents).
  std::function<caf::expected<std::vector<domain::alert>>()> open_work;
  /// Rebuilds the groups these alerts belong to in the routers.
  std::function<caf::error(std::vector<domain::alert>)> restore;
  /// Moves a dead writer's journal records into this node's journal and
  /// delivers them; null when durability is off.
  std::function<caf::error(std::vector<domain::event>, const std::string&)>
      adopt;
  /// Sends each share of events to its peer for it to journal, all at once;
  /// answers once every peer answered, one result per share.
  std::function<std::vector<caf::error>(const std::vector<forward_share>&)>
      forward;
  /// Asks nodes (peers' handles, and `local`) at once where their routers
  /// hold each (manager, dedupKey) active: one answer per node, each with
  /// "=<value>", "-" (no value) or "" per key.
  std::function<std::vector<caf::expected<std::vector<std::string>>>(
      const std::vector<caf::actor>&, const std::vector<std::string>&,
      const std::vector<std::string>&)>
      locate_at;
  /// This node's cluster actor, for `locate_at`.
  std::function<caf::actor()> local;
  /// The active alert of (manager, dedupKey) in the shared store, if any.
  std::function<std::optional<domain::alert>(const std::string&,
                                             const std::string&)>
      stored;
  /// Whether `n` more events would exceed this node's bound on pending
  /// work (`ingest.max_pending_events`): forwarded events meet the same
  /// back-pressure as the node's own HTTP front applies.
  std::function<bool(size_t)> overloaded;
  /// Journals (when on) and delivers events this node owns.
  std::function<caf::error(std::vector<domain::event>)> accept;
  /// Null when durability is off: nothing to fence or adopt.
  std::unique_ptr<storage::journal_fence> fence;
};

/// Owns the node's current view of who owns which group and runs the
/// transitions between views on a thread of its own:
///
/// 1. close the gate (events this node owns wait) and take the new view;
/// 2. drain, then release the groups now owned elsewhere, and tell the
///    peers (`announce`);
/// 3. wait until every previous owner of a group this node gains has either
///    announced the same view, or is gone for good: its journal lock is
///    free (a hung process keeps it, and then so does the wait);
/// 4. rebuild the gained groups from the store, then adopt every dead
///    writer's journal records for groups this node owns;
/// 5. open the gate.
///
/// A newer view abandons a transition and starts the next one.
class ownership {
public:
  explicit ownership(ownership_hooks hooks);
  ~ownership();

  ownership(const ownership&) = delete;
  ownership& operator=(const ownership&) = delete;

  /// The cluster actor saw the membership change (thread-safe).
  void on_view(cluster_view view);

  /// Peer `from` released what it does not own among `live`.
  void on_handover(const std::string& from, std::vector<std::string> live);

  /// Accepts events from this node's front: journals the ones this node
  /// owns and forwards the others to their owners, retrying while the
  /// membership settles. An error means some were not accepted.
  caf::error ingest(std::vector<domain::event> events);

  /// Accepts events a peer forwarded; `ec::conflict` when this node does
  /// not own one of them (the peer retries with a newer view).
  caf::error accept_forwarded(std::vector<domain::event> events);

  /// The live members of the current view (empty before the first).
  std::vector<std::string> live() const;

  /// Whether the current view is in effect: no groups are being taken over.
  bool settled() const;

  /// Stops the transition thread (idempotent).
  void stop();

private:
  /// Gives events without a grouping value the value of the group that
  /// holds their dedupKey; returns the positions of those whose dedupKey no
  /// node holds active.
  std::vector<size_t> locate_groups(std::vector<domain::event>& events);
  void run();
  /// One transition to `target`; false when abandoned (newer view, stop).
  bool transition(const cluster_view& target);
  /// Whether this node, the owner of `e`'s group in the current view,
  /// journals it now (needs `view_mtx_`).
  bool takes_now(const domain::event& e) const;
  /// Waits until `ready` or the deadline; false at the deadline.
  bool wait_ready(std::chrono::steady_clock::time_point deadline);
  bool stopped();
  /// True once a newer view arrived (or stop): abandon the transition.
  /// Needs `mtx_`.
  bool outdated(uint64_t version) const;
  /// Sleeps a little unless superseded meanwhile.
  bool pause(uint64_t version, std::chrono::milliseconds d);
  bool wait_handovers(const cluster_view& target,
                      const std::vector<std::string>& from, uint64_t version);
  /// Takes the journal lock of each writer; false when superseded.
  bool fence_all(const std::vector<std::string>& incarnations, uint64_t version,
                 std::vector<std::string>& held);
  /// Locks the incarnations in `previous` (members gone without handing
  /// over) and every dead writer that still has journal records.
  bool fence_dead(const cluster_view& target, std::vector<std::string> previous,
                  uint64_t version, std::vector<std::string>& held);
  /// Rebuilds the groups this node owns in `target` and did not own in
  /// `before` (all it owns when there was no view before).
  caf::error
  restore_gained(const cluster_view& target,
                 const std::optional<std::vector<std::string>>& before);
  /// Adopts the records of the locked writers `held` that this node owns.
  caf::error adopt_records(const cluster_view& target,
                           const std::vector<std::string>& held);

  /// Drops events this node journaled before under the same forwarding id
  /// (a retry after a lost answer, or after the node adopted them from a
  /// dead owner), and remembers the ids of the others.
  void drop_seen_forwards(std::vector<domain::event>& events);
  void remember_forwards(const std::vector<uint64_t>& ids);

  ownership_hooks hooks_;

  /// The forwarding ids journaled here lately, oldest first in `order`.
  std::mutex forwards_mtx_;
  std::unordered_set<uint64_t> seen_forwards_;
  std::deque<uint64_t> forward_order_;

  /// Guards `current_` and `ready_`: ingest holds it shared while it
  /// decides and journals; a transition takes it exclusively to switch.
  mutable std::shared_mutex view_mtx_;
  cluster_view current_;
  /// The live members whose split the routers hold (the last view that
  /// took effect); none before the first.
  std::optional<std::vector<std::string>> held_;
  bool ready_ = false;

  /// Guards everything below; `changed_` wakes the thread and waiters.
  mutable std::mutex mtx_;
  std::condition_variable changed_;
  std::optional<cluster_view> latest_;
  uint64_t latest_version_ = 0;
  std::map<std::string, std::vector<std::string>> handovers_;
  bool stopping_ = false;
  std::thread worker_;
};

} // namespace argus::actors
