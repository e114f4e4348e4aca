#pragma once

#include "actors/actors.hpp"
#include "actors/catalog.hpp"
#include "actors/context.hpp"
#include "actors/front.hpp"
#include "actors/ingest.hpp"
#include "actors/journal.hpp"
#include "actors/ownership.hpp"
#include "actors/recovery.hpp"
#include "config/settings.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace argus::delivery {
class worker;
} // namespace argus::delivery

namespace argus::actors {

/// The exit status of a clustered node that a peer fenced (took for dead
/// and took over): it stops at once (see `ownership_hooks::fenced`).
constexpr int fenced_exit_status = 3;

/// Which of `routers` routers handles every event of this manager.
size_t router_index(std::string_view manager_id, size_t routers);

/// One Argus node, the composition root: the actor system and its
/// long-lived actors, started from settings with the state recovered from
/// the store, and the front door every front uses.
class node {
public:
  /// Opens the store, recovers rules, managers and open groups, and spawns
  /// the actors. `ctx` may inject a clock (tests).
  static caf::expected<std::unique_ptr<node>>
  start(const config::settings& settings,
        std::shared_ptr<context> ctx = std::make_shared<context>());

  ~node();

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  caf::actor_system& system() { return *system_; }

  /// Accepts validated events: with durability on, stores them in the
  /// journal first (and waits for that); then hands them to their routers
  /// in order. An error means none was accepted (answer 503).
  caf::error ingest(std::vector<domain::event> events);

  /// The ingest actor, for callers that must not block (e.g. the admin
  /// actor).
  const ingest_actor& ingest_handle() const { return ingest_; }

  /// The router that handles every event of this manager.
  const router_actor& router_for(const std::string& manager_id) const;

  const repository_actor& repository() const { return repository_; }
  const notifier_actor& notifier() const { return notifier_; }
  const catalog_actor& catalog() const { return catalog_; }
  metrics& stats() const { return *ctx_->stats; }
  ::argus::metrics::registry& registry() const { return *ctx_->registry; }
  const std::string& backend() const { return backend_; }

  /// What every front door (HTTP, the admin actor) reaches the node by.
  const front& front_door() const { return front_; }

  /// Clustered: this node's id, the live members it sees and whether their
  /// split of the groups is in effect.
  std::optional<cluster_status> cluster_state() const;

  /// The port the admin actor is published on (0: remoting is off).
  uint16_t admin_port() const { return admin_port_; }

  /// Waits until every event handed to the routers so far is applied and
  /// its changes are written to the store.
  caf::error drain();

  /// Closes the admin endpoint, drains, then stops every actor. Idempotent.
  void stop();

private:
  node() = default;

  /// Spawns the repository, notifier, catalog and routers.
  caf::error spawn_core(const config::settings& settings, recovered& state);

  /// Hands the routers the open groups, replays the journal and opens it
  /// for appends (durability on).
  caf::error recover_groups(const config::settings& settings, recovered& state);

  /// Fills `front_` once the actors it names exist.
  void build_front(const config::settings& settings);

  /// Spawns and publishes the admin actor, plus the cluster actor when
  /// clustered, and starts joining the seeds.
  caf::error start_admin(const config::settings& settings,
                         const std::string& incarnation);

  /// Ownership hooks over this node's routers, store and journal.
  void add_group_hooks(ownership_hooks& hooks);

  /// Ownership hooks that reach peers, and decide whether to take events.
  void add_event_hooks(ownership_hooks& hooks,
                       const config::settings& settings);

  /// Sends events to their routers, one message per router, in order.
  void deliver(std::vector<domain::event>& events);

  /// Rebuilds the groups of `alerts` in their routers and waits; `recent`
  /// guards a journal replay (see the router's restore).
  caf::error restore(std::vector<domain::alert> alerts,
                     std::vector<domain::alert> recent);

  /// Sends every router the request `send(self, router)` makes, all at
  /// once, and waits for each `ok`; the first error wins.
  template <class Send>
  caf::error ask_routers(Send send);

  /// `ask_all` from this thread's hidden actor (the front's and the
  /// cluster coordinator's threads ask peers many times over).
  template <class T, class Items, class Send, class Take>
  std::vector<caf::error> ask_all_from_thread(const Items& items, Send send,
                                              Take take);

  /// Journals (when on) and delivers events this node groups itself.
  caf::error accept(std::vector<domain::event> events);

  /// Clustered: the ownership that splits events between the members and
  /// hands groups over, plus the actors that take peers' events.
  caf::error start_cluster(const config::settings& settings,
                           std::unique_ptr<storage::journal_fence> fence,
                           const std::string& incarnation);

  /// Replays journaled events the store does not reflect yet, then waits
  /// until they are applied.
  caf::error replay(storage::journal_backend& backend,
                    uint64_t applied_through);

  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> system_;
  std::shared_ptr<context> ctx_;
  std::shared_ptr<catalog_view> view_;
  std::string backend_;
  std::chrono::steady_clock::time_point started_;
  front front_;
  repository_actor repository_;
  notifier_actor notifier_;
  /// Sends notifications from the outbox (shared with the notifier).
  std::shared_ptr<delivery::worker> worker_;
  catalog_actor catalog_;
  std::vector<router_actor> routers_;
  ingest_actor ingest_;
  /// Null when durability is off. Destroyed after the actor system, so the
  /// repository's trim callback never sees it gone.
  std::unique_ptr<journal> journal_;
  /// What the repository's trim callback reaches the journal through.
  std::shared_ptr<std::atomic<journal*>> journal_slot_ =
      std::make_shared<std::atomic<journal*>>(nullptr);
  admin_actor admin_;
  /// Null unless clustered.
  cluster_actor cluster_;
  std::unique_ptr<ownership> ownership_;
  std::string node_id_;
  std::vector<ingest_actor> receivers_;
  uint16_t admin_port_ = 0;
  bool admin_tls_ = false;
  bool stopped_ = false;
};

} // namespace argus::actors
