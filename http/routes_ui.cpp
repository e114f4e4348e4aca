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

namespace argus::http {

namespace {

using nlohmann::json;

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

/// The page of groups `q` selects among the open groups of `managers` (the
/// key's scope; empty: all), each its parent, and how many it selects. Each
/// manager's repository decides which of its groups `q` selects and sends
/// only its page; a scope of several managers merges their first pages.
caf::expected<domain::alert_page>
selected_parents(route_env& env, const domain::group_query& q,
                 const std::vector<std::string>& managers,
                 const std::map<std::string, domain::silence>& all_silences,
                 domain::time_point now) {
  domain::alert_page out;
  auto per_manager = q;
  if (managers.size() > 1) {
    per_manager.offset = 0;
    per_manager.limit = q.offset + q.limit;
  }
  for (auto& m : managers) {
    per_manager.event_manager_id = m;
    // Only the silences in force now that may cover the manager can match:
    // the rest (expired ones stay listed) stay out of the request.
    auto silences = domain::active_silences(all_silences, m, now);
    auto found =
        ask<domain::alert_page>(*env.node.system, env.node.repository,
                                atom::list::value, per_manager, silences, now);
    if (!found)
      return found.error();
    out.total += found->total;
    out.alerts.insert(out.alerts.end(),
                      std::make_move_iterator(found->alerts.begin()),
                      std::make_move_iterator(found->alerts.end()));
  }
  if (managers.size() > 1)
    domain::cut_page(out.alerts, q.offset, q.limit);
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
  auto now = env.node.ctx->now();
  auto catalog = env.node.catalog_now();
  auto& silences = catalog->silences;
  auto selected = selected_parents(env, *q, managers, silences, now);
  if (!selected)
    return reply_error(res, selected.error());
  domain::group_page page;
  page.total = selected->total;
  for (auto& parent : selected->alerts) {
    auto ids = silenced_by(silences, parent, now);
    page.rows.push_back(
        domain::group_row_of(std::move(parent), std::move(ids), now));
  }
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
