#pragma once

#include "domain/alert.hpp"
#include "domain/event.hpp"
#include "domain/keys.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

/// A clustered node's share of the groups, as pure rules: which events it
/// journals, forwards or holds back, and the transition between two views
/// of the membership as a state machine whose steps the node carries out
/// (`actors/ownership.*`). Nothing here blocks, reads a clock or talks to
/// another node: inputs come in as arguments, decisions go out as values.
namespace argus::domain {

/// Monotonic time: retries and pauses are arranged against it.
using mono_time = std::chrono::steady_clock::time_point;

/// The group `e` belongs to.
group_key group_of(const event& e);

/// The group `a` belongs to.
group_key group_of(const alert& a);

// -- routing events -----------------------------------------------------------

/// What the routing of events needs to know about the node's view.
struct ownership_view {
  std::string self_id;
  /// The live members of the view being taken or in effect (sorted; empty
  /// before the first view).
  std::vector<std::string> live;
  /// The live members whose split the routers hold (the last view that
  /// took effect); none before the first.
  std::optional<std::vector<std::string>> held;
  /// The view in `live` is in effect: no group is being taken over.
  bool ready = false;
};

/// Whether this node, the owner of `e`'s group in `v`, journals it now:
/// groups it keeps through a transition flow on; only the ones it gains
/// wait until the previous owner handed them over.
bool takes_now(const ownership_view& v, const event& e);

/// Where one event goes.
struct route {
  enum kind_t : uint8_t {
    here,    ///< this node owns its group and takes it now: journal it
    wait,    ///< this node gains its group and has not taken it over yet
    forward, ///< `owner` owns it (empty: no live member at all)
  };
  kind_t kind = here;
  std::string owner;
};

/// Where `e` goes under `v`.
route route_of(const ownership_view& v, const event& e);

/// A batch from the front, split by where each event goes.
struct ingest_plan {
  std::vector<event> here;
  std::vector<event> waiting;
  /// By owner, one share per owner.
  std::map<std::string, std::vector<event>> elsewhere;
};

/// Splits `events` by `route_of`. The events at `unplaced` (value-less
/// events whose dedupKey no node holds) wait while `v` is not in effect:
/// their group may be between an old owner's drain and the store.
ingest_plan plan_ingest(const ownership_view& v, std::vector<event> events,
                        const std::vector<size_t>& unplaced = {});

/// What a node does with a batch a peer forwarded.
enum class forwarded_verdict : uint8_t {
  accept,   ///< it owns and takes every event now
  wait,     ///< it has no view yet, or is taking a group of them over
  conflict, ///< it does not own one of them: the sender retries
};

/// Judges a forwarded batch in its order, stopping at the first event
/// that has to wait (the rest are judged once the node can take it).
forwarded_verdict judge_forwarded(const ownership_view& v,
                                  const std::vector<event>& events);

/// What the sender does with a share its owner answered `err` for.
enum class forward_outcome : uint8_t {
  accepted, ///< journaled by the owner
  refused,  ///< the owner is behind: its back-pressure reaches the client
  retry,    ///< the owner moved or is out of reach: try a newer view
};

forward_outcome judge_forward(const caf::error& err);

/// The forwarding ids of `events`, in order.
std::vector<uint64_t> forward_ids_of(const std::vector<event>& events);

/// The forwarding ids a node journaled lately, so a sender's retry (after a
/// lost answer, or after the node adopted them from a dead owner) is not
/// journaled twice. Bounded: the oldest ids are forgotten first.
class forward_memory {
public:
  /// Far more than can be in flight while a sender retries.
  static constexpr size_t default_capacity = 1 << 18;

  explicit forward_memory(size_t capacity = default_capacity);

  /// Removes the events whose forwarding id was journaled here before.
  void drop_seen(std::vector<event>& events) const;

  /// Remembers `ids` (0, "never forwarded", is ignored).
  void remember(const std::vector<uint64_t>& ids);

  bool seen(uint64_t id) const;

  /// Drops the events journaled here before, and claims the ids of the
  /// rest for one journaling call. False, claiming nothing, while another
  /// call is journaling one of them: a sender's retry (its wait for the
  /// answer timed out) can arrive while the first copy is still being
  /// journaled, and must wait for its outcome instead of journaling a
  /// second copy.
  bool claim(std::vector<event>& events);

