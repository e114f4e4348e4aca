#pragma once

#include "domain/notification.hpp"
#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Where an event manager's notifications go: its receivers, each an HTTP
/// endpoint with a body format.
namespace argus::domain {

/// The JSON body a receiver gets (documented in the README).
enum class receiver_format : uint8_t { argus, alertmanager, slack, pagerduty };

std::string_view to_string(receiver_format x);
std::optional<receiver_format> parse_receiver_format(std::string_view text);
std::optional<notification_kind> parse_notification_kind(std::string_view text);

/// One destination of notifications.
struct receiver {
  /// Unique within its event manager; names the receiver in the outbox.
  std::string name;
  /// http:// or https:// endpoint that gets a POST per notification.
  std::string url;
  receiver_format format = receiver_format::argus;
  /// Extra request headers (e.g. an API token the receiver wants).
  std::map<std::string, std::string> headers;
  /// With a secret, each body is signed (X-Argus-Signature). Never read back.
  std::string secret;
  /// The whole request (connect, send, answer) must finish within this.
  int64_t timeout_ms = 10000;
  /// The notification kinds this receiver wants.
  std::vector<notification_kind> types = {notification_kind::parent_opened,
                                          notification_kind::parent_resolved};
  /// With child_added in `types`: at most this many per group and minute;
  /// the rest of that minute's child_added notifications are skipped.
  int64_t child_added_per_minute = 10;
  /// PagerDuty's integration key (the `pagerduty` format requires it).
  std::string routing_key;

  bool wants(notification_kind kind) const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, receiver& x) {
  return f(caf::meta::type_name("argus.receiver"), x.name, x.url, x.format,
           x.headers, x.secret, x.timeout_ms, x.types, x.child_added_per_minute,
           x.routing_key);
}

/// The most receivers one event manager may have.
inline constexpr size_t max_receivers = 16;

/// The name of the receiver that a manager's legacy `webhook_url` becomes.
inline constexpr std::string_view webhook_receiver_name = "webhook";

/// Checks one receiver; the message names the field, prefixed by `where`
/// (e.g. "notification_config.receivers[0]").
caf::error validate(const receiver& r, const std::string& where);

/// Checks a manager's list: each receiver, unique names, at most
/// `max_receivers`.
caf::error validate(const std::vector<receiver>& rs);

/// The receiver a legacy `webhook_url` stands for: `argus` format, defaults
/// otherwise.
receiver webhook_receiver(const std::string& url);

/// Headers Argus sets itself; a receiver's `headers` may not override them.
bool is_reserved_header(std::string_view name);

/// Fixed one-minute windows counting child_added notifications of one
/// (receiver, group): the per-group rate cap.
struct rate_window {
  time_point start{};
  int64_t count = 0;
};

/// Whether one more child_added may go out now under `per_minute`; counts it
/// when it may.
bool admit(rate_window& w, int64_t per_minute, time_point now);

} // namespace argus::domain
