#include "actors/admin_ops.hpp"

#include "domain/admission.hpp"
#include "domain/auth.hpp"
#include "domain/error.hpp"
#include "domain/keys.hpp"

#include <caf/actor_system.hpp>

#include <memory>
#include <unordered_map>
#include <utility>

namespace argus::actors::admin_ops {

namespace {

/// Most active parents (and children) `groups` reads at once.
constexpr int64_t max_group_rows = 100000;

/// How the admin endpoint names a field in its errors.
std::string plain(const std::string& field) {
  return field;
}

/// Asks the repository for the alert of (manager, dedup), then runs `next`
/// on it.
template <class T, class Next>
caf::typed_response_promise<T> with_alert(admin_self self, const admin_env& env,
                                          const std::string& manager,
                                          const std::string& dedup, Next next) {
  auto rp = self->make_response_promise<T>();
  self->request(env.node.repository, inner_timeout, atom::get::value, manager,
                dedup)
      .then(
          [=](alerts& found) mutable {
            auto a =
                domain::single_alert(found, dedup, "name one with --manager");
            if (!a)
              rp.deliver(std::move(a.error()));
            else
              next(*a, rp);
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace

caf::typed_response_promise<node_status> status(admin_self self,
                                                const admin_env& env) {
  auto rp = std::make_shared<caf::typed_response_promise<node_status>>(
      self->make_response_promise<node_status>());
  auto st = std::make_shared<node_status>(
      local_status(env.node, caf::to_string(self->system().node())));
  auto& routers = env.node.routers;
  auto pending = std::make_shared<size_t>(1 + routers.size());
  auto done = [=] {
    if (--*pending == 0 && rp->pending())
      rp->deliver(*st);
  };
  auto fail = [=](caf::error& err) {
    if (rp->pending())
      rp->deliver(std::move(err));
  };
  self->request(env.node.repository, inner_timeout, atom::count::value)
      .then(
          [=](int64_t active, int64_t resolved) {
            st->alerts_active = active;
            st->alerts_resolved = resolved;
            done();
          },
          fail);
  for (size_t i = 0; i < routers.size(); ++i)
    self->request(routers[i], inner_timeout, atom::count::value)
        .then(
            [=](uint64_t n) {
              st->groups_per_router[i] = n;
              done();
            },
            fail);
  return *rp;
}

caf::result<atom::ok> ingest(admin_self self, const admin_env& env,
                             event_submission& s) {
  auto& stats = env.node.stats();
  auto relaxed = std::memory_order_relaxed;
  auto& registry = env.node.registry();
  stats.events_received.fetch_add(1, relaxed);
  registry.event_received(::argus::metrics::front::cli);
  if (auto err = env.node.check_backlog(1)) {
    registry.backpressure_refused(::argus::metrics::front::cli);
    return err;
  }
  auto& fields = s.fields;
  auto lookup = [&fields](const std::string& name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::nullopt
                              : std::optional<std::string>{it->second};
  };
  auto e = domain::admit(std::move(s.event), *env.node.catalog_now(), lookup,
                         env.node.ctx->now());
  if (!e) {
    stats.events_rejected.fetch_add(1, relaxed);
    registry.event_rejected(::argus::metrics::front::cli);
    return std::move(e.error());
  }
  std::vector<domain::event> one;
  one.push_back(std::move(*e));
  auto& admitted = one.front();
  // A trigger over its manager's rate limit is refused like any sender's
  // event (the CLI prints the message; the limiter counted it). The other
  // actions are an operator's (audited below), never limited.
  if (admitted.act == domain::action::trigger)
    if (auto refusal = env.node.check_rate(one))
      return domain::to_error(*refusal);
  registry.event_accepted(::argus::metrics::front::cli,
                          admitted.event_manager_id);
  // An operator's acknowledge, unacknowledge or resolve is a manual alert
  // action: audited as argusctl's (a trigger is ingestion, not a change).
  if (admitted.act != domain::action::trigger)
    self->send(env.node.repository, atom::audit::value,
               domain::make_audit("argusctl",
                                  std::string{to_string(admitted.act)}, "alert",
                                  admitted.dedup_key, admitted.event_manager_id,
                                  env.node.ctx->now()));
  return self->delegate(env.node.ingest_handle, atom::apply::value,
                        std::move(one));
}

caf::result<alerts> list(admin_self self, const admin_env& env,
                         const domain::alert_filter& filter) {
  if (auto err = domain::check_filter(filter, plain))
    return err;
  return self->delegate(env.node.repository, atom::list::value, filter);
}

caf::typed_response_promise<domain::alert> alert(admin_self self,
                                                 const admin_env& env,
                                                 const std::string& manager,
                                                 const std::string& dedup) {
  return with_alert<domain::alert>(
      self, env, manager, dedup,
      [](domain::alert& a, caf::typed_response_promise<domain::alert>& rp) {
        rp.deliver(std::move(a));
      });
}

caf::typed_response_promise<alerts> children(admin_self self,
                                             const admin_env& env,
                                             const std::string& manager,
                                             const std::string& dedup) {
  auto repository = env.node.repository;
  return with_alert<alerts>(
      self, env, manager, dedup,
      [=](domain::alert& parent, caf::typed_response_promise<alerts>& rp) {
        if (!parent.is_parent()) {
          rp.deliver(
              make_error(ec::bad_request, "alert '" + parent.dedup_key +
                                              "' is a child; only parents have "
                                              "children"));
          return;
        }
        rp.delegate(repository, atom::children::value,
                    parent.event_manager_id.str(), parent.dedup_key.str());
      });
}

caf::typed_response_promise<std::vector<group_view>>
groups(admin_self self, const admin_env& env, const std::string& manager) {
  auto rp = self->make_response_promise<std::vector<group_view>>();
  domain::alert_filter parents{manager, "active", "parent", max_group_rows, 0};
  auto children = parents;
  children.type = "child";
  auto repository = env.node.repository;
  auto ctx = env.node.ctx;
  auto fail = [=](caf::error& err) mutable { rp.deliver(std::move(err)); };
  self->request(repository, inner_timeout, atom::list::value, parents)
      .then(
          [=](alerts& ps) mutable {
            self->request(repository, inner_timeout, atom::list::value,
                          children)
                .then(
                    [=, ps = std::move(ps)](alerts& cs) mutable {
                      rp.deliver(views_of(ps, cs, ctx->now()));
                    },
                    fail);
          },
          fail);
  return rp;
}

caf::result<std::vector<domain::notification_record>>
notifications(admin_self self, const admin_env& env,
              const domain::notification_filter& filter) {
  if (auto err = domain::check_notification_filter(
          filter, [](const std::string& field) { return field; }))
    return err;
  return self->delegate(env.node.notifier, atom::list::value, filter);
}

std::vector<group_view> views_of(const alerts& parents, const alerts& children,
                                 domain::time_point now) {
  // Active children per parent: (manager, parent dedupKey).
  std::unordered_map<domain::alert_key, int64_t> active_children;
  for (auto& c : children)
    ++active_children[{c.event_manager_id, c.parent_dedup_key}];
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
    auto it = active_children.find({p.event_manager_id, p.dedup_key});
    g.active_children = it == active_children.end() ? 0 : it->second;
    g.resolve_requested = p.resolve_requested;
    g.window_ends_at = p.window_ends_at;
    if (p.has_grouping_value && p.window_ends_at > now)
      g.window_left = p.window_ends_at - now;
    out.push_back(std::move(g));
  }
  return out;
}

} // namespace argus::actors::admin_ops
