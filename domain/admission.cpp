#include "domain/admission.hpp"

#include "domain/error.hpp"

namespace argus::domain {

namespace {

/// Names the actions senders use; acknowledge and unacknowledge (operator
/// actions on an active alert) are documented with the alert endpoints.
caf::error bad_action() {
  return make_error(ec::validation_failed,
                    "field 'action' must be 'trigger' or 'resolve'");
}

caf::error bad_severity() {
  return make_error(ec::validation_failed,
                    "field 'severity' must be 'high', 'medium' or 'low'");
}

/// Whether key `value` is present and fits (`require_key` says why not):
/// a test without a caf::error, which every valid event would destroy.
bool key_ok(const std::string& value) {
  return !value.empty() && key_fits(value);
}

caf::error require_key(const char* field, const std::string& value) {
  if (value.empty())
    return make_error(ec::validation_failed,
                      std::string{"field '"} + field + "' is required");
  return check_key_length(field, value);
}

} // namespace

caf::error check_key_length(std::string_view field, std::string_view value) {
  if (key_fits(value))
    return {};
  return make_error(ec::validation_failed,
                    "field '" + std::string{field} + "' is longer than " +
                        std::to_string(max_key_bytes) + " bytes");
}

caf::expected<action> parse_event_action(std::string_view text) {
  if (auto act = parse_action(text))
    return *act;
  return bad_action();
}

caf::expected<severity> parse_event_severity(std::string_view text) {
  if (auto sev = parse_severity(text))
    return *sev;
  return bad_severity();
}

caf::error validate(const event& e) {
  if (!key_ok(e.event_manager_id))
    return require_key("event_manager_id", e.event_manager_id);
  if (!key_ok(e.dedup_key))
    return require_key("dedupKey", e.dedup_key);
  // Typed events from the wire may carry any byte in an enum.
  if (e.act != action::trigger && e.act != action::resolve &&
      e.act != action::acknowledge && e.act != action::unacknowledge)
    return bad_action();
  if (e.sev != severity::high && e.sev != severity::medium &&
      e.sev != severity::low)
    return bad_severity();
  if (e.act == action::trigger && e.summary.empty())
    return make_error(ec::validation_failed, "field 'summary' is required");
  return {};
}

caf::expected<event> admit(event e, const catalog& catalog,
                           const field_lookup& fields, time_point now) {
  if (auto err = admit_in_place(e, catalog, fields, now))
    return err;
  return e;
}

caf::error admit_in_place(event& e, const catalog& catalog,
                          const field_lookup& fields, time_point now) {
  if (auto err = validate(e))
    return err;
  auto manager = catalog.managers.find(e.event_manager_id);
  if (manager == catalog.managers.end())
    return make_error(ec::not_found,
                      "event manager '" + e.event_manager_id + "' not found");
  // How long an acknowledgement this event makes lasts.
  e.ack_timeout = manager->second.ack_timeout();
  // Whatever the sender set, the rule in force decides these.
  e.has_grouping_value = false;
  e.grouping_value.clear();
  e.window = {};
  auto rule = catalog.rule_of(manager->second); // not found again by id
  e.auto_resolve_after = auto_resolve_after(manager->second, rule);
  if (rule) {
    // One key, a dotted path or a tuple of keys (domain/catalog.hpp).
    if (auto value = grouping_value_of(*rule, fields)) {
      e.has_grouping_value = true;
      e.grouping_value = std::move(*value);
    }
    e.window = rule->window();
  }
  e.received_at = now;
  return {};
}

bool overloaded(uint64_t pending, uint64_t incoming, uint64_t bound) {
  return pending + incoming > bound;
}

caf::error check_backlog(uint64_t pending, uint64_t incoming, uint64_t bound) {
  if (!overloaded(pending, incoming, bound))
    return {};
  return make_error(ec::unavailable,
                    "ingestion is behind (" + std::to_string(pending) +
                        " events and alert changes pending); retry later");
}

caf::error out_of_range(const std::string& name, int64_t low, int64_t high) {
  return make_error(ec::bad_request, name + " must be an integer from " +
                                         std::to_string(low) + " to " +
                                         std::to_string(high));
}

std::optional<filter_field> invalid_field(const alert_filter& f) {
  if (!f.status.empty() && !parse_alert_status(f.status))
    return filter_field::status;
  if (!f.type.empty() && !parse_alert_type(f.type))
    return filter_field::type;
  if (f.limit < 1 || f.limit > max_alert_limit)
    return filter_field::limit;
  if (f.offset < 0 || f.offset > max_alert_offset)
    return filter_field::offset;
  return std::nullopt;
}

caf::error check_filter(const alert_filter& f, const field_namer& name) {
  auto field = invalid_field(f);
  if (!field)
    return {};
  switch (*field) {
  case filter_field::status:
    return make_error(ec::bad_request, name("status") + " must be 'active' or "
                                                        "'resolved'");
  case filter_field::type:
    return make_error(ec::bad_request,
                      name("type") + " must be 'parent' or 'child'");
  case filter_field::limit:
    return out_of_range(name("limit"), 1, max_alert_limit);
  case filter_field::offset:
    break;
  }
  return make_error(ec::bad_request, name("offset") + " must not be negative");
}

caf::error check_notification_limit(int64_t limit, const std::string& name) {
  if (limit < 1 || limit > max_notification_limit)
    return out_of_range(name, 1, max_notification_limit);
  return {};
}

caf::error check_notification_filter(const notification_filter& f,
                                     const field_namer& name) {
  if (auto err = check_notification_limit(f.limit, name("limit")))
    return err;
  if (!f.state.empty() && !parse_delivery_state(f.state))
    return make_error(
        ec::bad_request,
        name("state") +
            " must be one of pending, delivered, failed, suppressed");
  return {};
}

caf::expected<alert> single_alert(std::vector<alert>& found,
                                  const std::string& dedup,
                                  const std::string& choose) {
  if (found.empty())
    return make_error(ec::not_found, "alert '" + dedup + "' not found");
  if (found.size() > 1)
    return make_error(ec::conflict, "dedupKey '" + dedup + "' is used by " +
                                        std::to_string(found.size()) +
                                        " event managers; " + choose);
  return std::move(found.front());
}

} // namespace argus::domain
