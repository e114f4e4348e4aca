// Alertmanager's API v2 under /am/{event_manager_id}: Prometheus posts its
// alerts here (`path_prefix: /am/<manager>`), and amtool adds and queries
// alerts (`--alertmanager.url=http://host:port/am/<manager>`). Replies are
// Alertmanager's: JSON bodies without Argus's envelope, errors as a JSON
// string.

#include "domain/admission.hpp"
#include "domain/alertmanager.hpp"
#include "domain/error.hpp"
#include "http/active_alerts.hpp"
#include "http/alertmanager_json.hpp"
#include "http/am_alert_reader.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"
#include "http/silence_json.hpp"

#include "version.hpp"

#include <algorithm>
#include <sstream>

namespace argus::http {

namespace {

using nlohmann::json;

/// The manager of a route, in the catalog snapshot it was found in (kept
/// alive here), so a request reads one snapshot throughout and copies no
/// manager (its receivers and severity map are a dozen allocations).
struct route_manager {
  std::shared_ptr<const domain::catalog> catalog;
  const domain::event_manager* manager = nullptr;
};

/// The manager of the route, if it exists in the catalog snapshot.
caf::expected<route_manager> manager_of(route_env& env,
                                        const httplib::Request& req) {
  auto id = req.matches[1].str();
  route_manager out{env.node.catalog_now()};
  auto it = out.catalog->managers.find(id);
  if (it == out.catalog->managers.end())
    return make_error(ec::not_found, "event manager '" + id + "' not found");
  out.manager = &it->second;
  return out;
}

/// Maps one posted alert to an event of `manager` and admits it through
/// the one admission path; the rule reads the alert's labels, annotations
/// and standard fields (`am_field`).
caf::expected<domain::event> am_event(const domain::catalog& catalog,
                                      const domain::event_manager& manager,
                                      const domain::postable_alert& posted,
                                      domain::time_point now) {
  auto admitted =
      domain::admit_am_alert(posted, manager.id, manager.am_severity, now);
  if (!admitted)
    return admitted.error();
  auto& e = admitted->ev;
  if (e.act == domain::action::trigger)
    e.expires_at = admitted->ends_at;
  e.details = am_details_text(posted, *admitted);
  // In place: the lookup reads the event's standard fields.
  auto fields = [&](const std::string& key) {
    return am_field(posted, *admitted, key);
  };
  if (auto err = domain::admit_in_place(e, catalog, fields, now))
    return err;
  return std::move(e);
}

/// The alerts of a post, each read or its error. The DOM-free reader
/// takes the body when it is sure of it (a DOM per post was the largest
/// cost of an Alertmanager post); else the body is parsed into a DOM and
/// each element read from it, which words every error.
caf::expected<std::vector<caf::expected<domain::postable_alert>>>
read_alerts(route_env& env, const httplib::Request& req) {
  std::vector<caf::expected<domain::postable_alert>> out;
  if (req.body.size() <= env.settings.server.max_body_bytes) {
    if (auto fast = read_postable_alerts(req.body)) {
      out.reserve(fast->size());
      for (auto& a : *fast)
        out.emplace_back(std::move(a));
      return out;
    }
  }
  auto body = read_body(env, req);
  if (!body)
    return std::move(body.error());
  if (!body->is_array())
    return make_error(ec::bad_request,
                      "request body must be a JSON array of alerts");
  out.reserve(body->size());
  for (auto& j : *body)
    out.push_back(parse_postable_alert(j));
  return out;
}

void post_alerts(route_env& env, const httplib::Request& req,
                 httplib::Response& res) {
  auto& stats = env.node.stats();
  auto& registry = env.node.registry();
  auto route = manager_of(env, req);
  if (!route)
    return reply_am_error(res, route.error());
  auto& manager = *route->manager;
  auto alerts = read_alerts(env, req);
  if (!alerts)
    return reply_am_error(res, alerts.error());
  auto limit = env.settings.server.max_batch_events;
  if (alerts->size() > limit)
    return reply_am_error(
        res, make_error(ec::payload_too_large,
                        "body has " + std::to_string(alerts->size()) +
                            " alerts; the limit is " + std::to_string(limit)));
  stats.events_received.fetch_add(alerts->size(), std::memory_order_relaxed);
  registry.event_received(metrics::front::am, alerts->size());
  if (auto err = env.node.check_backlog(alerts->size())) {
    registry.backpressure_refused(metrics::front::am, alerts->size());
    res.set_header("Retry-After", "1");
    return reply_am_error(res, err);
  }
  auto& catalog = *route->catalog;
  auto now = env.node.ctx->now();
  std::vector<domain::event> valid;
  valid.reserve(alerts->size());
  std::string errors;
  for (auto& posted : *alerts) {
    auto e = posted ? am_event(catalog, manager, *posted, now)
                    : caf::expected<domain::event>{posted.error()};
    if (e) {
      valid.push_back(std::move(*e));
      continue;
    }
    stats.events_rejected.fetch_add(1, std::memory_order_relaxed);
    registry.event_rejected(metrics::front::am);
    // As Alertmanager: the valid alerts are taken, and one 400 names the
    // problems of the others, joined by "; ".
    errors += (errors.empty() ? "" : "; ") + message_of(e.error());
  }
  // The valid alerts need the manager's tokens, all or none: a post over
  // the limit is refused whole, in Alertmanager's error shape.
  if (auto refusal = env.node.check_rate(valid)) {
    set_retry_after(res, *refusal);
    return reply_am_error(res, domain::to_error(*refusal));
  }
  auto taken = valid.size();
  if (auto err = env.node.ingest(std::move(valid))) {
    res.set_header("Retry-After", "1");
    return reply_am_error(res, err);
  }
  if (taken > 0)
    registry.event_accepted(metrics::front::am, manager.id, taken);
  if (!errors.empty())
    return reply_am_error(res, make_error(ec::bad_request, errors));
  res.status = 200;
}

/// Go's strconv.ParseBool, which Alertmanager's flags go through.
caf::error bool_param(const httplib::Request& req, const char* name,
                      bool& out) {
  if (!req.has_param(name))
    return {};
  auto text = req.get_param_value(name);
  for (auto t : {"1", "t", "T", "TRUE", "true", "True"})
    if (text == t)
      return out = true, caf::error{};
  for (auto f : {"0", "f", "F", "FALSE", "false", "False"})
    if (text == f)
      return out = false, caf::error{};
  return make_error(ec::bad_request, std::string{"query parameter '"} + name +
                                         "' must be true or false");
}

caf::expected<domain::am_query> query_of(const httplib::Request& req) {
  domain::am_query q;
  std::pair<const char*, bool*> flags[] = {{"active", &q.active},
                                           {"silenced", &q.silenced},
                                           {"inhibited", &q.inhibited},
                                           {"unprocessed", &q.unprocessed}};
  for (auto [name, flag] : flags)
    if (auto err = bool_param(req, name, *flag))
      return err;
  for (size_t i = 0; i < req.get_param_value_count("filter"); ++i) {
    auto ms = domain::parse_matchers(req.get_param_value("filter", i));
    if (!ms)
      return ms.error();
    q.filter.insert(q.filter.end(), ms->begin(), ms->end());
  }
  if (req.has_param("receiver")) {
    auto re = domain::parse_receiver_regex(req.get_param_value("receiver"));
    if (!re)
      return re.error();
    q.receiver = std::move(*re);
  }
  return q;
}

/// The manager's active alerts, all of them in one read: pages by offset
/// over a set that changes between them listed an alert twice when a newer
/// one opened, and skipped one when an older one resolved.
caf::expected<std::vector<domain::alert>>
manager_alerts(route_env& env, const std::string& manager) {
  return ask<std::vector<domain::alert>>(
      *env.node.system, env.node.repository, atom::list::value,
      domain::every_active_alert_of(manager));
}

void get_alerts(route_env& env, const httplib::Request& req,
                httplib::Response& res) {
  auto route = manager_of(env, req);
  if (!route)
    return reply_am_error(res, route.error());
  auto q = query_of(req);
  if (!q)
    return reply_am_error(res, q.error());
  auto found = manager_alerts(env, route->manager->id);
  if (!found)
    return reply_am_error(res, found.error());
  auto now = env.node.ctx->now();
  auto& catalog = route->catalog;
  // A silenced alert is in state `suppressed`: `silenced`, not `active`,
  // decides whether it is listed (amtool hides them unless `-s`).
  auto silenced_query = *q;
  silenced_query.active = q->silenced;
  // Each listed alert's text, by its fingerprint (its dedupKey): the reply
  // is sorted by it.
  std::vector<std::pair<std::string_view, std::string>> listed;
  // Without label matchers a listing writes most alerts it reads: one walk
  // of each alert's details reads what it filters on and what it writes.
  // With them, a walk reads the filter's part, and a second walk the rest
  // for the few listed: reading everything for every alert dropped cost a
  // filtered listing more than the second walk saves.
  auto parts = q->filter.empty() ? am_parts::both : am_parts::filter;
  for (auto& a : *found) {
    auto details = am_details_of(a, parts);
    // Only the alerts this API took: their dedupKey is their fingerprint.
    auto& labels = details.fields.labels;
    if (labels.empty() || domain::fingerprint(labels) != a.dedup_key)
      continue;
    std::vector<std::string> silences;
    if (!catalog->silences.empty())
      silences = domain::silenced_by(catalog->silences, a,
                                     am_details_reader(a, details), now);
    if (!domain::am_listed(silences.empty() ? *q : silenced_query, labels,
                           a.event_manager_id.str(), details.ends_at, now))
      continue;
    auto& text = listed.emplace_back(a.dedup_key, std::string{}).second;
    append_gettable_alert_text(text, a, details, silences);
  }
  std::sort(listed.begin(), listed.end(),
            [](auto& x, auto& y) { return x.first < y.first; });
  size_t size = 2 + listed.size(); // the brackets and commas
  for (auto& item : listed)
    size += item.second.size();
  std::string out;
  out.reserve(size);
  out.push_back('[');
  for (auto& [key, text] : listed) {
    if (out.size() > 1)
      out.push_back(',');
    out += text;
  }
  out.push_back(']');
  // set_content would copy it: megabytes for a manager's 10,000 alerts.
  res.body = std::move(out);
  res.headers.erase("Content-Type");
  res.set_header("Content-Type", "application/json");
}

/// `config.original`: what this "Alertmanager" is, in its YAML's spirit.
std::string config_text(const route_manager& route) {
  auto& m = *route.manager;
  std::ostringstream out;
  out << "# Argus " << ARGUS_VERSION << ", event manager '" << m.id << "'\n"
      << "route:\n  receiver: '" << m.id << "'\n";
  if (auto rule = route.catalog->rule_of(m.id)) {
    out << "  group_by: [";
    auto keys = domain::keys_of(*rule);
    for (size_t i = 0; i < keys.size(); ++i)
      out << (i == 0 ? "'" : ", '") << keys[i] << "'";
    out << "]\n  group_window: " << rule->time_window_seconds << "s\n";
  }
  out << "receivers:\n- name: '" << m.id << "'\n";
  return out.str();
}

void get_status(route_env& env, const httplib::Request& req,
                httplib::Response& res) {
  auto route = manager_of(env, req);
  if (!route)
    return reply_am_error(res, route.error());
  am_node_status s;
  s.version = ARGUS_VERSION;
  auto up = std::chrono::steady_clock::now() - env.node.started;
  s.started = env.node.ctx->now() - up;
  s.config_text = config_text(*route);
  if (auto c = env.node.cluster_state()) {
    s.node_id = c->node_id;
    s.settled = c->settled;
  }
  res.set_content(to_am_status(s).dump(), "application/json");
}

} // namespace

/// Alertmanager answers errors with the message as a JSON string; the
/// status comes from the one table.
void reply_am_error(httplib::Response& res, const caf::error& err) {
  res.status = http_error_of(code_of(err)).status;
  res.set_content(
      nlohmann::json(message_of(err))
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      "application/json");
}

void add_am_routes(router& svr, route_env& env) {
  svr.Post("/am/([^/]+)/api/v2/alerts",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_alerts(env, req, res);
           });
  svr.Get("/am/([^/]+)/api/v2/alerts",
          [&env](const httplib::Request& req, httplib::Response& res) {
            get_alerts(env, req, res);
          });
  svr.Get("/am/([^/]+)/api/v2/status",
          [&env](const httplib::Request& req, httplib::Response& res) {
            get_status(env, req, res);
          });
}

} // namespace argus::http
