#include "actors/admin.hpp"

#include "actors/node.hpp"
#include "config/log.hpp"
#include "domain/error.hpp"

#include "version.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cstdint>
#include <unordered_map>

namespace argus::actors {

namespace {

using self_ptr = admin_actor::stateful_pointer<admin_state>;
using alerts = std::vector<domain::alert>;

/// Longer than any store round trip, shorter than argusctl's default wait,
/// so the CLI hears about a slow actor instead of timing out itself.
constexpr auto inner_timeout = std::chrono::seconds{8};

/// Most active parents (and children) `groups` reads at once.
constexpr int64_t max_group_rows = 100000;

/// The checks of `http::parse_event` that still mean something once the
/// event is typed; argusctl ran the parser itself before sending.
caf::error check_event(const domain::event& e) {
  auto require = [](const char* field, const std::string& value) {
    if (value.empty())
      return make_error(ec::validation_failed,
                        std::string{"field '"} + field + "' is required");
    if (value.size() > domain::max_key_bytes)
      return make_error(ec::validation_failed,
                        std::string{"field '"} + field + "' is longer than " +
                            std::to_string(domain::max_key_bytes) + " bytes");
    return caf::error{};
  };
  if (auto err = require("event_manager_id", e.event_manager_id))
    return err;
  if (auto err = require("dedupKey", e.dedup_key))
    return err;
  if (e.act != domain::action::trigger && e.act != domain::action::resolve)
    return make_error(ec::validation_failed,
                      "field 'action' must be 'trigger' or 'resolve'");
  if (e.sev != domain::severity::high && e.sev != domain::severity::medium &&
      e.sev != domain::severity::low)
    return make_error(ec::validation_failed,
                      "field 'severity' must be 'high', 'medium' or 'low'");
  if (e.act == domain::action::trigger && e.summary.empty())
    return make_error(ec::validation_failed, "field 'summary' is required");
  return {};
}

/// What `POST /v1/events` checks of a parsed event: the manager must exist,
/// and its rule picks the grouping value and window. The ingest actor then
/// accepts it (journal first) exactly as for HTTP.
caf::error ingest(self_ptr, const admin_env& env, event_submission& s) {
  auto& stats = *env.ctx->stats;
  auto relaxed = std::memory_order_relaxed;
  stats.events_received.fetch_add(1, relaxed);
  auto pending = stats.backlog();
  if (pending + 1 > env.max_pending_events)
    return make_error(ec::unavailable, "ingestion is behind (" +
                                           std::to_string(pending) +
                                           " events pending); retry later");
  auto& e = s.event;
  auto reject = [&](caf::error err) {
    stats.events_rejected.fetch_add(1, relaxed);
    return err;
  };
  if (auto err = check_event(e))
    return reject(std::move(err));
  auto catalog = env.view->get();
  if (catalog->managers.count(e.event_manager_id) == 0)
    return reject(make_error(
        ec::not_found, "event manager '" + e.event_manager_id + "' not found"));
  e.has_grouping_value = false;
  e.grouping_value.clear();
  e.window = {};
  if (auto rule = catalog->rule_of(e.event_manager_id)) {
    if (auto field = s.fields.find(rule->grouping_key);
        field != s.fields.end()) {
      e.has_grouping_value = true;
      e.grouping_value = field->second;
    }
    e.window = rule->window();
  }
  e.received_at = env.ctx->now();
  return {};
}

caf::error not_clustered() {
  return make_error(ec::conflict, "this node is not in a cluster (set "
                                  "cluster.node_id and cluster.seeds)");
}

/// The checks `GET /v1/alerts` applies to its query.
caf::error check_filter(const domain::alert_filter& f) {
  if (!f.status.empty() && !domain::parse_alert_status(f.status))
    return make_error(ec::bad_request, "status must be 'active' or 'resolved'");
  if (!f.type.empty() && !domain::parse_alert_type(f.type))
    return make_error(ec::bad_request, "type must be 'parent' or 'child'");
  if (f.limit < 1 || f.limit > 1000)
    return make_error(ec::bad_request,
                      "limit must be an integer from 1 to 1000");
  if (f.offset < 0 || f.offset > INT64_MAX / 2)
    return make_error(ec::bad_request, "offset must not be negative");
  return {};
}

/// The one alert among `found` (all alerts with the dedupKey `dedup`).
caf::expected<domain::alert> single_alert(alerts& found,
                                          const std::string& dedup) {
  if (found.empty())
    return make_error(ec::not_found, "alert '" + dedup + "' not found");
  if (found.size() > 1)
    return make_error(ec::conflict, "dedupKey '" + dedup + "' is used by " +
                                        std::to_string(found.size()) +
                                        " event managers; name one with "
                                        "--manager");
  return std::move(found.front());
}

/// Groups of the active `parents`, with their active `children` counted.
std::vector<group_view> views_of(const alerts& parents, const alerts& children,
                                 domain::time_point now) {
  std::unordered_map<std::string, int64_t> active_children;
  for (auto& c : children)
    ++active_children[std::to_string(c.event_manager_id.size()) + ':' +
                      c.event_manager_id + c.parent_dedup_key];
  std::vector<group_view> out;
  out.reserve(parents.size());
  for (auto& p : parents) {
    group_view g;
    g.event_manager_id = p.event_manager_id;
    g.has_value = p.has_grouping_value;
    g.grouping_value = p.grouping_value;
    g.parent_dedup_key = p.dedup_key;
    g.summary = p.summary;
    g.child_count = p.child_count;
    auto it = active_children.find(std::to_string(p.event_manager_id.size()) +
                                   ':' + p.event_manager_id + p.dedup_key);
    g.active_children = it == active_children.end() ? 0 : it->second;
    g.resolve_requested = p.resolve_requested;
    g.window_ends_at = p.window_ends_at;
    if (p.has_grouping_value && p.window_ends_at > now)
      g.window_left = p.window_ends_at - now;
    out.push_back(std::move(g));
  }
  return out;
}

/// Metrics and repository and router counts, gathered without blocking.
caf::typed_response_promise<node_status> status(self_ptr self,
                                                const admin_env& env) {
  auto rp = std::make_shared<caf::typed_response_promise<node_status>>(
      self->make_response_promise<node_status>());
  auto st = std::make_shared<node_status>();
  auto& m = *env.ctx->stats;
  auto relaxed = std::memory_order_relaxed;
  st->node_id = caf::to_string(self->system().node());
  st->version = ARGUS_VERSION;
  st->storage = env.backend;
  st->uptime_seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - env.started)
                           .count();
  st->events_received = m.events_received.load(relaxed);
  st->events_accepted = m.events_accepted.load(relaxed);
  st->events_rejected = m.events_rejected.load(relaxed);
  st->events_processed = m.events_applied.load(relaxed);
  st->events_ignored = m.events_ignored.load(relaxed);
  st->events_queued = m.events_unapplied();
  st->notifications = m.notifications.load(relaxed);
  st->store_errors = m.store_errors.load(relaxed);
  st->groups_per_router.resize(env.routers.size());
  auto pending = std::make_shared<size_t>(1 + env.routers.size());
  auto done = [=] {
    if (--*pending == 0 && rp->pending())
      rp->deliver(*st);
  };
  auto fail = [=](caf::error& err) {
    if (rp->pending())
      rp->deliver(std::move(err));
  };
  self->request(env.repository, inner_timeout, atom::count::value)
      .then(
          [=](int64_t active, int64_t resolved) {
            st->alerts_active = active;
            st->alerts_resolved = resolved;
            done();
          },
          fail);
  for (size_t i = 0; i < env.routers.size(); ++i)
    self->request(env.routers[i], inner_timeout, atom::count::value)
        .then(
            [=](uint64_t n) {
              st->groups_per_router[i] = n;
              done();
            },
            fail);
  return *rp;
}

/// Asks the repository for the alert of (manager, dedup), then runs `next`
/// on it.
template <class T, class Next>
caf::typed_response_promise<T> with_alert(self_ptr self, const admin_env& env,
                                          const std::string& manager,
                                          const std::string& dedup, Next next) {
  auto rp = self->make_response_promise<T>();
  self->request(env.repository, inner_timeout, atom::get::value, manager, dedup)
      .then(
          [=](alerts& found) mutable {
            auto a = single_alert(found, dedup);
            if (!a)
              rp.deliver(std::move(a.error()));
            else
              next(*a, rp);
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

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

} // namespace

admin_actor::behavior_type
admin(admin_actor::stateful_pointer<admin_state> self, admin_env env) {
  using rule_t = domain::grouping_rule;
  using manager_t = domain::event_manager;
  return {
      [=](atom::status) { return status(self, env); },
      [=](atom::list, atom::rule) { return values_of(env.view->get()->rules); },
      [=](atom::get, atom::rule, const std::string& id) {
        return find_in(env.view->get()->rules, "grouping rule", id);
      },
      [=](atom::create, rule_t& rule) {
        return self->delegate(env.catalog, atom::create::value,
                              std::move(rule));
      },
      [=](atom::update, rule_t& rule) {
        return self->delegate(env.catalog, atom::update::value,
                              std::move(rule));
      },
      [=](atom::erase, atom::rule, const std::string& id) {
        return self->delegate(env.catalog, atom::erase::value,
                              atom::rule::value, id);
      },
      [=](atom::list, atom::manager) {
        return values_of(env.view->get()->managers);
      },
      [=](atom::get, atom::manager, const std::string& id) {
        return find_in(env.view->get()->managers, "event manager", id);
      },
      [=](atom::create, manager_t& manager) {
        return self->delegate(env.catalog, atom::create::value,
                              std::move(manager));
      },
      [=](atom::update, manager_t& manager) {
        return self->delegate(env.catalog, atom::update::value,
                              std::move(manager));
      },
      [=](atom::erase, atom::manager, const std::string& id) {
        return self->delegate(env.catalog, atom::erase::value,
                              atom::manager::value, id);
      },
      [=](atom::list,
          const domain::alert_filter& filter) -> caf::result<alerts> {
        if (auto err = check_filter(filter))
          return err;
        return self->delegate(env.repository, atom::list::value, filter);
      },
      [=](atom::get, atom::alert, const std::string& manager,
          const std::string& dedup) {
        return with_alert<domain::alert>(
            self, env, manager, dedup,
            [](domain::alert& a,
               caf::typed_response_promise<domain::alert>& rp) {
              rp.deliver(std::move(a));
            });
      },
      [=](atom::children, const std::string& manager,
          const std::string& dedup) {
        return with_alert<alerts>(
            self, env, manager, dedup,
            [=](domain::alert& parent,
                caf::typed_response_promise<alerts>& rp) {
              if (!parent.is_parent()) {
                rp.deliver(make_error(ec::bad_request,
                                      "alert '" + parent.dedup_key +
                                          "' is a child; only parents have "
                                          "children"));
                return;
              }
              rp.delegate(env.repository, atom::children::value,
                          parent.event_manager_id, parent.dedup_key);
            });
      },
      [=](atom::ingest, event_submission& s) -> caf::result<atom::ok> {
        if (auto err = ingest(self, env, s))
          return err;
        std::vector<domain::event> one;
        one.push_back(std::move(s.event));
        return self->delegate(env.ingest, atom::apply::value, std::move(one));
      },
      [=](atom::groups, const std::string& manager)
          -> caf::typed_response_promise<std::vector<group_view>> {
        auto rp = self->make_response_promise<std::vector<group_view>>();
        domain::alert_filter parents{manager, "active", "parent",
                                     max_group_rows, 0};
        auto children = parents;
        children.type = "child";
        self->request(env.repository, inner_timeout, atom::list::value, parents)
            .then(
                [=](alerts& ps) mutable {
                  self->request(env.repository, inner_timeout,
                                atom::list::value, children)
                      .then(
                          [=, ps = std::move(ps)](alerts& cs) mutable {
                            rp.deliver(views_of(ps, cs, env.ctx->now()));
                          },
                          [=](caf::error& err) mutable {
                            rp.deliver(std::move(err));
                          });
                },
                [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
      [=](atom::list, atom::notify,
          uint64_t limit) -> caf::result<std::vector<domain::notification>> {
        if (limit < 1 || limit > 10000)
          return make_error(ec::bad_request,
                            "limit must be an integer from 1 to 10000");
        return self->delegate(env.notifier, atom::list::value, limit);
      },
      [=](atom::members) -> caf::result<std::vector<member_info>> {
        if (!env.cluster)
          return not_clustered();
        return self->delegate(env.cluster, atom::members::value);
      },
      [=](atom::join,
          member_info& peer) -> caf::result<std::vector<member_info>> {
        if (!env.cluster)
          return not_clustered();
        return self->delegate(env.cluster, atom::join::value, std::move(peer));
      },
      [=](atom::leave, std::string& id) {
        if (env.cluster)
          self->send(env.cluster, atom::leave::value, std::move(id));
      },
      [=](atom::sync, catalog_change& change) {
        self->send(env.catalog, atom::sync::value, std::move(change));
      },
      [=](atom::forward,
          std::vector<domain::event>& events) -> caf::result<atom::ok> {
        if (!env.cluster)
          return not_clustered();
        return self->delegate(env.cluster, atom::forward::value,
                              std::move(events));
      },
      [=](atom::handover, std::string& from, std::vector<std::string>& live) {
        if (env.cluster)
          self->send(env.cluster, atom::handover::value, std::move(from),
                     std::move(live));
      },
      [=](atom::get, std::vector<domain::alert_key>& keys)
          -> caf::result<std::vector<domain::alert_location>> {
        if (!env.cluster)
          return not_clustered();
        return self->delegate(env.cluster, atom::get::value, std::move(keys));
      },
      [=](atom::leave) -> caf::result<atom::ok> {
        if (!env.cluster)
          return not_clustered();
        auto rp = self->make_response_promise<atom::ok>();
        self->request(env.cluster, inner_timeout, atom::leave::value)
            .then(
                [=](atom::ok) mutable {
                  rp.deliver(atom::ok::value);
                  // The reply goes out first; the shutdown then drains the
                  // node as SIGTERM does.
                  if (env.shutdown)
                    env.shutdown();
                },
                [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      },
  };
}

void enable_remoting(caf::actor_system_config& cfg,
                     const config::tls_settings& tls) {
  cfg.load<caf::io::middleman>();
  if (!tls.enabled())
    return;
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = tls.certificate;
  cfg.openssl_key = tls.key;
  cfg.openssl_cafile = tls.ca;
}

caf::error check_tls(const config::tls_settings& tls,
                     const std::string& prefix) {
  if (!tls.enabled())
    return {};
  auto fail = [&](const std::string& key, const std::string& what,
                  const std::string& path) {
    char reason[256] = "unknown reason";
    if (auto code = ERR_get_error())
      ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    return make_error(ec::validation_failed, prefix + key + ": " + what + " " +
                                                 path + " (" + reason + ")");
  };
  for (auto [key, path] :
       {std::pair{"certificate", &tls.certificate}, std::pair{"key", &tls.key},
        std::pair{"ca", &tls.ca}})
    if (path->empty())
      return make_error(ec::validation_failed,
                        prefix + key +
                            " is missing: TLS needs certificate, key and ca");
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{
      SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx)
    return make_error(ec::internal, "cannot create an OpenSSL context");
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.certificate.c_str()) !=
      1)
    return fail("certificate", "cannot load a certificate from",
                tls.certificate);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(),
                                  SSL_FILETYPE_PEM) != 1)
    return fail("key", "cannot load a private key from", tls.key);
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return fail("key", "does not match the certificate:", tls.key);
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1)
    return fail("ca", "cannot load CA certificates from", tls.ca);
  return {};
}

caf::expected<uint16_t> publish_admin(const admin_actor& admin,
                                      const std::string& host, uint16_t port,
                                      bool tls) {
  auto& sys = admin.home_system();
  if (tls)
    return caf::openssl::publish(admin, port, host.c_str(), true);
  return sys.middleman().publish(admin, port, host.c_str(), true);
}

void unpublish_admin(const admin_actor& admin, uint16_t port, bool tls) {
  auto& sys = admin.home_system();
  auto mm = tls ? sys.openssl_manager().actor_handle()
                : sys.middleman().actor_handle();
  caf::scoped_actor self{sys, true};
  self->request(mm, std::chrono::seconds{5}, caf::unpublish_atom::value,
                admin.address(), port)
      .receive([] {},
               [&](caf::error& err) {
                 LOG_WARNING("cannot close the admin endpoint on port "
                             << port << ": " << sys.render(err));
               });
}

} // namespace argus::actors
