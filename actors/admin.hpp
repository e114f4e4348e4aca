#pragma once

#include "actors/actors.hpp"
#include "actors/catalog.hpp"
#include "actors/context.hpp"
#include "actors/ingest.hpp"
#include "config/settings.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

/// The admin endpoint: the actor argusctl talks to, and the remoting setup
/// that the node and argusctl share.
namespace argus::actors {

/// The node's actors and facts the admin actor works with.
struct admin_env {
  catalog_actor catalog;
  repository_actor repository;
  notifier_actor notifier;
  /// In node order: events of a manager go to
  /// `routers[router_index(manager, routers.size())]`.
  std::vector<router_actor> routers;
  /// Accepts events for the node (journal first, then the routers).
  ingest_actor ingest;
  std::shared_ptr<catalog_view> view;
  context_ptr ctx;
  std::string backend;
  std::chrono::steady_clock::time_point started;
  /// The bound on accepted-but-unapplied events (`ingest.max_pending_events`).
  size_t max_pending_events = 0;
  /// This node's membership; null when it is not clustered.
  cluster_actor cluster;
  /// Starts the node's orderly shutdown (argusctl drain, once the node left
  /// its cluster).
  std::function<void()> shutdown;
};

struct admin_state {
  static inline const char* name = "admin";
};

admin_actor::behavior_type
admin(admin_actor::stateful_pointer<admin_state> self, admin_env env);

/// Loads CAF's middleman into `cfg`, plus its OpenSSL module with `tls`'s
/// files when TLS is enabled. Setting any OpenSSL file turns on mutual
/// certificate verification in CAF, so all three are set or none.
void enable_remoting(caf::actor_system_config& cfg,
                     const config::tls_settings& tls);

/// Loads the TLS files the way CAF's OpenSSL module will at the first
/// connection, where a bad file aborts the process. Call it before building
/// the actor system. `prefix` names the settings in errors ("node.tls.",
/// "--tls-").
caf::error check_tls(const config::tls_settings& tls,
                     const std::string& prefix);

/// Publishes `admin` on `host:port` (TLS when `tls` is true); returns the
/// bound port.
caf::expected<uint16_t> publish_admin(const admin_actor& admin,
                                      const std::string& host, uint16_t port,
                                      bool tls);

/// Closes the admin endpoint on `port` (blocking; not inside an actor).
void unpublish_admin(const admin_actor& admin, uint16_t port, bool tls);

} // namespace argus::actors
