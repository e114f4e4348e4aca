#include "domain/admission.hpp"
#include "domain/error.hpp"
#include "http/active_alerts.hpp"
#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"
#include "http/silence_json.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace argus::http {

namespace {

using nlohmann::json;
using alerts = std::vector<domain::alert>;

/// How HTTP names a field in its errors.
std::string query_parameter(const std::string& name) {
  return "query parameter '" + name + "'";
}

/// Reads an integer query parameter within [low, high].
caf::error int_param(const httplib::Request& req, const char* name, int64_t low,
                     int64_t high, int64_t& out) {
  if (!req.has_param(name))
    return {};
  auto text = req.get_param_value(name);
  int64_t value = 0;
  auto [end, ec_] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec_ != std::errc{} || end != text.data() + text.size() || value < low ||
      value > high)
    return domain::out_of_range(query_parameter(name), low, high);
  out = value;
  return {};
}

caf::expected<domain::alert_filter> filter_of(const httplib::Request& req) {
  domain::alert_filter f;
  f.event_manager_id = req.get_param_value("event_manager_id");
  f.status = req.get_param_value("status");
  f.type = req.get_param_value("type");
  // Status and type first, as the admin endpoint checks them; the numbers
  // are parsed and ranged by the same bounds.
  if (auto err = domain::check_filter(f, query_parameter))
    return err;
  if (auto err = int_param(req, "limit", 1, domain::max_alert_limit, f.limit))
    return err;
  if (auto err =
          int_param(req, "offset", 0, domain::max_alert_offset, f.offset))
    return err;
  return f;
}

/// The active alerts of the managers one response needs for
/// `inhibited_by`, read once per manager.
using active_cache = std::map<std::string, active_alerts>;

/// The dedupKeys of the active alerts that inhibit `a` now (none for a
/// resolved alert, or one no inhibit rule of its manager targets; the
/// manager's active alerts are read only for the others).
std::vector<std::string> inhibitors_of(const route_env& env,
                                       const domain::catalog& catalog,
                                       const domain::alert& a,
                                       active_cache& cache) {
  auto m = catalog.managers.find(a.event_manager_id.str());
  if (m == catalog.managers.end() ||
      !active_alerts::may_be_inhibited(m->second.inhibit_rules, a))
    return {};
  auto it = cache.find(a.event_manager_id.str());
  if (it == cache.end()) {
    auto found =
        ask<alerts>(*env.node.system, env.node.repository, atom::list::value,
                    domain::every_active_alert_of(a.event_manager_id.str()));
    it = cache
             .try_emplace(a.event_manager_id.str(), m->second.inhibit_rules,
                          found ? std::move(*found) : alerts{})
             .first;
  }
  return it->second.inhibitors_of(a);
}

/// An alert as the API shows it, with the ids of the active silences that
/// match it now (`silenced_by`) and the dedupKeys of the active alerts
/// that inhibit it (`inhibited_by`), computed at read time.
json alert_json(const route_env& env, const domain::alert& a,
                active_cache& cache) {
  auto out = to_json(a);
  auto catalog = env.node.catalog_now();
  out["silenced_by"] = silenced_by(catalog->silences, a, env.node.ctx->now());
  out["inhibited_by"] = inhibitors_of(env, *catalog, a, cache);
  return out;
}

json alert_json(const route_env& env, const domain::alert& a) {
  active_cache cache;
  return alert_json(env, a, cache);
}

json to_json_array(const route_env& env, const alerts& xs) {
  auto out = json::array();
  active_cache cache;
  for (auto& a : xs)
    out.push_back(alert_json(env, a, cache));
  return out;
}

/// The one alert with this dedupKey (of the manager given by the query, if
/// any). Several managers using the key without a choice is a conflict.
caf::expected<domain::alert> find_alert(route_env& env,
                                        const httplib::Request& req) {
  auto dedup = req.matches[1].str();
  auto manager = req.get_param_value("event_manager_id");
  auto found = ask<alerts>(*env.node.system, env.node.repository,
                           atom::get::value, manager, dedup);
  if (!found)
    return found.error();
  // Alerts of managers the key does not cover are not there for it.
  auto& who = current_principal();
  found->erase(std::remove_if(found->begin(), found->end(),
                              [&](const domain::alert& a) {
                                return !who.sees(a.event_manager_id.str());
                              }),
               found->end());
  return domain::single_alert(*found, dedup, "pass ?event_manager_id=");
}

