#pragma once

#include "domain/admission.hpp"
#include "domain/alert.hpp"
#include "domain/catalog.hpp"
#include "domain/delivery.hpp"
#include "domain/event.hpp"
#include "domain/notification.hpp"

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

/// The only place JSON meets the domain: parsing requests into domain values
/// and turning domain values into the API's JSON.
namespace argus::http {

/// Parses a request body; invalid JSON or invalid UTF-8 is an error naming
/// the byte offset.
caf::expected<nlohmann::json> parse_body(const std::string& body);

/// What an event object says for one of its standard string fields.
struct event_field {
  /// Missing or null (both count as missing), a string, or another type.
  enum kind_t : uint8_t { absent, string, other } kind = absent;
  /// The string's text (unescaped) when `kind` is `string`.
  std::string_view text;
};

/// The standard fields of one event object, however it was parsed (the
/// DOM here, the fast path of http/event_json.hpp): both check them with
/// `make_event`, so they accept the same and word errors alike.
struct event_fields {
  event_field event_manager_id, action, dedup_key, summary, severity,
      class_name, acknowledged_by;

  /// The slot of standard field `name`; null for any other name (those go
  /// to `details`).
  event_field* slot(std::string_view name);

  /// The position of standard field `name` in the order of the members
  /// above (0 to 6), or -1 for any other name: what `slot` picks by,
  /// without an object to point into.
  static int index_of(std::string_view name);
};

/// Checks the standard fields of an event (in the order errors are
/// reported) and builds the domain event; details stay "{}", grouping
/// value and window unset.
caf::expected<domain::event> make_event(const event_fields& f);

/// `make_event` into `e`, a default-constructed event; on an error `e` is
/// left part-way and must be dropped.
caf::error fill_event(const event_fields& f, domain::event& e);

/// Validates one event object and builds the domain event (grouping value
/// and window still unset).
caf::expected<domain::event> parse_event(const nlohmann::json& j);

/// The value of field `key` as grouping text, if the event has it (strings
/// as they are, other values as compact JSON; null counts as missing): the
/// top-level field named `key`, else, for a dotted key, the field at that
/// path through nested objects (`labels.cluster`).
std::optional<std::string> grouping_text(const nlohmann::json& j,
                                         const std::string& key);

/// `grouping_text` into `out`; whether the event has the field.
bool grouping_value_of(const nlohmann::json& j, const std::string& key,
                       std::string& out);

/// Admission's view of an event body's top-level fields (see
/// `grouping_value_of`); `j` must outlive it.
domain::field_lookup fields_of(const nlohmann::json& j);

/// Builds a rule from a create (base = nullptr) or update (base = current)
/// body: fields present in `j` replace those of `base`.
caf::expected<domain::grouping_rule>
parse_rule(const nlohmann::json& j, const domain::grouping_rule* base);

caf::expected<domain::event_manager>
parse_manager(const nlohmann::json& j, const domain::event_manager* base);

/// Reads notification_config.receivers (an array). On an update, `base` is
/// the current list: a receiver of the same name keeps its secret unless
/// the body gives one.
caf::error parse_receivers(const nlohmann::json& j,
                           const std::vector<domain::receiver>* base,
                           std::vector<domain::receiver>& out);

/// A receiver for replies: its secret is never shown, only `secret_set`.
nlohmann::json to_json(const domain::receiver& r);

nlohmann::json to_json(const domain::alert& a);

/// RFC 3339 text of `t`, or null when unset.
nlohmann::json time_or_null(domain::time_point t);

/// An alert's stored details text as a JSON object (empty if unreadable).
nlohmann::json details_of(const std::string& text);
nlohmann::json to_json(const domain::grouping_rule& r);
nlohmann::json to_json(const domain::event_manager& m);
nlohmann::json to_json(const domain::notification& n);
nlohmann::json to_json(const domain::delivery& d);
/// A notification with its deliveries (GET /v1/notifications).
nlohmann::json to_json(const domain::notification_record& r);

/// An API key as listings show it: its prefix and state, never a secret.
nlohmann::json to_json(const domain::api_key& k, domain::time_point now);
nlohmann::json to_json(const domain::audit_entry& e);

/// What `POST /v1/keys` asks for: `role`, `managers` (or one `manager`),
/// and `expires_at` (RFC 3339) or `expires_in` (seconds, or text such as
/// `90d`). The record's role, managers and expiry are set.
caf::expected<domain::api_key> parse_key_request(const nlohmann::json& j,
                                                 domain::time_point now);

} // namespace argus::http
