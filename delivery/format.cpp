#include "delivery/format.hpp"

#include "delivery/signature.hpp"
#include "http/json.hpp"

#include <cctype>

namespace argus::delivery {

namespace {

using json = nlohmann::json;
using domain::notification_kind;
using http::details_of;
using http::time_or_null;

bool has_child(const envelope& e) {
  return e.kind == notification_kind::child_added &&
         !e.child->dedup_key.empty();
}

/// What names the group: its grouping value, or for a parent without one
/// (a group of its own) the parent's dedupKey.
std::string group_name(const domain::alert& parent) {
  return parent.has_grouping_value ? parent.grouping_value.str()
                                   : parent.dedup_key.str();
}

// --- argus ---------------------------------------------------------------

json argus_body(const domain::receiver& r, const envelope& e) {
  const domain::alert& p = *e.parent;
  json body{
      {"version", "1"},
      {"notification",
       {{"id", e.notification_id},
        {"type", domain::to_string(e.kind)},
        {"at", time_or_null(e.at)}}},
      {"receiver", r.name},
      {"manager", {{"id", p.event_manager_id}, {"name", e.manager_name}}},
      {"group",
       {{"event_manager_id", p.event_manager_id},
        {"grouping_value",
         p.has_grouping_value ? json(p.grouping_value) : json(nullptr)},
        {"parent_dedupKey", p.dedup_key},
        {"children", p.child_count},
        {"active_children", e.active_children}}},
      {"alert", http::to_json(p)},
  };
  if (has_child(e))
    body["child"] = http::to_json(*e.child);
  return body;
}

// --- alertmanager ---------------------------------------------------------

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 0xf];
    }
  }
  return out;
}

std::string fingerprint(const domain::alert& a) {
  // Alertmanager's fingerprint is 16 hex digits; the alert id is already a
  // stable hash of (manager, dedupKey).
  return a.id.with_text([](std::string_view id) {
    std::string hex;
    for (char c : id)
      if (c != '-' && hex.size() < 16)
        hex += c;
    return hex;
  });
}

json am_labels(const domain::alert& a) {
  json labels{
      {"alertname", a.class_name.empty() ? a.dedup_key : a.class_name.str()},
      {"dedupKey", a.dedup_key},
      {"event_manager_id", a.event_manager_id},
      {"severity", domain::to_string(a.sev)},
      {"type", domain::to_string(a.type)},
  };
  if (!a.class_name.empty())
    labels["class"] = a.class_name;
  if (a.has_grouping_value)
    labels["grouping_value"] = a.grouping_value;
  return labels;
}

json am_alert(const domain::alert& a, bool firing, const std::string& base) {
  json annotations{{"summary", a.summary}};
  if (a.is_parent())
    annotations["child_count"] = std::to_string(a.child_count);
  else
    annotations["parent_dedupKey"] = a.parent_dedup_key;
  return json{
      {"status", firing ? "firing" : "resolved"},
      {"labels", am_labels(a)},
      {"annotations", annotations},
      {"startsAt", domain::to_rfc3339(a.created_at)},
      // Alertmanager sends Go's zero time for alerts that have not ended.
      {"endsAt", firing ? std::string{"0001-01-01T00:00:00Z"}
                        : domain::to_rfc3339(a.resolved_at)},
      {"generatorURL",
       base.empty()
           ? base
           : base + "/v1/alerts/" + url_encode(a.dedup_key) +
                 "?event_manager_id=" + url_encode(a.event_manager_id)},
      {"fingerprint", fingerprint(a)},
  };
}

/// The key-value pairs that every alert of the list has alike.
json common(const json& alerts, const char* field) {
  json out = json::object();
  for (auto& [k, v] : alerts.front()[field].items()) {
    bool everywhere = true;
    for (auto& a : alerts)
      everywhere = everywhere && a[field].contains(k) && a[field][k] == v;
    if (everywhere)
      out[k] = v;
  }
  return out;
}

json alertmanager_body(const domain::receiver& r, const envelope& e) {
  const domain::alert& p = *e.parent;
  bool firing = e.kind != notification_kind::parent_resolved;
  json alerts = json::array({am_alert(p, firing, e.external_url)});
  if (has_child(e))
    alerts.push_back(am_alert(*e.child, true, e.external_url));
  json group_labels{{"event_manager_id", p.event_manager_id}};
  if (p.has_grouping_value)
    group_labels["grouping_value"] = p.grouping_value;
  else
    group_labels["dedupKey"] = p.dedup_key;
  return json{
      {"version", "4"},
      {"groupKey", "{}:{event_manager_id=\"" + p.event_manager_id +
                       "\", group=\"" + group_name(p) + "\"}"},
      {"truncatedAlerts", 0},
      {"status", firing ? "firing" : "resolved"},
      {"receiver", r.name},
      {"groupLabels", group_labels},
      {"commonLabels", common(alerts, "labels")},
      {"commonAnnotations", common(alerts, "annotations")},
      {"externalURL", e.external_url},
      {"alerts", alerts},
  };
}

// --- slack ----------------------------------------------------------------

/// Slack's mrkdwn treats &, < and > as control characters.
std::string slack_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

