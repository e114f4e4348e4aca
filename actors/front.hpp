#pragma once

#include "actors/actors.hpp"
#include "actors/catalog.hpp"
#include "actors/context.hpp"
#include "actors/ingest.hpp"
#include "actors/rate_limiter.hpp"
#include "actors/type_ids.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace argus::actors {

/// Clustered: this node's id, the live members it sees and whether their
/// split of the groups is in effect (no groups being taken over).
struct cluster_status {
  std::string node_id;
  std::vector<std::string> live;
  bool settled = false;
};

/// What every front door (HTTP routes, the admin actor, later fronts) needs
/// of its node. The composition root builds it once; fronts map their
/// input onto `domain/admission.hpp` and reach the node only through this.
struct front {
  caf::actor_system* system = nullptr;
  /// Accepts admitted events, blocking until they are (journal first when
  /// durability is on); an error means none was accepted. Only for threads
  /// that may block (HTTP workers).
  ingest_fn ingest;
  /// The same for actors, which must not block.
  ingest_actor ingest_handle;
  catalog_actor catalog;
  /// The catalog snapshot, read without a round trip.
  std::shared_ptr<const catalog_view> view;
  repository_actor repository;
  notifier_actor notifier;
  /// In node order (their group counts make `argusctl status`).
  std::vector<router_actor> routers;
  /// The clock and the metrics.
  context_ptr ctx;
  /// The storage backend's config name.
  std::string backend;
  std::chrono::steady_clock::time_point started;
  /// The bound on accepted-but-unfinished work (`ingest.max_pending_events`).
  uint64_t max_pending_events = 0;
  /// Per event manager rate limits (`rate_limit` config and each
  /// manager's own); unset: none.
  std::shared_ptr<rate_limiter> limiter;
  /// Clustered: the membership as ownership sees it; unset (or answering
  /// none) on a single node.
  std::function<std::optional<cluster_status>()> cluster;

  metrics& stats() const { return *ctx->stats; }
  /// The Prometheus families beyond `stats` (`GET /metrics`).
  ::argus::metrics::registry& registry() const { return *ctx->registry; }

  /// The catalog now (immutable; later changes publish a new one).
  std::shared_ptr<const domain::catalog> catalog_now() const {
    return view->get();
  }

  /// Admission's back-pressure decision for `incoming` more events.
  caf::error check_backlog(uint64_t incoming) const;

  /// Admission's rate-limit decision for admitted `events`, just before
  /// they are ingested: tokens for all of them or none, so a refused
  /// request is retried whole (HTTP: 429 with Retry-After).
  std::optional<domain::rate_refusal>
  check_rate(const std::vector<domain::event>& events) const;

  /// The membership when clustered.
  std::optional<cluster_status> cluster_state() const {
    return cluster ? cluster() : std::nullopt;
  }
};

/// The node's status from its own counters, as /healthz and `argusctl
/// status` report it; the store's alert counts and the routers' group
/// counts, which need requests, stay zero.
node_status local_status(const front& f, const std::string& node_id);

} // namespace argus::actors
