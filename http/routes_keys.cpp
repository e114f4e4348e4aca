// API keys (admin only: the guard refuses other keys before these run) and
// the audit log. A key's text is answered once, at creation; listings show
// its prefix.

#include "domain/alertmanager.hpp"
#include "domain/auth.hpp"
#include "domain/error.hpp"
#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"

#include <charconv>

namespace argus::http {

namespace {

using nlohmann::json;

void post_key(route_env& env, const httplib::Request& req,
              httplib::Response& res) {
  auto body = read_body(env, req);
  if (!body)
    return reply_error(res, body.error());
  auto now = env.node.ctx->now();
  auto asked = parse_key_request(*body, now);
  if (!asked)
    return reply_error(res, asked.error());
  auto made = domain::generate_key(now);
  made.record.key_role = asked->key_role;
  made.record.managers = std::move(asked->managers);
  made.record.expires_at = asked->expires_at;
  made.record.created_by = current_principal().actor();
  // Only the record travels to the catalog, the store and the peers.
  auto stored = ask<domain::api_key>(*env.node.system, env.node.catalog,
                                     atom::create::value, made.record);
  if (!stored)
    return reply_error(res, stored.error());
  auto out = to_json(*stored, now);
  out["key"] = made.text;
  reply_data(res, 201, out);
}

caf::expected<domain::audit_filter>
audit_filter_of(const httplib::Request& req) {
  domain::audit_filter f;
  if (req.has_param("limit")) {
    auto text = req.get_param_value("limit");
    int64_t n = 0;
    auto [end, code] =
        std::from_chars(text.data(), text.data() + text.size(), n);
    if (code != std::errc{} || end != text.data() + text.size() || n < 1 ||
        n > domain::max_audit_limit)
      return make_error(ec::bad_request,
                        "query parameter 'limit' must be between 1 and " +
                            std::to_string(domain::max_audit_limit));
    f.limit = n;
  }
  if (req.has_param("since")) {
    auto t = domain::parse_am_time(req.get_param_value("since"));
    if (!t)
      return make_error(ec::bad_request,
                        "query parameter 'since' must be an RFC 3339 time");
    f.since = *t;
  }
  return f;
}

} // namespace

void add_key_routes(router& svr, route_env& env) {
  svr.Post("/v1/keys",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_key(env, req, res);
           });
  svr.Get("/v1/keys", [&env](const httplib::Request&, httplib::Response& res) {
    auto now = env.node.ctx->now();
    auto out = json::array();
    for (auto& [id, k] : env.node.catalog_now()->keys)
      out.push_back(to_json(k, now));
    reply_data(res, 200, out);
  });
  svr.Delete("/v1/keys/([^/]+)", [&env](const httplib::Request& req,
                                        httplib::Response& res) {
    auto revoked = ask<domain::api_key>(*env.node.system, env.node.catalog,
                                        atom::erase::value, atom::key::value,
                                        req.matches[1].str());
    if (!revoked)
      return reply_error(res, revoked.error());
    reply_data(res, 200, to_json(*revoked, env.node.ctx->now()));
  });
  svr.Get(
      "/v1/audit", [&env](const httplib::Request& req, httplib::Response& res) {
        auto filter = audit_filter_of(req);
        if (!filter)
          return reply_error(res, filter.error());
        auto found = ask<std::vector<domain::audit_entry>>(
            *env.node.system, env.node.repository, atom::audit::value, *filter);
        if (!found)
          return reply_error(res, found.error());
        auto out = json::array();
        for (auto& e : *found)
          out.push_back(to_json(e));
        reply_data(res, 200, out);
      });
}

} // namespace argus::http
