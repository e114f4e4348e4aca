// The node's cluster and admin wiring: ownership's hooks, the receivers of
// forwarded events, the cluster actor and the published admin actor.
#include "actors/admin.hpp"
#include "actors/cluster.hpp"
#include "actors/node.hpp"
#include "actors/node_asks.hpp"
#include "config/log.hpp"
#include "domain/admission.hpp"
#include "domain/error.hpp"

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <csignal>
#include <cstdlib>
#include <thread>

#include <unistd.h>

namespace argus::actors {

namespace {

constexpr auto drain_timeout = std::chrono::seconds{60};

/// Threads that journal events peers forward: their appends share commits.
constexpr size_t forward_receivers = 8;

/// Publishes the admin actor on node.host:node.port; the error names the
/// address, so that a port taken by another process is easy to tell.
caf::expected<uint16_t> publish(const admin_actor& admin,
                                const config::node_settings& s) {
  auto port = publish_admin(admin, s.host, s.port, s.tls.enabled());
  if (!port)
    return make_error(ec::internal,
                      "cannot listen on node endpoint " + s.host + ":" +
                          std::to_string(s.port) + ": " +
                          admin.home_system().render(port.error()));
  return port;
}

/// The cluster actor's settings, but for the actors and hooks the node
/// fills in.
cluster_env members_of(const config::settings& settings,
                       const std::string& incarnation) {
  cluster_env members;
  members.node_id = settings.cluster.node_id;
  members.address =
      settings.node.host + ":" + std::to_string(settings.node.port);
  for (auto& seed : settings.cluster.seeds)
    if (seed != members.address)
      members.seeds.push_back(seed);
  members.tls = settings.node.tls.enabled();
  members.incarnation = incarnation;
  return members;
}

/// argusctl drain's last step, after the reply is out: the same orderly
/// stop as SIGTERM (main waits for it with sigwait).
void shut_down_process() {
  std::thread{[] {
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    ::kill(::getpid(), SIGTERM);
  }}.detach();
}

} // namespace

caf::error node::start_cluster(const config::settings& settings,
                               std::unique_ptr<storage::journal_fence> fence,
                               const std::string& incarnation) {
  ownership_hooks hooks;
  node_id_ = settings.cluster.node_id;
  hooks.self_id = settings.cluster.node_id;
  hooks.incarnation = incarnation;
  hooks.fence = std::move(fence);
  // Its groups and journal are a peer's now, and what it holds in memory
  // is stale: nothing left to flush or hand over. A supervisor restarts it
  // as a new incarnation, which joins afresh.
  hooks.fenced = [] { std::_Exit(fenced_exit_status); };
  add_group_hooks(hooks);
  add_event_hooks(hooks, settings);
  ownership_ = std::make_unique<ownership>(std::move(hooks));
  // Forwarded events wait for the journal like the front's do: on threads
  // of their own, several so that their appends share commits.
  for (size_t i = 0; i < forward_receivers; ++i)
    receivers_.push_back(system_->spawn<caf::detached>(
        actors::ingest, [own = ownership_.get()](std::vector<domain::event> e) {
          return own->accept_forwarded(std::move(e));
        }));
  return {};
}

void node::add_group_hooks(ownership_hooks& hooks) {
  hooks.drain = [this] { return drain(); };
  hooks.release = [this,
                   id = hooks.self_id](const std::vector<std::string>& live) {
    return ask_routers([&](caf::scoped_actor& self, const router_actor& r) {
      return self->request(r, drain_timeout, atom::release::value, live, id);
    });
  };
  hooks.announce = [this](const std::vector<std::string>& live) {
    if (cluster_)
      caf::anon_send(cluster_, atom::handover::value, live);
  };
  hooks.open_work = [this]() -> caf::expected<std::vector<domain::alert>> {
    caf::expected<std::vector<domain::alert>> result{
        std::vector<domain::alert>{}};
    caf::scoped_actor self{*system_};
    self->request(repository_, drain_timeout, atom::restore::value)
        .receive(
            [&](std::vector<domain::alert>& xs) { result = std::move(xs); },
            [&](caf::error& err) { result = std::move(err); });
    return result;
  };
  hooks.restore = [this](std::vector<domain::alert> alerts) {
    return restore(std::move(alerts), {});
  };
  if (journal_)
    hooks.adopt = [this](std::vector<domain::event> events,
                         const std::string& from) {
      return journal_->adopt(std::move(events), from);
    };
  hooks.stored =
      [this](const domain::alert_key& key) -> std::optional<domain::alert> {
    std::optional<domain::alert> found;
    thread_self(*system_, false)
        ->request(repository_, forward_timeout, atom::get::value,
                  key.event_manager_id, key.dedup_key)
        .receive(
            [&](std::vector<domain::alert>& xs) {
              for (auto& a : xs)
                if (a.is_active())
                  found = std::move(a);
            },
            [](caf::error&) {});
    return found;
  };
}

void node::add_event_hooks(ownership_hooks& hooks,
                           const config::settings& settings) {
  hooks.forward = [this](const std::vector<forward_share>& shares) {
    return ask_all_from_thread<atom::ok>(
        shares,
        [](caf::scoped_actor& self, const forward_share& share) {
          return self->request(share.peer, forward_timeout,
                               atom::forward::value, *share.events);
        },
        [&](size_t i, atom::ok) {
          ctx_->stats->events_forwarded.fetch_add(shares[i].events->size(),
                                                  std::memory_order_relaxed);
          return caf::error{};
        });
  };
  hooks.locate_at = [this](const std::vector<caf::actor>& nodes,
                           const std::vector<domain::alert_key>& keys) {
    using locations = std::vector<domain::alert_location>;
    std::vector<caf::expected<locations>> answers(nodes.size(), locations{});
    auto errors = ask_all_from_thread<locations>(
        nodes,
        [&](caf::scoped_actor& self, const caf::actor& node) {
          return self->request(node, forward_timeout, atom::get::value, keys);
        },
        [&](size_t i, locations& found) {
          answers[i] = std::move(found);
          return caf::error{};
        });
    for (size_t k = 0; k < errors.size(); ++k)
      if (errors[k])
        answers[k] = std::move(errors[k]);
    return answers;
  };
  hooks.local = [this] { return caf::actor_cast<caf::actor>(cluster_); };
  hooks.overloaded =
      [this, bound = settings.ingest.max_pending_events](size_t incoming) {
        return domain::overloaded(ctx_->stats->backlog(), incoming, bound);
      };
  hooks.accept = [this](std::vector<domain::event> events) {
    return accept(std::move(events));
  };
}

caf::error node::start_admin(const config::settings& settings,
                             const std::string& incarnation) {
  auto& sys = *system_;
  admin_env env{front_, cluster_actor{}, {}};
  auto clustered = settings.cluster.enabled();
  auto members = members_of(settings, incarnation);
  if (clustered) {
    members.repository = repository_;
    members.catalog = catalog_;
    members.receivers = receivers_;
    members.routers = routers_;
    members.on_view = [own = ownership_.get()](cluster_view v) {
      own->on_view(std::move(v));
    };
    members.on_handover =
        [own = ownership_.get()](const std::string& from,
                                 std::vector<std::string> live) {
          own->on_handover(from, std::move(live));
        };
    cluster_ = sys.spawn(actors::cluster, members);
    view_->on_change = [cluster = cluster_](const catalog_change& c) {
      caf::anon_send(cluster, atom::publish::value, c);
    };
    env.cluster = cluster_;
    env.shutdown = shut_down_process;
  }
  admin_ = sys.spawn(actors::admin, std::move(env));
  auto port = publish(admin_, settings.node);
  if (!port)
    return port.error();
  admin_port_ = *port;
  admin_tls_ = settings.node.tls.enabled();
  LOG_INFO("admin endpoint on " << settings.node.host << ":" << *port
                                << (admin_tls_ ? " (TLS)" : ""));
  if (clustered) {
    LOG_INFO("cluster: node " << members.node_id << " (incarnation "
                              << members.incarnation << ") joining through "
                              << members.seeds.size() << " seeds");
    for (auto& seed : members.seeds)
      caf::anon_send(cluster_, atom::reconnect::value, seed, uint32_t{0});
  }
  return {};
}

} // namespace argus::actors
