#pragma once

#include "domain/catalog.hpp"
#include "domain/event.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

/// PagerDuty Events API v2 (`POST /v2/enqueue`): its body mapped to an Argus
/// event, and its replies, word for word as PagerDuty answers
/// (docs/pagerduty-events-v2.md lists the sources and the cases).
namespace argus::http::pagerduty {

/// PagerDuty's documented limits.
inline constexpr size_t max_body_bytes = 512 * 1024;
inline constexpr size_t routing_key_length = domain::routing_key_length;
inline constexpr size_t max_summary_chars = 1024;
inline constexpr size_t max_dedup_key_chars = 255;

/// A valid PagerDuty event, mapped.
struct mapped {
  /// Manager, action, dedupKey (generated for a trigger without one),
  /// summary, severity, class, details and actor; grouping value and window
  /// are still unset.
  domain::event e;
  /// What the manager's grouping key looks into: the body without its
  /// routing key, with the payload's fields also at the top level (so
  /// `component` and `payload.component` both work).
  nlohmann::json view;
};

/// A reply in PagerDuty's shape.
struct reply {
  int status = 400;
  nlohmann::json body;
};

/// Finds the event manager a routing key belongs to.
using manager_lookup =
    std::function<std::optional<std::string>(const std::string& routing_key)>;

/// Maps a request body. Any fault gives the 400 that names every fault, an
/// unknown routing key included; a body that is not a JSON object gives
/// PagerDuty's "Unrecognized object".
std::variant<mapped, reply> parse(const std::string& body,
                                  const manager_lookup& manager_of);

/// 202 `{"status":"success","message":"Event processed","dedup_key":...}`.
reply accepted(const std::string& dedup_key);

/// 400 `{"status":"invalid event","message":"Event object is invalid",
/// "errors":[...]}`.
reply invalid(std::vector<std::string> errors);

/// 401 or 403 in PagerDuty's error shape: no valid key, or a key that may
/// not send for the manager.
reply refused(int status, const std::string& message);

/// 429 with PagerDuty's error shape: the node is behind, or the event
/// manager is over its rate limit (named in `errors`); retry later.
reply throttled(std::vector<std::string> errors = {});

/// The severity PagerDuty names, in Argus's scale: critical and error are
/// high, warning medium, info low.
std::optional<domain::severity> parse_severity(const std::string& text);

} // namespace argus::http::pagerduty
