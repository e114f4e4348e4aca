// The web console (issue 16): its static files, embedded in the binary and
// served without a key (the page asks for one), and the two reads it needs
// that the API lacked: who the caller's key is (`GET /v1/whoami`), and the
// open groups, filtered and paged on the server (`GET /v1/groups`).

#include "domain/group_list.hpp"
#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"
#include "http/silence_json.hpp"
#include "http/ui_assets.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <tuple>

namespace argus::http {

namespace {

using nlohmann::json;
using alerts = std::vector<domain::alert>;

/// Active parents read per request at most, as `argusctl groups` does.
constexpr int64_t max_open_rows = 100000;

const ui::asset* find_asset(std::string_view name) {
  for (size_t i = 0; i < ui::asset_count; ++i)
    if (ui::assets[i].name == name)
      return &ui::assets[i];
  return nullptr;
}

void serve(const httplib::Request& req, httplib::Response& res,
           std::string_view name) {
  auto* a = find_asset(name);
  if (a == nullptr)
    return reply_error(res, ec::not_found, "no console file " + req.path);
  // The files change only with the binary: revalidate by version, and
  // keep the page to its own origin (no inline script, no framing).
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; "
                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  res.set_content(std::string{a->body}, std::string{a->type});
}

std::string query_parameter(const std::string& name) {
  return "query parameter '" + name + "'";
}

caf::expected<domain::group_query> group_query_of(const httplib::Request& req) {
  domain::group_query q;
  q.event_manager_id = req.get_param_value("event_manager_id");
  q.state = req.get_param_value("state");
  q.severity = req.get_param_value("severity");
  q.text = req.get_param_value("q");
  for (auto [name, out] :
       {std::pair{"limit", &q.limit}, std::pair{"offset", &q.offset}}) {
    if (!req.has_param(name))
      continue;
    auto text = req.get_param_value(name);
    auto [end, code] =
        std::from_chars(text.data(), text.data() + text.size(), *out);
    if (code != std::errc{} || end != text.data() + text.size())
      return make_error(ec::bad_request,
                        query_parameter(name) + " must be an integer");
  }
  if (auto err = domain::check_group_query(q, query_parameter))
    return err;
  return q;
}

/// Active parents of the managers the request may read (`only`, or the
/// key's scope; empty: all), newest first.
caf::expected<alerts> open_parents(route_env& env,
                                   const std::vector<std::string>& managers) {
  alerts out;
  for (auto& m : managers) {
    domain::alert_filter f{m, "active", "parent", max_open_rows, 0};
    auto found = ask<alerts>(*env.node.system, env.node.repository,
                             atom::list::value, f);
    if (!found)
      return found.error();
    out.insert(out.end(), std::make_move_iterator(found->begin()),
               std::make_move_iterator(found->end()));
  }
  if (managers.size() > 1)
    std::sort(out.begin(), out.end(), [](auto& x, auto& y) {
      return std::tie(y.created_at, x.dedup_key) <
             std::tie(x.created_at, y.dedup_key);
    });
  return out;
}

/// Counts the active children of the page's parents in the store, one
/// read per manager on the page.
caf::error count_children(route_env& env, domain::group_page& page) {
  std::map<std::string, std::vector<size_t>> rows_of_manager;
  for (size_t i = 0; i < page.rows.size(); ++i)
    rows_of_manager[page.rows[i].parent.event_manager_id.str()].push_back(i);
  for (auto& [manager, rows] : rows_of_manager) {
    std::vector<std::string> parents;
    parents.reserve(rows.size());
    for (auto i : rows)
      parents.push_back(page.rows[i].parent.dedup_key.str());
    auto counts = ask<std::vector<int64_t>>(
        *env.node.system, env.node.repository, atom::children::value,
        atom::count::value, manager, std::move(parents));
    if (!counts)
      return counts.error();
    if (counts->size() != rows.size())
      return make_error(ec::internal, "the store counted children of " +
                                          std::to_string(counts->size()) +
                                          " parents, not " +
                                          std::to_string(rows.size()));
    for (size_t j = 0; j < rows.size(); ++j)
      page.rows[rows[j]].active_children = (*counts)[j];
  }
  return {};
}

void get_groups(route_env& env, const httplib::Request& req,
                httplib::Response& res) {
  auto q = group_query_of(req);
  if (!q)
    return reply_error(res, q.error());
  auto& who = current_principal();
  std::vector<std::string> managers{q->event_manager_id};
  if (q->event_manager_id.empty() && !who.scope().empty())
    managers = who.scope();
  else if (!who.sees(q->event_manager_id))
    managers.clear(); // a manager the key does not cover: nothing to see
  auto parents = open_parents(env, managers);
  if (!parents)
    return reply_error(res, parents.error());
  auto now = env.node.ctx->now();
  auto catalog = env.node.catalog_now();
  auto page = domain::select_groups(
      *parents,
      [&](const domain::alert& a) {
        return silenced_by(catalog->silences, a, now);
      },
      *q, now);
  if (auto err = count_children(env, page))
    return reply_error(res, err);
  auto rows = json::array();
  for (auto& r : page.rows) {
    auto g = to_json(r.parent);
    g["silenced_by"] = r.silenced_by;
    g["active_children"] = r.active_children;
    g["state"] = r.state;
    g["window_ends_at"] = r.parent.has_grouping_value
                              ? time_or_null(r.parent.window_ends_at)
                              : json(nullptr);
    g["window_left_seconds"] =
        std::chrono::duration_cast<std::chrono::seconds>(r.window_left).count();
    rows.push_back(std::move(g));
  }
  reply_data(res, 200,
             {{"total", page.total},
              {"offset", q->offset},
              {"limit", q->limit},
              {"groups", std::move(rows)}});
}

/// The caller's key: id, role, managers (empty: all), expiry. With auth
/// off everyone may do everything, which the console shows as admin.
json whoami() {
  auto& who = current_principal();
  if (!who.enforced || who.key == nullptr)
    return {{"auth", who.enforced ? "required" : "off"},
            {"key_id", nullptr},
            {"role", "admin"},
            {"managers", json::array()},
            {"expires_at", nullptr}};
  auto& k = *who.key;
  return {{"auth", "required"},     {"key_id", k.id},
          {"prefix", k.prefix},     {"role", domain::to_string(k.key_role)},
          {"managers", k.managers}, {"expires_at", time_or_null(k.expires_at)}};
}

} // namespace

void add_ui_routes(router& svr, route_env& env) {
  auto index = [](const httplib::Request& req, httplib::Response& res) {
    serve(req, res, "index.html");
  };
  svr.Get("/", index);
  svr.Get("/ui/", index);
  svr.Get("/ui", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/ui/");
  });
  svr.Get("/ui/([A-Za-z0-9_.-]+)",
          [](const httplib::Request& req, httplib::Response& res) {
            serve(req, res, req.matches[1].str());
          });
  svr.Get("/v1/whoami", [](const httplib::Request&, httplib::Response& res) {
    reply_data(res, 200, whoami());
  });
  svr.Get("/v1/groups",
          [&env](const httplib::Request& req, httplib::Response& res) {
            get_groups(env, req, res);
          });
}

} // namespace argus::http
