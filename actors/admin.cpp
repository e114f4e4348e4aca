#include "actors/admin.hpp"

#include "actors/admin_audit.hpp"
#include "actors/admin_ops.hpp"
#include "actors/admin_peers.hpp"
#include "domain/error.hpp"

#include <map>
#include <memory>
#include <tuple>
#include <utility>

namespace argus::actors {

namespace {

using env_ptr = std::shared_ptr<const admin_env>;
using admin_audit::audited;

template <class Entity>
std::vector<Entity> values_of(const std::map<std::string, Entity>& items) {
  std::vector<Entity> out;
  out.reserve(items.size());
  for (auto& [id, item] : items)
    out.push_back(item);
  return out;
}

template <class Entity>
caf::result<Entity> find_in(const std::map<std::string, Entity>& items,
                            const char* noun, const std::string& id) {
  auto it = items.find(id);
  if (it == items.end())
    return make_error(ec::not_found,
                      std::string{noun} + " '" + id + "' not found");
  return it->second;
}

/// The node's status, and argusctl's catalog reads and changes (changes go
/// to the catalog actor, which validates them).
auto catalog_handlers(admin_self self, env_ptr env) {
  using rule_t = domain::grouping_rule;
  using manager_t = domain::event_manager;
  auto catalog = env->node.catalog;
  auto view = env->node.view;
  return std::make_tuple(
      [=](atom::status) { return admin_ops::status(self, *env); },
      [=](atom::list, atom::rule) { return values_of(view->get()->rules); },
      [=](atom::get, atom::rule, const std::string& id) {
        return find_in(view->get()->rules, "grouping rule", id);
      },
      [=](atom::create, rule_t& rule) {
        return audited<rule_t>(self, *env, catalog, "create", "rule", "",
                               atom::create::value, std::move(rule));
      },
      [=](atom::update, rule_t& rule) {
        return audited<rule_t>(self, *env, catalog, "update", "rule", "",
                               atom::update::value, std::move(rule));
      },
      [=](atom::erase, atom::rule, const std::string& id) {
        return audited<atom::ok>(self, *env, catalog, "delete", "rule", id,
                                 atom::erase::value, atom::rule::value, id);
      },
      [=](atom::list, atom::manager) {
        return values_of(view->get()->managers);
      },
      [=](atom::get, atom::manager, const std::string& id) {
        return find_in(view->get()->managers, "event manager", id);
      },
      [=](atom::create, manager_t& manager) {
        return audited<manager_t>(self, *env, catalog, "create", "manager", "",
                                  atom::create::value, std::move(manager));
      },
      [=](atom::update, manager_t& manager) {
        return audited<manager_t>(self, *env, catalog, "update", "manager", "",
                                  atom::update::value, std::move(manager));
      },
      [=](atom::list, atom::silence) {
        return values_of(view->get()->silences);
      },
      [=](atom::create, domain::silence& s) {
        return audited<domain::silence>(self, *env, catalog, "create",
                                        "silence", "", atom::create::value,
                                        std::move(s));
      },
      [=](atom::erase, atom::silence, const std::string& id) {
        return audited<domain::silence>(self, *env, catalog, "expire",
                                        "silence", id, atom::erase::value,
                                        atom::silence::value, id);
      },
      [=](atom::erase, atom::manager, const std::string& id) {
        return audited<atom::ok>(self, *env, catalog, "delete", "manager", id,
                                 atom::erase::value, atom::manager::value, id);
      });
}

/// argusctl's alert reads, event ingestion and notifications.
auto alert_handlers(admin_self self, env_ptr env) {
  return std::make_tuple(
      [=](atom::list, const domain::alert_filter& filter) {
        return admin_ops::list(self, *env, filter);
      },
      [=](atom::get, atom::alert, const std::string& manager,
          const std::string& dedup) {
        return admin_ops::alert(self, *env, manager, dedup);
      },
      [=](atom::children, const std::string& manager,
          const std::string& dedup) {
        return admin_ops::children(self, *env, manager, dedup);
      },
      [=](atom::ingest, event_submission& s) {
        return admin_ops::ingest(self, *env, s);
      },
      [=](atom::groups, const std::string& manager) {
        return admin_ops::groups(self, *env, manager);
      },
      [=](atom::list, atom::notify, const domain::notification_filter& filter) {
        return admin_ops::notifications(self, *env, filter);
      },
      [=](atom::retry, const std::string& id, const std::string& receiver) {
        return audited<atom::ok>(self, *env, env->node.notifier, "retry",
                                 "notification", id, atom::retry::value, id,
                                 receiver);
      });
}

/// argusctl's API keys and audit log.
auto key_handlers(admin_self self, env_ptr env) {
  auto catalog = env->node.catalog;
  return std::make_tuple(
      [=](atom::create, atom::key, domain::api_key& proto) {
        return admin_audit::create_key(self, *env, std::move(proto));
      },
      [=](atom::list, atom::key) {
        return values_of(env->node.view->get()->keys);
      },
      [=](atom::erase, atom::key, const std::string& id) {
        return audited<domain::api_key>(self, *env, catalog, "revoke", "key",
                                        id, atom::erase::value,
                                        atom::key::value, id);
      },
      [=](atom::audit, domain::audit_filter& filter)
          -> caf::result<std::vector<domain::audit_entry>> {
        if (filter.limit < 1 || filter.limit > domain::max_audit_limit)
          return make_error(ec::validation_failed,
                            "limit must be between 1 and " +
                                std::to_string(domain::max_audit_limit));
        return self->delegate(env->node.repository, atom::audit::value,
                              std::move(filter));
      });
}

/// The cluster side: peers' cluster actors and argusctl's cluster commands.
auto cluster_handlers(admin_self self, env_ptr env) {
  return std::make_tuple(
      [=](atom::members) { return admin_peers::members(self, *env); },
      [=](atom::join, member_info& peer) {
        return admin_peers::join(self, *env, peer);
      },
      [=](atom::leave, std::string& id) { admin_peers::leave(self, *env, id); },
      [=](atom::sync, catalog_change& change) {
        admin_peers::sync(self, *env, change);
      },
      [=](atom::forward, std::vector<domain::event>& events) {
        return admin_peers::forward(self, *env, events);
      },
      [=](atom::handover, std::string& from, std::vector<std::string>& live) {
        admin_peers::handover(self, *env, from, live);
      },
      [=](atom::get, std::vector<domain::alert_key>& keys) {
        return admin_peers::locate(self, *env, keys);
      },
      [=](atom::leave) { return admin_peers::drain(self, *env); });
}

} // namespace

admin_actor::behavior_type admin(admin_self self, admin_env env) {
  auto shared = std::make_shared<const admin_env>(std::move(env));
  return std::apply(
      [](auto&&... handlers) {
        return admin_actor::behavior_type{std::move(handlers)...};
      },
      std::tuple_cat(catalog_handlers(self, shared),
                     alert_handlers(self, shared), key_handlers(self, shared),
                     cluster_handlers(self, shared)));
}

} // namespace argus::actors