/// The alerts `f` selects among the managers `scope` (a scoped key's):
/// each manager's first `offset + limit`, merged in the store's order
/// (newest first, then dedupKey), then paged.
caf::expected<alerts> list_scoped(route_env& env, domain::alert_filter f,
                                  const std::vector<std::string>& scope) {
  if (!f.event_manager_id.empty()) {
    if (std::find(scope.begin(), scope.end(), f.event_manager_id) ==
        scope.end())
      return alerts{};
    return ask<alerts>(*env.node.system, env.node.repository, atom::list::value,
                       f);
  }
  alerts merged;
  auto per_manager = f;
  per_manager.offset = 0;
  per_manager.limit = f.offset + f.limit;
  for (auto& m : scope) {
    per_manager.event_manager_id = m;
    auto found = ask<alerts>(*env.node.system, env.node.repository,
                             atom::list::value, per_manager);
    if (!found)
      return found.error();
    merged.insert(merged.end(), std::make_move_iterator(found->begin()),
                  std::make_move_iterator(found->end()));
  }
  domain::cut_page(merged, f.offset, f.limit);
  return merged;
}

/// `POST /v1/alerts/{dedupKey}/{acknowledge|unacknowledge|resolve}`: an
/// operator's action on an active alert, applied like the same action sent
/// as an event (a parent's acknowledgement covers its group; a resolved
/// parent with active children waits for them). Body, optional:
/// `{"by": "alice"}`.
void post_action(route_env& env, const httplib::Request& req,
                 httplib::Response& res) {
  auto act = domain::parse_action(req.matches[2].str());
  auto found = find_alert(env, req);
  if (!found)
    return reply_error(res, found.error());
  if (!found->is_active())
    return reply_error(res, ec::conflict,
                       "alert '" + found->dedup_key + "' is resolved");
  std::string by = "api";
  if (!req.body.empty()) {
    auto body = read_body(env, req);
    if (!body)
      return reply_error(res, body.error());
    if (!body->is_object())
      return reply_error(res, ec::bad_request,
                         "request body must be a JSON object");
    if (auto it = body->find("by"); it != body->end() && !it->is_null()) {
      if (!it->is_string() || it->get<std::string>().empty())
        return reply_error(res, ec::bad_request,
                           "field 'by' must be a non-empty string");
      by = it->get<std::string>();
    }
  }
  if (auto err = ingest_action(env, *found, *act, by)) {
    if (code_of(err) == ec::unavailable)
      res.set_header("Retry-After", "1");
    return reply_error(res, err);
  }
  reply_data(res, 202,
             {{"status", "accepted"},
              {"dedupKey", found->dedup_key},
              {"event_manager_id", found->event_manager_id},
              {"action", domain::to_string(*act)}});
}

} // namespace

void add_alert_routes(router& svr, route_env& env) {
  svr.Post("/v1/alerts/(.+)/(acknowledge|unacknowledge|resolve)",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_action(env, req, res);
           });
  svr.Get("/v1/alerts",
          [&env](const httplib::Request& req, httplib::Response& res) {
            auto filter = filter_of(req);
            if (!filter)
              return reply_error(res, filter.error());
            auto scope = current_principal().scope();
            auto found = scope.empty() ? ask<alerts>(*env.node.system,
                                                     env.node.repository,
                                                     atom::list::value, *filter)
                                       : list_scoped(env, *filter, scope);
            if (!found)
              return reply_error(res, found.error());
            reply_data(res, 200, to_json_array(env, *found));
          });
  svr.Get("/v1/alerts/(.+)/children", [&env](const httplib::Request& req,
                                             httplib::Response& res) {
    auto parent = find_alert(env, req);
    if (!parent)
      return reply_error(res, parent.error());
    if (!parent->is_parent())
      return reply_error(res, ec::bad_request,
                         "alert '" + parent->dedup_key +
                             "' is a child; only parents have children");
    auto found = ask<alerts>(
        *env.node.system, env.node.repository, atom::children::value,
        parent->event_manager_id.str(), parent->dedup_key.str());
    if (!found)
      return reply_error(res, found.error());
    reply_data(res, 200, to_json_array(env, *found));
  });
  svr.Get("/v1/alerts/(.+)",
          [&env](const httplib::Request& req, httplib::Response& res) {
            auto found = find_alert(env, req);
            if (!found)
              return reply_error(res, found.error());
            reply_data(res, 200, alert_json(env, *found));
          });
}

} // namespace argus::http
