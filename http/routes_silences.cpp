// Silences: `/v1/silences` in Argus's envelope, and Alertmanager's
// `/am/{manager}/api/v2/silences` and `/silence/{id}` in its own shapes, so
// `amtool silence add|query|expire` works unchanged. Reads come from the
// published catalog; writes go through the catalog actor.

#include "domain/error.hpp"
#include "domain/labels.hpp"
#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/routes.hpp"
#include "http/silence_json.hpp"

#include <algorithm>

namespace argus::http {

namespace {

using domain::silence;
using nlohmann::json;

/// Whether the request's key sees silence `s`: those of every manager, and
/// those of the managers it covers.
bool visible(const silence& s) {
  return s.event_manager_id.empty() ||
         current_principal().sees(s.event_manager_id);
}

std::optional<silence> find_silence(route_env& env, const std::string& id) {
  auto catalog = env.node.catalog_now();
  auto it = catalog->silences.find(id);
  if (it == catalog->silences.end() || !visible(it->second))
    return std::nullopt;
  return it->second;
}

caf::error not_found(const std::string& id) {
  return make_error(ec::not_found, "silence '" + id + "' not found");
}

/// Creates (`base` null) or replaces a silence from the request body.
caf::expected<silence> write_silence(route_env& env,
                                     const httplib::Request& req,
                                     const silence* base) {
  auto body = read_body(env, req);
  if (!body)
    return body.error();
  auto s = parse_silence(*body, base, env.node.ctx->now());
  if (!s)
    return s.error();
  if (base == nullptr)
    return ask<silence>(*env.node.system, env.node.catalog, atom::create::value,
                        std::move(*s));
  return ask<silence>(*env.node.system, env.node.catalog, atom::update::value,
                      std::move(*s));
}

void add_v1_routes(router& svr, route_env& env) {
  svr.Get("/v1/silences",
          [&env](const httplib::Request&, httplib::Response& res) {
            auto now = env.node.ctx->now();
            auto out = json::array();
            for (auto& [id, s] : env.node.catalog_now()->silences)
              if (visible(s))
                out.push_back(to_json(s, now));
            reply_data(res, 200, out);
          });
  svr.Post("/v1/silences",
           [&env](const httplib::Request& req, httplib::Response& res) {
             auto created = write_silence(env, req, nullptr);
             if (!created)
               return reply_error(res, created.error());
             reply_data(res, 201, to_json(*created, env.node.ctx->now()));
           });
  svr.Get("/v1/silences/([^/]+)",
          [&env](const httplib::Request& req, httplib::Response& res) {
            auto id = req.matches[1].str();
            auto s = find_silence(env, id);
            if (!s)
              return reply_error(res, not_found(id));
            reply_data(res, 200, to_json(*s, env.node.ctx->now()));
          });
  svr.Put("/v1/silences/([^/]+)",
          [&env](const httplib::Request& req, httplib::Response& res) {
            auto id = req.matches[1].str();
            auto current = find_silence(env, id);
            if (!current)
              return reply_error(res, not_found(id));
            auto updated = write_silence(env, req, &*current);
            if (!updated)
              return reply_error(res, updated.error());
            reply_data(res, 200, to_json(*updated, env.node.ctx->now()));
          });
  svr.Delete("/v1/silences/([^/]+)", [&env](const httplib::Request& req,
                                            httplib::Response& res) {
    auto expired =
        ask<silence>(*env.node.system, env.node.catalog, atom::erase::value,
                     atom::silence::value, req.matches[1].str());
    if (!expired)
      return reply_error(res, expired.error());
    reply_data(res, 200, to_json(*expired, env.node.ctx->now()));
  });
}

/// Whether silence `s` passes Alertmanager's `filter` matchers: they are
/// checked against the silence's own matchers taken as labels.
bool passes(const std::vector<domain::matcher>& filter, const silence& s) {
  if (filter.empty())
    return true;
  std::vector<domain::label_set::value_type> labels;
  labels.reserve(s.matchers.size());
  for (auto& m : s.matchers)
    labels.emplace_back(m.name, m.value);
  return domain::matches_all(
      filter, *domain::label_set::from(std::move(labels),
                                       domain::duplicate_names::keep_last));
}

void reply_am(httplib::Response& res, const json& body) {
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json");
}

/// The silence `id` if it covers manager `manager` (AM paths see only the
/// silences of their manager).
caf::expected<silence> am_silence(route_env& env, const std::string& manager,
                                  const std::string& id) {
  auto s = find_silence(env, id);
  if (!s || s->event_manager_id != manager)
    return not_found(id);
  return *s;
}

void get_am_silences(route_env& env, const httplib::Request& req,
                     httplib::Response& res) {
  auto manager = req.matches[1].str();
  auto catalog = env.node.catalog_now();
  if (catalog->managers.count(manager) == 0)
    return reply_am_error(
        res,
        make_error(ec::not_found, "event manager '" + manager + "' not found"));
  std::vector<domain::matcher> filter;
  for (size_t i = 0; i < req.get_param_value_count("filter"); ++i) {
    auto parsed = domain::parse_matchers(req.get_param_value("filter", i));
    if (!parsed)
      return reply_am_error(
          res, make_error(ec::bad_request,
                          "bad matcher format: " + message_of(parsed.error())));
    filter.insert(filter.end(), parsed->begin(), parsed->end());
  }
  auto now = env.node.ctx->now();
  auto out = json::array();
  for (auto& [id, s] : catalog->silences)
    if (s.event_manager_id == manager && passes(filter, s))
      out.push_back(to_gettable_silence(s, now));
  reply_am(res, out);
}

void post_am_silence(route_env& env, const httplib::Request& req,
                     httplib::Response& res) {
  auto manager = req.matches[1].str();
  if (env.node.catalog_now()->managers.count(manager) == 0)
    return reply_am_error(
        res,
        make_error(ec::not_found, "event manager '" + manager + "' not found"));
  auto body = read_body(env, req);
  if (!body)
    return reply_am_error(res, body.error());
  auto s = parse_am_silence(*body, manager);
  if (!s)
    return reply_am_error(res, s.error());
  auto creating = s->id.empty();
  if (!creating) {
    auto old = am_silence(env, manager, s->id);
    if (!old)
      return reply_am_error(res, old.error());
    if (body->count("schedule") == 0)
      s->recurrence = old->recurrence; // amtool knows no schedules
    // As Alertmanager: a change it cannot make in place (other matchers, an
    // active silence's start, an expired silence) expires the old silence
    // and creates a new one, whose id the answer carries.
    auto now = env.node.ctx->now();
    if (!domain::can_update_in_place(*old, *s, now)) {
      if (domain::state_of(*old, now) != domain::silence_state::expired) {
        auto expired =
            ask<silence>(*env.node.system, env.node.catalog, atom::erase::value,
                         atom::silence::value, old->id);
        if (!expired)
          return reply_am_error(res, expired.error());
      }
      s->id.clear();
      s->starts_at = std::max(s->starts_at, now);
      creating = true;
    }
  }
  auto stored = creating ? ask<silence>(*env.node.system, env.node.catalog,
                                        atom::create::value, std::move(*s))
                         : ask<silence>(*env.node.system, env.node.catalog,
                                        atom::update::value, std::move(*s));
  if (!stored)
    return reply_am_error(res, stored.error());
  reply_am(res, json{{"silenceID", stored->id}});
}

void add_am_silence_routes(router& svr, route_env& env) {
  svr.Get("/am/([^/]+)/api/v2/silences",
          [&env](const httplib::Request& req, httplib::Response& res) {
            get_am_silences(env, req, res);
          });
  svr.Post("/am/([^/]+)/api/v2/silences",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_am_silence(env, req, res);
           });
  svr.Get("/am/([^/]+)/api/v2/silence/([^/]+)",
          [&env](const httplib::Request& req, httplib::Response& res) {
            auto s =
                am_silence(env, req.matches[1].str(), req.matches[2].str());
            if (!s)
              return reply_am_error(res, s.error());
            reply_am(res, to_gettable_silence(*s, env.node.ctx->now()));
          });
  svr.Delete("/am/([^/]+)/api/v2/silence/([^/]+)",
             [&env](const httplib::Request& req, httplib::Response& res) {
               auto s =
                   am_silence(env, req.matches[1].str(), req.matches[2].str());
               if (!s)
                 return reply_am_error(res, s.error());
               auto expired = ask<silence>(*env.node.system, env.node.catalog,
                                           atom::erase::value,
                                           atom::silence::value, s->id);
               if (!expired)
                 return reply_am_error(res, expired.error());
               res.status = 200;
             });
}

} // namespace

void add_silence_routes(router& svr, route_env& env) {
  add_v1_routes(svr, env);
  add_am_silence_routes(svr, env);
}

} // namespace argus::http