  /// Ends a claim: the ids are remembered when they were journaled, and
  /// free to claim again when not.
  void settle(const std::vector<uint64_t>& ids, bool journaled);

private:
  size_t capacity_;
  std::unordered_set<uint64_t> seen_;
  std::deque<uint64_t> order_;
  /// Ids a journaling call claimed and has not settled yet.
  std::unordered_set<uint64_t> claimed_;
};

// -- locating value-less events ----------------------------------------------

/// The events without a grouping value: where they are in a batch, and
/// their keys for asking the nodes where their dedupKey is active.
struct valueless_events {
  std::vector<size_t> at;
  std::vector<alert_key> keys;
};

valueless_events valueless(const std::vector<event>& events);

/// Merges one node's answer into `found` (one entry per key): a node that
/// holds a key active overrides "not found".
void merge_locations(std::vector<alert_location>& found,
                     const std::vector<alert_location>& answer);

/// Where the store's active alert `a` says its dedupKey is, for a key no
/// router holds (its group is being handed over). Only a group with a
/// value places an event: a value-less one is where the event goes anyway.
alert_location stored_location(const alert& a);

/// Gives the events at `at` the grouping value of their located group;
/// returns the positions of those no node holds active.
std::vector<size_t> place(std::vector<event>& events,
                          const std::vector<size_t>& at,
                          const std::vector<alert_location>& found);

// -- transitions --------------------------------------------------------------

/// The membership as the cluster actor last saw it, without how to reach
/// the peers.
struct membership {
  /// Live members' node ids; this node's too unless it is leaving.
  std::vector<std::string> live;
  /// The incarnation (journal id) of every member seen, live or not.
  std::map<std::string, std::string> incarnations;
};

/// A dead writer's journal records, sorted for this node: those of groups
/// it owns are adopted; of those, forwarded ones already applied (`done`)
/// are only remembered by their forwarding ids.
class journal_share {
public:
  journal_share() = default;
  journal_share(std::vector<std::string> live, std::string self_id);

  /// Takes one record, in journal order.
  void take(event& e, bool done);

  /// Takes one record of a live previous owner, which applied or applies
  /// everything it journaled: of groups this node owns, only the
  /// forwarding id is kept, never the event.
  void recall(const event& e);

  std::vector<event> adopt;
  std::vector<uint64_t> applied;

private:
  std::vector<std::string> live_;
  std::string self_id_;
};

/// One thing the carrier of the ownership does next. First the effects
/// (`unlock`, then `remember`, then `publish`), then the action `what`,
/// whose result goes back into the machine's matching input.
struct ownership_step {
  enum kind_t : uint8_t {
    /// Nothing until an input arrives or `until` passes; then `next`.
    wait,
    /// Apply and store everything accepted: `drained`.
    drain,
    /// Stop the groups not owned among `live`, then tell the live peers:
    /// `handed_over`.
    hand_over,
    /// List the incarnations with journal records: `listed`.
    list_writers,
    /// Try to take the journal lock of `incarnation`: `fenced`.
    fence,
    /// Read the store's open work: `worked`.
    read_work,
    /// Rebuild the groups of `alerts` in the routers: `restored`.
    restore,
    /// Read `incarnation`'s records into `share`: `journal_read`.
    read_journal,
    /// Read the records of `incarnation`, a live previous owner, into
    /// `share` with `journal_share::recall`: `journal_read`. A sender whose
    /// forward it journaled but whose answer was lost retries here, where
    /// the group went; the ids tell the retry from new events.
    recall_forwards,
    /// Move `events` from `incarnation`'s journal into this node's and
    /// deliver them: `adopted`.
    adopt,
  };
  kind_t what = wait;
  /// For `wait`: when to call `next` at the latest (none: after an input).
  std::optional<mono_time> until;
  /// Journal locks to give back (a transition ended or was abandoned).
  std::vector<std::string> unlock;
  /// The view to route events by from now on: a transition began (events
  /// for groups this node gains wait) or took effect.
  std::optional<ownership_view> publish;
  /// Forwarding ids now journaled here (adopted or applied by a dead owner)
  /// or by a live previous owner of groups this node gains.
  std::vector<uint64_t> remember;
  std::vector<std::string> live;
  std::string incarnation;
  std::vector<alert> alerts;
  std::vector<event> events;
  journal_share share;
};

/// The transitions between views, one at a time:
///
/// 1. publish the new view with the gate closed (events for groups this
///    node gains wait);
/// 2. drain, then hand over: release the groups now owned elsewhere and
///    tell the peers;
/// 3. wait until every live previous owner of a gained group has handed
///    over under the same view; a previous owner that is gone without
///    handing over may only be hung, so with a journal its lock is taken
///    before its groups are, together with every dead writer that still
///    has records, one by one in sorted order (the same on every node, so
///    two takers never hold one lock each and wait for the other's);
/// 4. rebuild the gained groups from the store's open work, then remember
///    the forwarding ids live previous owners journaled for groups this
///    node gains, then adopt the locked writers' records of groups this
///    node owns;
/// 5. give the locks back and publish the view as in effect.
///
/// A failed step gives the locks back and starts over after a pause. A
/// newer view abandons the transition while it waits (hand-overs, locks);
/// otherwise the transition ends and the next one follows at once.
class ownership_machine {
public:
  /// Pause after a failed or abandoned transition.
  static constexpr auto retry_pause = std::chrono::milliseconds{50};
  /// Pause between attempts to take a journal lock.
  static constexpr auto fence_pause = std::chrono::milliseconds{100};

