#pragma once

#include "domain/alert.hpp"
#include "domain/event.hpp"
#include "domain/keys.hpp"
#include "domain/ownership.hpp"
#include "storage/journal.hpp"

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

/// A clustered node's share of the groups: which events it journals itself
/// and which it forwards, and the hand-over of groups when the membership
/// changes.
namespace argus::actors {

/// How long events forwarded to this node wait here for its groups to
/// settle (a takeover) or for an earlier copy's journaling, before the
/// answer is `unavailable` and the sender tries again.
inline constexpr auto forwarded_wait = std::chrono::seconds{3};

/// How long a sender waits for a peer's answer to forwarded events: the
/// peer's own wait and then time to journal them. A peer that waited in
/// full still answers before its sender gives up, so a timeout means a
/// lost answer or a dead peer, not a busy one (with the two equal, a
/// retry of every forward held back through a takeover raced its first
/// copy's journaling).
inline constexpr auto forward_timeout =
    forwarded_wait + std::chrono::seconds{2};

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

/// What the ownership needs from its node: the effects of its decisions.
/// Every hook blocks until done.
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
  /// Asks nodes (the peers' handles and this node's own) at once where
  /// their routers hold each alert key active: one answer per node.
  std::function<std::vector<caf::expected<std::vector<domain::alert_location>>>(
      const std::vector<caf::actor>&, const std::vector<domain::alert_key>&)>
      locate_at;
  /// This node's cluster actor, for `locate_at`.
  std::function<caf::actor()> local;
  /// The active alert of `key` in the shared store, if any.
  std::function<std::optional<domain::alert>(const domain::alert_key&)> stored;
  /// Whether `n` more events would exceed this node's bound on pending
  /// work (`ingest.max_pending_events`): forwarded events meet the same
  /// back-pressure as the node's own HTTP front applies.
  std::function<bool(size_t)> overloaded;
  /// Journals (when on) and delivers events this node owns.
  std::function<caf::error(std::vector<domain::event>)> accept;
  /// Null when durability is off: nothing to fence or adopt.
  std::unique_ptr<storage::journal_fence> fence;
  /// How often the fence's own lock is checked (`journal_fence::keep`).
  std::chrono::milliseconds keep_every{2000};
  /// A peer fenced this node: it must stop at once, writing nothing more.
  std::function<void()> fenced;
};

/// Carries out the decisions of `domain::ownership_machine` (the view, the
/// transitions between views) and of the routing rules in
/// `domain/ownership.hpp`. Transitions run on a thread of their own, since
/// their steps block on drains, store reads and journal locks; `ingest` and
/// `accept_forwarded` run on the callers' threads and route by the view the
/// machine last published.
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
  /// What one pass of `ingest` left over.
  struct ingest_tally {
    caf::error last_failure;
    size_t refused = 0;
  };

  /// Gives events without a grouping value the value of the group that
  /// holds their dedupKey; returns the positions of those no node holds.
  std::vector<size_t> locate_groups(std::vector<domain::event>& events);
  /// Journals this node's share of `events` and returns the shares of
  /// other owners with their handles, and what waits.
  caf::error route(std::vector<domain::event>& events,
                   std::vector<domain::event>& again,
                   std::map<std::string, std::vector<domain::event>>& away,
                   std::map<std::string, caf::actor>& handles);
  /// Forwards each share to its owner; puts back in `again` what to retry.
  void forward(std::map<std::string, std::vector<domain::event>>& away,
               const std::map<std::string, caf::actor>& handles,
               std::vector<domain::event>& again, ingest_tally& tally);
  /// Waits until the view is in effect or the deadline; false at the
  /// deadline.
  bool wait_ready(std::chrono::steady_clock::time_point deadline);
  bool stopped();
  /// Drops the forwarded events journaled here before and claims the rest
  /// (`domain::forward_memory::claim`), waiting until the deadline while
  /// another call journals some of them; false at the deadline.
  bool claim_forwarded(std::vector<domain::event>& events,
                       std::chrono::steady_clock::time_point deadline);
  /// Ends a claim and wakes the calls waiting for it.
  void settle_forwarded(const std::vector<uint64_t>& ids, bool journaled);

  void run();
  /// Carries out `s`'s effects and action; answers the machine's next step
  /// (with `mtx_` held on return through `lock`).
  domain::ownership_step carry_out(domain::ownership_step s,
                                   std::unique_lock<std::mutex>& lock);
  /// The effects every step may carry: unlock, remember, publish.
  /// `began`: a transition to the latest view began, whose `peers` events
  /// are forwarded to from now on.
  void apply_effects(domain::ownership_step& s,
                     std::map<std::string, caf::actor> peers, bool began);
  caf::expected<bool> try_fence(const std::string& incarnation);
  /// Checks this node's own journal lock (`journal_fence::keep`), and
  /// calls the `fenced` hook if a peer fenced it.
  void keep_lock();
  caf::error read_journal(domain::ownership_step& s);
  void unlock(const std::vector<std::string>& incarnations);

  ownership_hooks hooks_;

  /// The forwarding ids journaled here lately, and those being journaled.
  std::mutex forwards_mtx_;
  domain::forward_memory forwards_;
  /// Signalled when a claim on forwarding ids ends.
  std::condition_variable forwards_settled_;

  /// Guards `view_` and `peers_`: ingest holds it shared while it decides
  /// and journals; the transition thread takes it exclusively to publish.
  mutable std::shared_mutex view_mtx_;
  domain::ownership_view view_;
  std::map<std::string, caf::actor> peers_;

  /// Guards everything below; `changed_` wakes the thread and waiters.
  mutable std::mutex mtx_;
  std::condition_variable changed_;
  domain::ownership_machine machine_;
  /// How to reach the peers of the latest view.
  std::map<std::string, caf::actor> latest_peers_;
  bool stopping_ = false;
  /// When a wait for hand-overs or a journal lock was last logged.
  std::chrono::steady_clock::time_point logged_{};
  /// When this node's journal lock is checked next, and when a failed
  /// check was last logged (transition thread only).
  std::chrono::steady_clock::time_point next_keep_{};
  std::chrono::steady_clock::time_point keep_logged_{};
  std::thread worker_;
};

} // namespace argus::actors
