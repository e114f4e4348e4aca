#pragma once

#include "domain/alert.hpp"
#include "domain/notification.hpp"
#include "domain/receiver.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

/// The outgoing bodies, one per receiver format (documented in the README),
/// and the HTTP request that carries them. JSON meets the domain here too,
/// for the outgoing side only.
namespace argus::delivery {

/// Everything a body tells about one notification.
struct envelope {
  /// The notification's stable id.
  std::string notification_id;
  domain::notification_kind kind = domain::notification_kind::parent_opened;
  domain::time_point at{};
  /// The parent alert as it was when the notification was made.
  domain::shared_alert parent;
  /// child_added only: the child that joined (the empty alert otherwise).
  domain::shared_alert child;
  /// The parent's children still active (child_count counts all of them).
  int64_t active_children = 0;
  std::string manager_name;
  /// Argus's base URL for links back (alertmanager's externalURL, ...);
  /// empty when not configured.
  std::string external_url;
};

/// The body for receiver `r` in its format.
nlohmann::json render(const domain::receiver& r, const envelope& e);

/// One HTTP POST to a receiver.
struct request {
  /// The caller's handle for the answer.
  uint64_t token = 0;
  /// Concurrency is bounded per receiver: this names it.
  std::string receiver;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t timeout_ms = 10000;
};

/// The request for `r`: the rendered body; Content-Type, Idempotency-Key and
/// X-Argus-Notification-Id (the notification id); X-Argus-Signature when the
/// receiver has a secret (`unix_now` is its timestamp); the receiver's own
/// headers.
request make_request(const domain::receiver& r, const envelope& e,
                     int64_t unix_now);

} // namespace argus::delivery
