#include "actors/rate_limiter.hpp"

#include <algorithm>

namespace argus::actors {

rate_limiter::rate_limiter(domain::rate_limit node_default,
                           std::shared_ptr<::argus::metrics::registry> registry)
    : default_(domain::normalized(node_default)),
      registry_(std::move(registry)) {}

domain::rate_limit rate_limiter::limit_of(const domain::catalog& catalog,
                                          const std::string& manager) const {
  auto it = catalog.managers.find(manager);
  if (it == catalog.managers.end())
    return default_;
  return domain::rate_limit_of(it->second, default_);
}

std::optional<domain::rate_refusal>
rate_limiter::admit(const domain::catalog& catalog,
                    const std::vector<domain::event>& events,
                    domain::time_point now) {
  // Events of one manager usually come together: one lookup per run. The
  // list of demands is only allocated once a limited manager shows up.
  std::vector<demand> demands;
  const std::string* run = nullptr;
  demand* current = nullptr;
  for (auto& e : events) {
    if (run != nullptr && *run == e.event_manager_id) {
      if (current != nullptr)
        ++current->events;
      continue;
    }
    run = &e.event_manager_id;
    current = nullptr;
    auto known = std::find_if(demands.begin(), demands.end(), [&](auto& d) {
      return *d.manager == e.event_manager_id;
    });
    if (known != demands.end()) {
      current = &*known;
      ++current->events;
      continue;
    }
    auto limit = limit_of(catalog, e.event_manager_id);
    if (limit.unlimited())
      continue;
    demands.push_back({&e.event_manager_id, limit, 1, nullptr});
    current = &demands.back();
  }
  if (demands.empty())
    return std::nullopt;
  std::optional<domain::rate_refusal> refusal;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& d : demands) {
      // References into an unordered_map survive later insertions.
      d.bucket = &buckets_[*d.manager];
      domain::refill(*d.bucket, d.limit, now);
      auto decision = domain::can_take(*d.bucket, d.limit, d.events);
      if (decision)
        continue;
      if (!refusal)
        refusal = domain::rate_refusal{*d.manager, d.limit, d.events,
                                       decision.retry_after};
      else
        refusal->retry_after =
            std::max(refusal->retry_after, decision.retry_after);
      if (registry_)
        registry_->rate_limited(*d.manager, d.events);
    }
    if (!refusal)
      for (auto& d : demands)
        domain::take(*d.bucket, d.events);
  }
  return refusal;
}

} // namespace argus::actors
