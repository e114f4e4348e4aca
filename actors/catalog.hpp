#pragma once

#include "actors/actors.hpp"
#include "actors/context.hpp"
#include "domain/catalog.hpp"

#include <caf/stateful_actor.hpp>

#include <functional>
#include <memory>

namespace argus::actors {

/// The latest published catalog. The catalog actor replaces it after each
/// change; HTTP threads read it lock-free and never see a half-applied one.
class catalog_view {
public:
  catalog_view() : current_(std::make_shared<const domain::catalog>()) {}

  std::shared_ptr<const domain::catalog> get() const {
    return std::atomic_load(&current_);
  }

  void set(std::shared_ptr<const domain::catalog> next) {
    std::atomic_store(&current_, std::move(next));
  }

  /// Who hears of each change this node makes (the cluster). Set once at
  /// start, before the first change.
  std::function<void(const catalog_change&)> on_change;

private:
  std::shared_ptr<const domain::catalog> current_;
};

struct catalog_state {
  domain::catalog current;
  static inline const char* name = "catalog";
};

/// Applies `change` to `c`.
void apply_change(domain::catalog& c, const catalog_change& change);

/// Starts from `initial` (loaded from the store) and publishes to `view`.
catalog_actor::behavior_type
catalog(catalog_actor::stateful_pointer<catalog_state> self,
        domain::catalog initial, repository_actor repository,
        std::shared_ptr<catalog_view> view, context_ptr ctx);

} // namespace argus::actors
