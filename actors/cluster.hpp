#pragma once

#include "actors/actors.hpp"
#include "actors/ingest.hpp"
#include "actors/ownership.hpp"

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

/// Cluster membership: who is in, who is live, who owns which group.
namespace argus::actors {

struct cluster_env {
  /// `cluster.node_id`.
  std::string node_id;
  /// This node's endpoint as peers reach it: `node.host:node.port`.
  std::string address;
  /// `cluster.seeds` without this node's own address.
  std::vector<std::string> seeds;
  /// Connect to peers through CAF's OpenSSL module (node.tls is set).
  bool tls = false;
  /// Where the open groups are counted from.
  repository_actor repository;
  /// Takes the catalog changes of peers.
  catalog_actor catalog;
  /// This process's journal id, which peers fence before taking over.
  std::string incarnation;
  /// Told every membership change, once the first round of seeds is done
  /// (joined through one, or none answered).
  std::function<void(cluster_view)> on_view;
  /// Told when a peer handed over.
  std::function<void(const std::string&, std::vector<std::string>)> on_handover;
  /// This node's routers, asked where a dedupKey is active.
  std::vector<router_actor> routers;
  /// Take events peers forward (journal and deliver), round robin.
  std::vector<ingest_actor> receivers;
};

struct cluster_state {
  static inline const char* name = "cluster";

  struct member {
    std::string address;
    std::string state; ///< up | down | left
    /// What we reach the peer through, monitored: its admin actor when we
    /// connected to it, its cluster actor when it joined us. Either takes
    /// `leave`. Null while it is not up.
    caf::actor handle;
    std::string incarnation;
  };

  /// Peers by node id (never this node).
  std::map<std::string, member> peers;
  /// Addresses with a connection attempt under way.
  std::map<std::string, bool> connecting;
  bool leaving = false;
  /// Seeds not tried yet in the first round: no view goes out before, so a
  /// node that restarts does not own everything for a moment.
  std::set<std::string> first_round;
  bool first_round_done = false;
  /// The next receiver of forwarded events.
  size_t next_receiver = 0;

  /// This node and its live peers: the members rendezvous hashing uses.
  std::vector<std::string> live(const std::string& self_id) const;
};

cluster_actor::behavior_type
cluster(cluster_actor::stateful_pointer<cluster_state> self, cluster_env env);

} // namespace argus::actors
