#include "actors/catalog.hpp"

#include "domain/error.hpp"

#include <caf/typed_response_promise.hpp>

#include <chrono>

namespace argus::actors {

namespace {

using self_ptr = catalog_actor::stateful_pointer<catalog_state>;

constexpr auto store_timeout = std::chrono::seconds{10};

/// Persists with `msg...`, then (and only then) applies `change` to the
/// state, publishes the new snapshot and answers with `reply`. `await` keeps
/// changes strictly one after another.
template <class T, class... Ts>
caf::typed_response_promise<T>
persist_then(self_ptr self, const repository_actor& repository,
             const std::shared_ptr<catalog_view>& view, T reply,
             catalog_change change, Ts... msg) {
  auto rp = self->make_response_promise<T>();
  self->request(repository, store_timeout, msg...)
      .await(
          [=](atom::ok) mutable {
            apply_change(self->state.current, change);
            view->set(
                std::make_shared<const domain::catalog>(self->state.current));
            if (view->on_change)
              view->on_change(change);
            rp.deliver(std::move(reply));
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

template <class T>
caf::typed_response_promise<T> fail(self_ptr self, caf::error err) {
  auto rp = self->make_response_promise<T>();
  rp.deliver(std::move(err));
  return rp;
}

caf::error check_rule_exists(const domain::catalog& c,
                             const std::string& rule_id) {
  if (!rule_id.empty() && c.rules.count(rule_id) == 0)
    return make_error(ec::validation_failed,
                      "grouping_rule_id '" + rule_id + "' does not exist");
  return {};
}

} // namespace

void apply_change(domain::catalog& c, const catalog_change& change) {
  switch (change.kind) {
  case catalog_change::put_rule:
    c.rules[change.rule.id] = change.rule;
    break;
  case catalog_change::put_manager:
    c.managers[change.manager.id] = change.manager;
    break;
  case catalog_change::erase_rule:
    c.rules.erase(change.id);
    break;
  case catalog_change::erase_manager:
    c.managers.erase(change.id);
    break;
  case catalog_change::put_silence:
    c.silences[change.silence.id] = change.silence;
    break;
  case catalog_change::put_key:
    c.keys[change.key.id] = change.key;
    break;
  default:
    break;
  }
}

namespace {

/// Gives `m` a fresh routing key when it has none (created, or rotated by
/// clearing it), and refuses one another manager holds: the key is what
/// picks the manager of a PagerDuty event.
caf::error assign_routing_key(const domain::catalog& c,
                              domain::event_manager& m) {
  if (m.routing_key.empty())
    m.routing_key = domain::random_routing_key();
  if (auto other = c.manager_by_routing_key(m.routing_key);
      other != nullptr && other->id != m.id)
    return make_error(ec::conflict,
                      "routing_key is used by another event manager");
  return {};
}

/// The change that erases rule or manager `id`. Built member by member:
/// GCC 12 takes a braced temporary's empty manager (its severity map) for
/// uninitialized when it is destroyed (-Wmaybe-uninitialized).
catalog_change erase_change(catalog_change::kind_t kind,
                            const std::string& id) {
  catalog_change change;
  change.kind = kind;
  change.id = id;
  return change;
}

/// The change that stores silence `s`.
catalog_change silence_change(const domain::silence& s) {
  catalog_change change;
  change.kind = catalog_change::put_silence;
  change.silence = s;
  return change;
}

caf::error check_silence_manager(const domain::catalog& c,
                                 const domain::silence& s) {
  if (!s.event_manager_id.empty() && c.managers.count(s.event_manager_id) == 0)
    return make_error(ec::validation_failed, "event_manager_id '" +
                                                 s.event_manager_id +
                                                 "' does not exist");
  return {};
}

/// Persists and publishes silence `s` (already checked).
caf::typed_response_promise<domain::silence>
put_silence(self_ptr self, const repository_actor& repository,
            const std::shared_ptr<catalog_view>& view, domain::silence s) {
  if (auto err = validate(s))
    return fail<domain::silence>(self, std::move(err));
  if (auto err = check_silence_manager(self->state.current, s))
    return fail<domain::silence>(self, std::move(err));
  return persist_then(self, repository, view, s, silence_change(s),
                      atom::put::value, s);
}

/// The change that stores API key `k`.
catalog_change key_change(const domain::api_key& k) {
  catalog_change change;
  change.kind = catalog_change::put_key;
  change.key = k;
  return change;
}

/// Stores a new key: the front made it and sends only its record. A fresh
/// id, and managers that exist (a key for a manager made later is made
/// later).
caf::typed_response_promise<domain::api_key>
create_key(self_ptr self, const repository_actor& repository,
           const std::shared_ptr<catalog_view>& view, domain::api_key k) {
  auto& c = self->state.current;
  auto err = validate(k);
  if (!err && c.keys.count(k.id) > 0)
    err = make_error(ec::conflict, "API key '" + k.id + "' already exists");
  for (auto& m : k.managers)
    if (!err && c.managers.count(m) == 0)
      err = make_error(ec::validation_failed,
                       "event manager '" + m + "' does not exist");
  if (err)
    return fail<domain::api_key>(self, std::move(err));
  return persist_then(self, repository, view, k, key_change(k),
                      atom::put::value, k);
}

/// Revokes key `id` at `now` (once). Revoked keys stay, so their ids are
/// never reused.
caf::typed_response_promise<domain::api_key>
revoke_key(self_ptr self, const repository_actor& repository,
           const std::shared_ptr<catalog_view>& view, const std::string& id,
           domain::time_point now) {
  auto& keys = self->state.current.keys;
  auto it = keys.find(id);
  if (it == keys.end())
    return fail<domain::api_key>(
        self, make_error(ec::not_found, "API key '" + id + "' not found"));
  auto k = it->second;
  if (k.revoked_at == domain::no_time)
    k.revoked_at = now;
  return persist_then(self, repository, view, k, key_change(k),
                      atom::put::value, k);
}

} // namespace

catalog_actor::behavior_type
catalog(catalog_actor::stateful_pointer<catalog_state> self,
        domain::catalog initial, repository_actor repository,
        std::shared_ptr<catalog_view> view, context_ptr ctx) {
  self->state.current = std::move(initial);
  view->set(std::make_shared<const domain::catalog>(self->state.current));
  using rule_t = domain::grouping_rule;
  using manager_t = domain::event_manager;
  return {
      [=](atom::create, rule_t rule) {
        rule.id = domain::random_uuid();
        rule.created_at = rule.updated_at = ctx->now();
        if (auto err = validate(rule))
          return fail<rule_t>(self, std::move(err));
        return persist_then(
            self, repository, view, rule,
            catalog_change{catalog_change::put_rule, rule, {}, {}},
            atom::put::value, rule);
      },
      [=](atom::update, rule_t rule) {
        auto& rules = self->state.current.rules;
        auto old = rules.find(rule.id);
        if (old == rules.end())
          return fail<rule_t>(
              self, make_error(ec::not_found,
                               "grouping rule '" + rule.id + "' not found"));
        rule.created_at = old->second.created_at;
        rule.updated_at = ctx->now();
        if (auto err = validate(rule))
          return fail<rule_t>(self, std::move(err));
        return persist_then(
            self, repository, view, rule,
            catalog_change{catalog_change::put_rule, rule, {}, {}},
            atom::put::value, rule);
      },
      [=](atom::erase, atom::rule, const std::string& id) {
        auto& c = self->state.current;
        if (c.rules.count(id) == 0)
          return fail<atom::ok>(
              self, make_error(ec::not_found,
                               "grouping rule '" + id + "' not found"));
        if (c.rule_in_use(id))
          return fail<atom::ok>(
              self,
              make_error(ec::conflict, "grouping rule '" + id +
                                           "' is used by an event manager"));
        return persist_then(self, repository, view, atom::ok::value,
                            erase_change(catalog_change::erase_rule, id),
                            atom::erase::value, atom::rule::value, id);
      },
      [=](atom::create, manager_t manager) {
        auto& c = self->state.current;
        if (manager.id.empty())
          manager.id = domain::random_uuid();
        manager.created_at = manager.updated_at = ctx->now();
        if (auto err = assign_routing_key(c, manager))
          return fail<manager_t>(self, std::move(err));
        if (auto err = validate(manager))
          return fail<manager_t>(self, std::move(err));
        if (c.managers.count(manager.id) > 0)
          return fail<manager_t>(
              self, make_error(ec::conflict, "event manager '" + manager.id +
                                                 "' already exists"));
        if (auto err = check_rule_exists(c, manager.grouping_rule_id))
          return fail<manager_t>(self, std::move(err));
        return persist_then(
            self, repository, view, manager,
            catalog_change{catalog_change::put_manager, {}, manager, {}},
            atom::put::value, manager);
      },
      [=](atom::update, manager_t manager) {
        auto& c = self->state.current;
        auto old = c.managers.find(manager.id);
        if (old == c.managers.end())
          return fail<manager_t>(
              self, make_error(ec::not_found,
                               "event manager '" + manager.id + "' not found"));
        manager.created_at = old->second.created_at;
        manager.updated_at = ctx->now();
        if (auto err = assign_routing_key(c, manager))
          return fail<manager_t>(self, std::move(err));
        if (auto err = validate(manager))
          return fail<manager_t>(self, std::move(err));
        if (auto err = check_rule_exists(c, manager.grouping_rule_id))
          return fail<manager_t>(self, std::move(err));
        return persist_then(
            self, repository, view, manager,
            catalog_change{catalog_change::put_manager, {}, manager, {}},
            atom::put::value, manager);
      },
      [=](atom::erase, atom::manager, const std::string& id) {
        if (self->state.current.managers.count(id) == 0)
          return fail<atom::ok>(
              self, make_error(ec::not_found,
                               "event manager '" + id + "' not found"));
        return persist_then(self, repository, view, atom::ok::value,
                            erase_change(catalog_change::erase_manager, id),
                            atom::erase::value, atom::manager::value, id);
      },
      [=](atom::create, domain::silence s) {
        s.id = domain::random_uuid();
        s.updated_at = ctx->now();
        return put_silence(self, repository, view, std::move(s));
      },
      [=](atom::update, domain::silence s) {
        if (self->state.current.silences.count(s.id) == 0)
          return fail<domain::silence>(
              self,
              make_error(ec::not_found, "silence '" + s.id + "' not found"));
        s.updated_at = ctx->now();
        return put_silence(self, repository, view, std::move(s));
      },
      [=](atom::erase, atom::silence, const std::string& id) {
        auto& all = self->state.current.silences;
        auto it = all.find(id);
        if (it == all.end())
          return fail<domain::silence>(
              self,
              make_error(ec::not_found, "silence '" + id + "' not found"));
        auto s = it->second;
        domain::expire(s, ctx->now());
        return persist_then(self, repository, view, s, silence_change(s),
                            atom::put::value, s);
      },
      [=](atom::create, domain::api_key& k) {
        return create_key(self, repository, view, std::move(k));
      },
      [=](atom::erase, atom::key, const std::string& id) {
        return revoke_key(self, repository, view, id, ctx->now());
      },
      [=](atom::sync, const catalog_change& change) {
        apply_change(self->state.current, change);
        view->set(std::make_shared<const domain::catalog>(self->state.current));
      },
  };
}

} // namespace argus::actors
