#pragma once

#include "actors/type_ids.hpp"

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <functional>
#include <vector>

namespace argus::actors {

/// The INGEST actor: accepts events for actors that must not block (the
/// admin actor). Spawned detached, on a thread of its own, because accepting
/// may wait for the journal's fsync.
using ingest_actor = caf::typed_actor<
    /// Accepts events (journaled first when durability is on); answers once
    /// they are accepted, or with the reason they are not.
    caf::replies_to<atom::apply, std::vector<domain::event>>::with<atom::ok>>;

using ingest_fn = std::function<caf::error(std::vector<domain::event>)>;

ingest_actor::behavior_type ingest(ingest_actor::pointer self, ingest_fn fn);

} // namespace argus::actors