  /// `durable`: the node journals, so dead writers are fenced and adopted.
  ownership_machine(std::string self_id, std::string incarnation, bool durable);

  /// The cluster actor saw the membership change.
  void view(membership m);

  /// Peer `from` released what it does not own among `live`.
  void handover(const std::string& from, std::vector<std::string> live);

  /// What to do now, when no step is under way (at start, after a `wait`).
  ownership_step next(mono_time now);

  /// Results of the steps, each answering the next step.
  ownership_step drained(const caf::error& err, mono_time now);
  ownership_step handed_over(const caf::error& err, mono_time now);
  ownership_step listed(const caf::expected<std::vector<std::string>>& writers,
                        mono_time now);
  ownership_step fenced(const caf::expected<bool>& got, mono_time now);
  ownership_step worked(caf::expected<std::vector<alert>> work, mono_time now);
  ownership_step restored(const caf::error& err, mono_time now);
  ownership_step journal_read(const caf::error& err, journal_share share,
                              mono_time now);
  ownership_step adopted(const caf::error& err, mono_time now);

  /// Ends whatever is under way (the node stops): the locks to give back.
  std::vector<std::string> abandon();

  /// The view events are routed by (the last one published).
  const ownership_view& routing() const { return routing_; }

  /// The live previous owners whose hand-over is still awaited.
  std::vector<std::string> awaited() const;

private:
  enum class phase : uint8_t {
    idle,       ///< no view, or the latest one took effect
    busy,       ///< a step is under way
    handovers,  ///< waiting for live previous owners' hand-overs
    fence_wait, ///< a journal lock was busy: try again at `until_`
    paused,     ///< a transition failed or was abandoned: until `until_`
  };

  /// The transition under way.
  struct transition {
    uint64_t version = 0;
    membership target;
    std::optional<std::vector<std::string>> before;
    /// Live previous owners whose hand-over is awaited.
    std::vector<std::string> awaited;
    /// Incarnations of previous owners gone without handing over.
    std::vector<std::string> gone;
    /// The journal locks to take, in order, and how many are taken.
    std::vector<std::string> locks;
    std::vector<std::string> held;
    /// Incarnations of live previous owners (with a journal): their
    /// forwarding ids are recalled before the held writers are read.
    std::vector<std::string> recall;
    /// The next journal to read: `recall`'s, then `held`'s.
    size_t next_read = 0;

    /// Where `next_read` is in `held` once past `recall`.
    size_t next_held() const { return next_read - recall.size(); }
  };

  ownership_step begin();
  ownership_step busy(ownership_step s);
  ownership_step fail(mono_time now);
  ownership_step after_handovers();
  ownership_step next_lock();
  ownership_step next_journal(mono_time now);
  ownership_step settle(mono_time now);
  bool outdated() const;
  bool handed_over_to(const std::string& peer,
                      const std::vector<std::string>& live) const;

  std::string self_id_;
  std::string incarnation_;
  bool durable_;
  std::optional<membership> latest_;
  uint64_t version_ = 0;
  /// The version of the last transition that took effect.
  uint64_t done_version_ = 0;
  std::map<std::string, std::vector<std::string>> handovers_;
  phase phase_ = phase::idle;
  mono_time until_{};
  transition t_;
  ownership_view routing_;
};

} // namespace argus::domain
