#pragma once

#include "actors/actors.hpp"
#include "actors/catalog.hpp"
#include "actors/context.hpp"
#include "config/settings.hpp"
#include "delivery/outbox.hpp"
#include "delivery/worker.hpp"
#include "storage/store.hpp"

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

/// How a node wires delivery: the worker that drains the store's outbox and
/// the notifier's own view of it.
namespace argus::actors {

/// The repository for the delivery worker's reads of alerts and its
/// released openings: the worker starts before the repository is spawned,
/// so it waits here for the handle. Held weakly: the repository holds the
/// notifier, which holds the worker, which must not keep the repository
/// alive in turn.
class repository_slot {
public:
  explicit repository_slot(caf::actor_system& sys) : system_(&sys) {}

  void set(repository_actor hdl);

  /// The handle, waiting up to 10 s for it (invalid when it never came or
  /// the repository is gone).
  repository_actor wait();

  caf::actor_system& system() { return *system_; }

private:
  caf::actor_system* system_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool set_ = false;
  caf::weak_actor_ptr hdl_;
};

struct delivery_parts {
  /// The notifier's reads and manual retries.
  std::shared_ptr<delivery::outbox> reads;
  /// Sends what `owner`'s writes add to the outbox.
  std::shared_ptr<delivery::worker> worker;
};

/// Opens two outboxes over `store` (the worker's and the notifier's) and
/// starts the worker. `owner` is the node's incarnation when clustered, ''
/// otherwise. Receivers come from the published catalog at send time;
/// inhibition's active alerts and released openings go through `repo`.
caf::expected<delivery_parts>
start_delivery(const config::settings& settings, storage::store& store,
               std::shared_ptr<const catalog_view> view, context_ptr ctx,
               const std::string& owner,
               std::shared_ptr<repository_slot> repo = nullptr);

/// Whether a receiver of a manager asks for child_added (`context::
/// child_notices`); parent notifications are always made, as the record of
/// what happened.
std::function<bool(const std::string& manager_id)>
child_notices_of(std::shared_ptr<const catalog_view> view);

} // namespace argus::actors
