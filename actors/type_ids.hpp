#pragma once

#include "domain/alert.hpp"
#include "domain/catalog.hpp"
#include "domain/delivery.hpp"
#include "domain/event.hpp"
#include "domain/group_list.hpp"
#include "domain/keys.hpp"
#include "domain/notification.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

/// Atoms and message types of Argus. Atom texts are at most 10 characters
/// (CAF 0.17); message type names must be the same on every node.
namespace argus::atom {

using apply = caf::atom_constant<caf::atom("apply")>;
using expire = caf::atom_constant<caf::atom("expire")>;
using acknowledge = caf::atom_constant<caf::atom("ack")>;
using lapse = caf::atom_constant<caf::atom("lapse")>;
using stop = caf::atom_constant<caf::atom("stop")>;
using idle = caf::atom_constant<caf::atom("idle")>;
using failed = caf::atom_constant<caf::atom("failed")>;
using deactivate = caf::atom_constant<caf::atom("deactivate")>;
using reactivate = caf::atom_constant<caf::atom("reactivate")>;
using reroute = caf::atom_constant<caf::atom("reroute")>;
using restore = caf::atom_constant<caf::atom("restore")>;
using replayed = caf::atom_constant<caf::atom("replayed")>;
using drain = caf::atom_constant<caf::atom("drain")>;
using write = caf::atom_constant<caf::atom("write")>;
using flush = caf::atom_constant<caf::atom("flush")>;
using tick = caf::atom_constant<caf::atom("tick")>;
using list = caf::atom_constant<caf::atom("list")>;
using get = caf::atom_constant<caf::atom("get")>;
using children = caf::atom_constant<caf::atom("children")>;
using count = caf::atom_constant<caf::atom("count")>;
using put = caf::atom_constant<caf::atom("put")>;
using create = caf::atom_constant<caf::atom("create")>;
using update = caf::atom_constant<caf::atom("update")>;
using erase = caf::atom_constant<caf::atom("erase")>;
using rule = caf::atom_constant<caf::atom("rule")>;
using silence = caf::atom_constant<caf::atom("silence")>;
using manager = caf::atom_constant<caf::atom("manager")>;
using notify = caf::atom_constant<caf::atom("notify")>;
using ok = caf::atom_constant<caf::atom("ok")>;
using status = caf::atom_constant<caf::atom("status")>;
using alert = caf::atom_constant<caf::atom("alert")>;
using ingest = caf::atom_constant<caf::atom("ingest")>;
using groups = caf::atom_constant<caf::atom("groups")>;
using join = caf::atom_constant<caf::atom("join")>;
using leave = caf::atom_constant<caf::atom("leave")>;
using members = caf::atom_constant<caf::atom("members")>;
using reconnect = caf::atom_constant<caf::atom("reconnect")>;
using sync = caf::atom_constant<caf::atom("sync")>;
using publish = caf::atom_constant<caf::atom("publish")>;
using release = caf::atom_constant<caf::atom("release")>;
using forward = caf::atom_constant<caf::atom("forward")>;
using handover = caf::atom_constant<caf::atom("handover")>;
using peek = caf::atom_constant<caf::atom("peek")>;
using retry = caf::atom_constant<caf::atom("retry")>;
using key = caf::atom_constant<caf::atom("key")>;
using audit = caf::atom_constant<caf::atom("audit")>;

} // namespace argus::atom

namespace argus::actors {

/// A node's vital signs, as `argusctl status` shows them.
struct node_status {
  std::string node_id;
  std::string version;
  /// The storage backend's config name.
  std::string storage;
  int64_t uptime_seconds = 0;
  uint64_t events_received = 0;
  uint64_t events_accepted = 0;
  uint64_t events_rejected = 0;
  uint64_t events_processed = 0;
  uint64_t events_ignored = 0;
  /// Accepted events not yet applied: what waits in the router and grouping
  /// mailboxes.
  uint64_t events_queued = 0;
  int64_t alerts_active = 0;
  int64_t alerts_resolved = 0;
  /// Live grouping actors of each router; their sum is the node's total.
  std::vector<uint64_t> groups_per_router;
  uint64_t notifications = 0;
  uint64_t store_errors = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("argus.node_status"), x.node_id, x.version,
           x.storage, x.uptime_seconds, x.events_received, x.events_accepted,
           x.events_rejected, x.events_processed, x.events_ignored,
           x.events_queued, x.alerts_active, x.alerts_resolved,
           x.groups_per_router, x.notifications, x.store_errors);
}

/// One active parent alert and the group it heads: its grouping value,
/// children and window.
struct group_view {
  std::string event_manager_id;
  /// False for a parent whose event lacked the grouping field.
  bool has_value = false;
  std::string grouping_value;
  std::string parent_dedup_key;
  std::string summary;
  /// Children the parent gathered; `active_children` of them are active.
  int64_t child_count = 0;
  int64_t active_children = 0;
  bool resolve_requested = false;
  /// Until when later triggers join as children (`no_time` without value).
  domain::time_point window_ends_at{};
  /// What is left of the window at the node's clock; zero once it closed.
  domain::duration window_left{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_view& x) {
  return f(caf::meta::type_name("argus.group_view"), x.event_manager_id,
           x.has_value, x.grouping_value, x.parent_dedup_key, x.summary,
           x.child_count, x.active_children, x.resolve_requested,
           x.window_ends_at, x.window_left);
}

/// An event sent by argusctl: mapped by the same parser as HTTP bodies, plus
/// its top-level string fields, from which the node takes the grouping value
/// that the manager's rule names (as it does for an HTTP body).
struct event_submission {
  domain::event event;
  std::map<std::string, std::string> fields;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, event_submission& x) {
  return f(caf::meta::type_name("argus.event_submission"), x.event, x.fields);
}

/// One member of a cluster as a node sees it, for `argusctl cluster` and
/// the membership exchange between nodes.
struct member_info {
  /// `cluster.node_id`.
  std::string node_id;
  /// Its node endpoint, `node.host:node.port`.
  std::string address;
  /// `up`, `down` (its connection broke), `left` (it left cleanly) or
  /// `leaving`.
  std::string state;
  /// True for the node that answers.
  bool self = false;
  /// Open groups (active parents in the shared store) it owns by rendezvous
  /// hashing over the live members; 0 unless it is live.
  uint64_t groups = 0;
  /// The id its journal records and lock carry in the shared store; new at
  /// every start of the process.
  std::string incarnation;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, member_info& x) {
  return f(caf::meta::type_name("argus.member_info"), x.node_id, x.address,
           x.state, x.self, x.groups, x.incarnation);
}

/// One change to the rules and managers, already persisted in the store the
/// cluster shares: what a node tells the others so that their catalogs
/// follow.
struct catalog_change {
  enum kind_t : uint8_t {
    put_rule = 0,
    put_manager = 1,
    erase_rule = 2,
    erase_manager = 3,
    put_silence = 4,
    put_key = 5
  };
  uint8_t kind = put_rule;
  domain::grouping_rule rule;    ///< for put_rule
  domain::event_manager manager; ///< for put_manager
  std::string id;                ///< for the erase kinds
  domain::silence silence{};     ///< for put_silence
  domain::api_key key{};         ///< for put_key (created or revoked)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, catalog_change& x) {
  return f(caf::meta::type_name("argus.catalog_change"), x.kind, x.rule,
           x.manager, x.id, x.silence, x.key);
}

/// Registers every Argus message type; call on every node before the actor
/// system is built.
void register_types(caf::actor_system_config& cfg);

} // namespace argus::actors