std::string slack_headline(const envelope& e) {
  const domain::alert& p = *e.parent;
  switch (e.kind) {
  case notification_kind::parent_opened:
    return "[FIRING] " + p.summary;
  case notification_kind::parent_resolved:
    return "[RESOLVED] " + p.summary;
  case notification_kind::child_added:
    return "[FIRING] " + p.summary + ": +1 " + e.child->summary;
  case notification_kind::parent_acknowledged:
    return "[ACKNOWLEDGED] " + p.summary +
           (p.acknowledged_by.empty() ? "" : " by " + p.acknowledged_by);
  }
  return p.summary;
}

json slack_body(const envelope& e) {
  const domain::alert& p = *e.parent;
  auto headline = slack_escape(slack_headline(e));
  auto manager = slack_escape(e.manager_name.empty() ? p.event_manager_id.str()
                                                     : e.manager_name);
  auto facts = "*Manager:* " + manager + "  *Group:* " +
               slack_escape(group_name(p)) + "  *Severity:* " +
               std::string{domain::to_string(p.sev)} + "  *Children:* " +
               std::to_string(e.active_children) + " active of " +
               std::to_string(p.child_count);
  json context = json::array({json{
      {"type", "mrkdwn"},
      {"text", "dedupKey `" + slack_escape(p.dedup_key) + "` · notification " +
                   e.notification_id + " · " + domain::to_rfc3339(e.at)},
  }});
  return json{
      {"text", headline + " (" + manager + ")"},
      {"blocks",
       json::array({
           json{{"type", "section"},
                {"text", {{"type", "mrkdwn"}, {"text", "*" + headline + "*"}}}},
           json{{"type", "section"},
                {"text", {{"type", "mrkdwn"}, {"text", facts}}}},
           json{{"type", "context"}, {"elements", context}},
       })},
  };
}

// --- pagerduty --------------------------------------------------------------

std::string_view pd_severity(domain::severity s) {
  switch (s) {
  case domain::severity::high:
    return "critical";
  case domain::severity::medium:
    return "error";
  case domain::severity::low:
    return "warning";
  }
  return "info";
}

/// One PagerDuty incident per group life: the parent's alert id is stable
/// for (manager, dedupKey), and a new parent of the group gets a new one.
std::string pd_dedup_key(const domain::alert& parent) {
  return "argus/" + parent.id.str();
}

json pagerduty_body(const domain::receiver& r, const envelope& e) {
  const domain::alert& p = *e.parent;
  bool resolve = e.kind == notification_kind::parent_resolved;
  bool ack = e.kind == notification_kind::parent_acknowledged;
  json body{
      {"routing_key", r.routing_key},
      {"event_action", resolve ? "resolve"
                       : ack   ? "acknowledge"
                               : "trigger"},
      {"dedup_key", pd_dedup_key(p)},
  };
  if (resolve || ack)
    return body; // PagerDuty ignores a payload on resolve and acknowledge
  json details{{"event_manager_id", p.event_manager_id},
               {"dedupKey", p.dedup_key},
               {"children", p.child_count},
               {"active_children", e.active_children},
               {"notification_id", e.notification_id},
               {"details", details_of(p.details)}};
  if (has_child(e))
    details["child"] = http::to_json(*e.child);
  body["payload"] = json{
      {"summary", p.summary.substr(0, 1024)},
      {"source", "argus/" + p.event_manager_id},
      {"severity", pd_severity(p.sev)},
      {"timestamp", domain::to_rfc3339(e.at)},
      {"group", group_name(p)},
      {"class", p.class_name},
      {"custom_details", details},
  };
  body["client"] = "Argus";
  if (!e.external_url.empty())
    body["client_url"] = e.external_url;
  return body;
}

} // namespace

json render(const domain::receiver& r, const envelope& e) {
  switch (r.format) {
  case domain::receiver_format::argus:
    return argus_body(r, e);
  case domain::receiver_format::alertmanager:
    return alertmanager_body(r, e);
  case domain::receiver_format::slack:
    return slack_body(e);
  case domain::receiver_format::pagerduty:
    return pagerduty_body(r, e);
  }
  return argus_body(r, e);
}

request make_request(const domain::receiver& r, const envelope& e,
                     int64_t unix_now) {
  request out;
  out.receiver = r.name;
  out.url = r.url;
  out.timeout_ms = r.timeout_ms;
  // Invalid UTF-8 (possible in event fields) becomes U+FFFD instead of
  // throwing: a receiver gets a readable body rather than nothing.
  out.body = render(r, e).dump(-1, ' ', false, json::error_handler_t::replace);
  out.headers.emplace_back("Content-Type", "application/json");
  out.headers.emplace_back("Idempotency-Key", e.notification_id);
  out.headers.emplace_back("X-Argus-Notification-Id", e.notification_id);
  if (!r.secret.empty())
    out.headers.emplace_back("X-Argus-Signature",
                             signature_header(r.secret, unix_now, out.body));
  for (auto& [name, value] : r.headers)
    out.headers.emplace_back(name, value);
  return out;
}

} // namespace argus::delivery
