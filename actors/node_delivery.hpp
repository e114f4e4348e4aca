#pragma once

#include "actors/catalog.hpp"
#include "actors/context.hpp"
#include "config/settings.hpp"
#include "delivery/outbox.hpp"
#include "delivery/worker.hpp"
#include "storage/store.hpp"

#include <functional>
#include <memory>
#include <string>

/// How a node wires delivery: the worker that drains the store's outbox and
/// the notifier's own view of it.
namespace argus::actors {

struct delivery_parts {
  /// The notifier's reads and manual retries.
  std::shared_ptr<delivery::outbox> reads;
  /// Sends what `owner`'s writes add to the outbox.
  std::shared_ptr<delivery::worker> worker;
};

/// Opens two outboxes over `store` (the worker's and the notifier's) and
/// starts the worker. `owner` is the node's incarnation when clustered, ''
/// otherwise. Receivers come from the published catalog at send time.
caf::expected<delivery_parts>
start_delivery(const config::settings& settings, storage::store& store,
               std::shared_ptr<const catalog_view> view, context_ptr ctx,
               const std::string& owner);

/// Whether a receiver of a manager asks for child_added (`context::
/// child_notices`); parent notifications are always made, as the record of
/// what happened.
std::function<bool(const std::string& manager_id)>
child_notices_of(std::shared_ptr<const catalog_view> view);

} // namespace argus::actors
