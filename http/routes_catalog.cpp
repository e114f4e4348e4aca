#include "domain/error.hpp"
#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"

namespace argus::http {

namespace {

using nlohmann::json;

/// Whether the request's key may see a catalog entity in a listing: rules
/// are shared by all; a scoped key sees only its own managers.
bool visible(const domain::grouping_rule&) {
  return true;
}
bool visible(const domain::event_manager& m) {
  return current_principal().sees(m.id);
}

/// CRUD routes of one catalog entity (rules or managers): the shape is the
/// same, only the entity, its collection and its parser differ.
template <class Entity, class Collection, class Parse, class EraseTag>
void add_crud(router& svr, route_env& env, const std::string& path,
              const char* noun, Collection collection, Parse parse,
              EraseTag erase_tag) {
  auto find = [&env, collection](const std::string& id) {
    auto snapshot = env.node.catalog_now();
    auto& items = collection(*snapshot);
    auto it = items.find(id);
    return it == items.end() ? std::optional<Entity>{}
                             : std::optional<Entity>{it->second};
  };
  auto not_found = [noun](httplib::Response& res, const std::string& id) {
    reply_error(res, ec::not_found,
                std::string{noun} + " '" + id + "' not found");
  };
  auto item_path = path + "/([^/]+)";
  svr.Get(path,
          [&env, collection](const httplib::Request&, httplib::Response& res) {
            auto snapshot = env.node.catalog_now();
            auto out = json::array();
            for (auto& [id, item] : collection(*snapshot))
              if (visible(item))
                out.push_back(to_json(item));
            reply_data(res, 200, out);
          });
  svr.Post(path,
           [&env, parse](const httplib::Request& req, httplib::Response& res) {
             auto body = read_body(env, req);
             if (!body)
               return reply_error(res, body.error());
             auto item = parse(*body, nullptr);
             if (!item)
               return reply_error(res, item.error());
             auto created = ask<Entity>(*env.node.system, env.node.catalog,
                                        atom::create::value, std::move(*item));
             if (!created)
               return reply_error(res, created.error());
             reply_data(res, 201, to_json(*created));
           });
  svr.Get(item_path, [find, not_found](const httplib::Request& req,
                                       httplib::Response& res) {
    auto id = req.matches[1].str();
    if (auto item = find(id))
      return reply_data(res, 200, to_json(*item));
    not_found(res, id);
  });
  svr.Put(item_path, [&env, find, not_found, parse](const httplib::Request& req,
                                                    httplib::Response& res) {
    auto id = req.matches[1].str();
    auto current = find(id);
    if (!current)
      return not_found(res, id);
    auto body = read_body(env, req);
    if (!body)
      return reply_error(res, body.error());
    auto item = parse(*body, &*current);
    if (!item)
      return reply_error(res, item.error());
    item->id = id;
    auto updated = ask<Entity>(*env.node.system, env.node.catalog,
                               atom::update::value, std::move(*item));
    if (!updated)
      return reply_error(res, updated.error());
    reply_data(res, 200, to_json(*updated));
  });
  svr.Delete(item_path, [&env, erase_tag](const httplib::Request& req,
                                          httplib::Response& res) {
    auto done =
        ask<atom::ok>(*env.node.system, env.node.catalog, atom::erase::value,
                      erase_tag, req.matches[1].str());
    if (!done)
      return reply_error(res, done.error());
    res.status = 204;
  });
}

} // namespace

void add_catalog_routes(router& svr, route_env& env) {
  add_crud<domain::grouping_rule>(
      svr, env, "/v1/grouping-rules", "grouping rule",
      [](const domain::catalog& c) -> auto& { return c.rules; }, parse_rule,
      atom::rule::value);
  add_crud<domain::event_manager>(
      svr, env, "/v1/event-managers", "event manager",
      [](const domain::catalog& c) -> auto& { return c.managers; },
      parse_manager, atom::manager::value);
  // Rotates the PagerDuty routing key: the old one stops working at once.
  svr.Post("/v1/event-managers/([^/]+)/routing-key",
           [&env](const httplib::Request& req, httplib::Response& res) {
             auto id = req.matches[1].str();
             auto catalog = env.node.catalog_now();
             auto current = catalog->managers.find(id);
             if (current == catalog->managers.end())
               return reply_error(res, ec::not_found,
                                  "event manager '" + id + "' not found");
             auto manager = current->second;
             manager.routing_key.clear(); // the catalog draws a new one
             auto updated = ask<domain::event_manager>(
                 *env.node.system, env.node.catalog, atom::update::value,
                 std::move(manager));
             if (!updated)
               return reply_error(res, updated.error());
             reply_data(res, 200, to_json(*updated));
           });
}

} // namespace argus::http
