#pragma once

#include "domain/catalog.hpp"
#include "domain/event.hpp"
#include "domain/rate_limit.hpp"
#include "domain/text_hash.hpp"
#include "metrics/registry.hpp"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace argus::actors {

/// The token buckets of this node's event managers, shared by every front
/// (HTTP workers, the admin actor); the rules are `domain/rate_limit.hpp`.
/// Limits are per node: each node counts only what it admits.
///
/// Thread-safe. Events of managers without a limit (the default) cost a
/// catalog lookup per run of one manager's events, no lock and no
/// allocation; limited managers share one short critical section.
class rate_limiter {
public:
  /// `node_default` applies to managers without a limit of their own;
  /// refusals are counted in `registry` (may be null).
  rate_limiter(domain::rate_limit node_default,
               std::shared_ptr<::argus::metrics::registry> registry);

  /// Takes one token per event from each manager's bucket: for every
  /// manager of the request or, when any of them is short, for none (the
  /// whole request is refused and its over-limit managers' events are
  /// counted in `argus_rate_limited_total`). Events of managers `catalog`
  /// lacks fall under the node's default.
  std::optional<domain::rate_refusal>
  admit(const domain::catalog& catalog,
        const std::vector<domain::event>& events, domain::time_point now);

  const domain::rate_limit& node_default() const { return default_; }

private:
  /// What one request asks of one limited manager.
  struct demand {
    const std::string* manager;
    domain::rate_limit limit;
    uint64_t events;
    domain::token_bucket* bucket;
  };

  domain::rate_limit limit_of(const domain::catalog& catalog,
                              const std::string& manager) const;

  domain::rate_limit default_;
  std::shared_ptr<::argus::metrics::registry> registry_;
  std::mutex mtx_; // guards buckets_
  std::unordered_map<std::string, domain::token_bucket, domain::text_hasher>
      buckets_;
};

} // namespace argus::actors
