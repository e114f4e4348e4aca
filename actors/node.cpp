#include "actors/node.hpp"

#include "actors/admin.hpp"
#include "actors/ask_all.hpp"
#include "actors/catalog.hpp"
#include "actors/cluster.hpp"
#include "actors/ingest.hpp"
#include "actors/notifier.hpp"
#include "actors/repository.hpp"
#include "actors/router.hpp"
#include "actors/thread_self.hpp"
#include "config/log.hpp"
#include "domain/error.hpp"
#include "storage/store.hpp"

#include <caf/scoped_actor.hpp>

#include <csignal>
#include <filesystem>
#include <functional>
#include <thread>

#include <unistd.h>

namespace argus::actors {

namespace {

constexpr auto drain_timeout = std::chrono::seconds{60};

/// How long a peer may take to journal events forwarded to it.
constexpr auto forward_timeout = std::chrono::seconds{5};

/// Threads that journal events peers forward: their appends share commits.
constexpr size_t forward_receivers = 8;

caf::expected<std::unique_ptr<storage::store>>
open_store(const config::storage_settings& s) {
  if (s.backend == "memory")
    return storage::make_memory_store();
  if (s.backend == "postgres")
    return storage::open_postgres_store(s.dsn);
  return storage::open_sqlite_store(s.path);
}

/// The journal's backend for these settings: a file journal beside the
/// SQLite database (or at ingest.journal_path).
caf::expected<std::unique_ptr<storage::journal_backend>>
open_journal_backend(const config::settings& s) {
  // With PostgreSQL the journal lives in the database, beside the state.
  if (s.storage.backend == "postgres")
    return storage::open_postgres_journal(s.storage.dsn);
  auto dir = s.ingest.journal_path;
  if (dir.empty())
    dir = (std::filesystem::path{s.storage.path}.parent_path() / "journal")
              .string();
  return storage::open_file_journal(dir);
}

/// How often the repository may trim the journal after a flush.
constexpr auto trim_every = std::chrono::seconds{1};

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

} // namespace

template <class Send>
caf::error node::ask_routers(Send send) {
  caf::scoped_actor self{*system_};
  return first_error(ask_all<atom::ok>(
      self, routers_, send, [](size_t, atom::ok) { return caf::error{}; }));
}

template <class T, class Items, class Send, class Take>
std::vector<caf::error> node::ask_all_from_thread(const Items& items, Send send,
                                                  Take take) {
  auto errors = ask_all<T>(thread_self(*system_, false), items, send, take);
  // A late reply to a timed-out request must not be taken for the answer
  // to a later one.
  for (auto& err : errors)
    if (err && err.category() != caf::atom("argus")) {
      thread_self(*system_, true);
      break;
    }
  return errors;
}

size_t router_index(const std::string& manager_id, size_t routers) {
  return std::hash<std::string>{}(manager_id) % routers;
}

caf::expected<std::unique_ptr<node>>
node::start(const config::settings& settings, std::shared_ptr<context> ctx) {
  auto store = open_store(settings.storage);
  if (!store)
    return store.error();
  auto initial_catalog = (*store)->load_catalog();
  if (!initial_catalog)
    return initial_catalog.error();
  auto clustered = settings.cluster.enabled();
  // A clustered node loads the groups it owns once it knows the members.
  auto open_work =
      clustered ? std::vector<domain::alert>{} : (*store)->open_work();
  if (!open_work)
    return open_work.error();
  // With the journal on: where the store stands, what it already reflects
  // beyond that, and the journal to replay from.
  auto durable = config::journaled(settings);
  uint64_t applied_through = 0;
  std::vector<domain::alert> recent;
  std::unique_ptr<storage::journal_backend> journal_store;
  // Clustered, every start journals under a new id and holds that id's lock
  // while the process lives; peers adopt what a dead one left.
  std::string incarnation;
  std::unique_ptr<storage::journal_fence> fence;
  if (durable && clustered) {
    incarnation = settings.cluster.node_id + "/" + domain::random_uuid();
    auto fenced = storage::open_postgres_fence(settings.storage.dsn);
    if (!fenced)
      return fenced.error();
    if (auto err = (*fenced)->hold(incarnation))
      return err;
    fence = std::move(*fenced);
    auto opened =
        storage::open_postgres_journal(settings.storage.dsn, incarnation);
    if (!opened)
      return opened.error();
    journal_store = std::move(*opened);
  } else if (durable) {
    auto mark = (*store)->applied_through();
    if (!mark)
      return mark.error();
    applied_through = *mark;
    auto changed = (*store)->applied_after(applied_through);
    if (!changed)
      return changed.error();
    recent = std::move(*changed);
    auto opened = open_journal_backend(settings);
    if (!opened)
      return opened.error();
    journal_store = std::move(*opened);
  }
  auto remoting = settings.node.port != 0;
  // CAF would notice a bad TLS file only at the first connection, and abort.
  if (remoting)
    if (auto err = check_tls(settings.node.tls, "node.tls."))
      return err;
  auto started = std::chrono::steady_clock::now();
  std::unique_ptr<node> n{new node};
  n->ctx_ = std::move(ctx);
  n->backend_ = (*store)->backend();
  n->view_ = std::make_shared<catalog_view>();
  n->cfg_ = std::make_unique<caf::actor_system_config>();
  auto& cfg = *n->cfg_;
  register_types(cfg);
  cfg.set("scheduler.max-threads", settings.actors.threads);
  cfg.set("scheduler.policy", settings.actors.policy == "stealing"
                                  ? caf::atom("stealing")
                                  : caf::atom("sharing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  if (remoting)
    enable_remoting(cfg, settings.node.tls);
  if (clustered) {
    // Without heartbeats CAF never notices a peer that hangs with its TCP
    // connection open; set on every node.
    cfg.set("middleman.heartbeat-interval",
            caf::timespan{std::chrono::milliseconds{
                settings.cluster.heartbeat_interval_ms}});
    cfg.set("middleman.connection-timeout",
            caf::timespan{std::chrono::milliseconds{
                settings.cluster.failure_timeout_ms}});
  }
  n->system_ = std::make_unique<caf::actor_system>(cfg);
  auto& sys = *n->system_;
  repository_settings repo_settings;
  repo_settings.batch_size = settings.storage.batch_size;
  repo_settings.flush_interval =
      std::chrono::milliseconds{settings.storage.flush_interval_ms};
  repo_settings.applied_through = applied_through;
  repo_settings.journal_id = incarnation;
  repo_settings.on_persisted =
      [slot = n->journal_slot_,
       last = std::chrono::steady_clock::time_point{}](uint64_t mark) mutable {
        auto j = slot->load();
        auto now = std::chrono::steady_clock::now();
        if (j == nullptr || now - last < trim_every)
          return;
        last = now;
        if (auto err = j->trim_through(mark))
          LOG_WARNING("journal trim failed: " << message_of(err));
      };
  context_ptr shared_ctx = n->ctx_;
  // Detached: the store blocks on disk and network I/O, which must not hold
  // a thread of the shared scheduler.
  n->repository_ = sys.spawn<caf::detached>(
      actors::repository, std::shared_ptr<storage::store>{std::move(*store)},
      repo_settings, shared_ctx);
  n->notifier_ =
      sys.spawn(actors::notifier, settings.notifications.keep, shared_ctx);
  n->catalog_ = sys.spawn(actors::catalog, std::move(*initial_catalog),
                          n->repository_, n->view_, shared_ctx);
  for (size_t i = 0; i < settings.actors.routers; ++i)
    n->routers_.push_back(
        sys.spawn(actors::router, n->repository_, n->notifier_, shared_ctx));
  // Hand each router the open work of its managers, and wait, so the first
  // event after start finds its group (and open window) in place.
  auto open_alerts = open_work->size();
  if (auto err = n->restore(std::move(*open_work), std::move(recent)))
    return err;
  LOG_INFO("recovered " << n->view_->get()->rules.size() << " rules, "
                        << n->view_->get()->managers.size() << " managers, "
                        << open_alerts << " open alerts");
  if (durable) {
    if (!clustered)
      if (auto err = n->replay(*journal_store, applied_through))
        return err;
    auto* raw = n.get();
    n->journal_ = std::make_unique<journal>(
        std::move(journal_store), applied_through,
        [raw](std::vector<domain::event>& events) { raw->deliver(events); });
    n->journal_slot_->store(n->journal_.get());
  }
  n->ingest_ = sys.spawn<caf::detached>(
      actors::ingest, [raw = n.get()](std::vector<domain::event> events) {
        return raw->ingest(std::move(events));
      });
  if (clustered)
    if (auto err = n->start_cluster(settings, std::move(fence), incarnation))
      return err;
  if (remoting) {
    admin_env env{n->catalog_,     n->repository_,
                  n->notifier_,    n->routers_,
                  n->ingest_,      n->view_,
                  shared_ctx,      n->backend_,
                  started,         settings.ingest.max_pending_events,
                  cluster_actor{}, {}};
    cluster_env members;
    if (clustered) {
      members.node_id = settings.cluster.node_id;
      members.address =
          settings.node.host + ":" + std::to_string(settings.node.port);
      for (auto& seed : settings.cluster.seeds)
        if (seed != members.address)
          members.seeds.push_back(seed);
      members.tls = settings.node.tls.enabled();
      members.repository = n->repository_;
      members.catalog = n->catalog_;
      members.incarnation = incarnation;
      members.receivers = n->receivers_;
      members.routers = n->routers_;
      members.on_view = [own = n->ownership_.get()](cluster_view v) {
        own->on_view(std::move(v));
      };
      members.on_handover =
          [own = n->ownership_.get()](const std::string& from,
                                      std::vector<std::string> live) {
            own->on_handover(from, std::move(live));
          };
      n->cluster_ = sys.spawn(actors::cluster, members);
      n->view_->on_change = [cluster = n->cluster_](const catalog_change& c) {
        caf::anon_send(cluster, atom::publish::value, c);
      };
      env.cluster = n->cluster_;
      env.shutdown = [] {
        // After the reply to argusctl is out: the same orderly stop as
        // SIGTERM (main waits for it with sigwait).
        std::thread{[] {
          std::this_thread::sleep_for(std::chrono::milliseconds{200});
          ::kill(::getpid(), SIGTERM);
        }}.detach();
      };
    }
    n->admin_ = sys.spawn(actors::admin, std::move(env));
    auto port = publish(n->admin_, settings.node);
    if (!port)
      return port.error();
    n->admin_port_ = *port;
    n->admin_tls_ = settings.node.tls.enabled();
    LOG_INFO("admin endpoint on " << settings.node.host << ":" << *port
                                  << (n->admin_tls_ ? " (TLS)" : ""));
    if (clustered) {
      LOG_INFO("cluster: node " << members.node_id << " joining through "
                                << members.seeds.size() << " seeds");
      for (auto& seed : members.seeds)
        caf::anon_send(n->cluster_, atom::reconnect::value, seed, uint32_t{0});
    }
  }
  return n;
}

caf::error node::start_cluster(const config::settings& settings,
                               std::unique_ptr<storage::journal_fence> fence,
                               const std::string& incarnation) {
  ownership_hooks hooks;
  node_id_ = settings.cluster.node_id;
  hooks.self_id = settings.cluster.node_id;
  hooks.incarnation = incarnation;
  hooks.fence = std::move(fence);
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
                           const std::vector<std::string>& managers,
                           const std::vector<std::string>& dedups) {
    std::vector<caf::expected<std::vector<std::string>>> answers(
        nodes.size(), std::vector<std::string>{});
    auto errors = ask_all_from_thread<std::vector<std::string>>(
        nodes,
        [&](caf::scoped_actor& self, const caf::actor& node) {
          return self->request(node, forward_timeout, atom::get::value,
                               managers, dedups);
        },
        [&](size_t i, std::vector<std::string>& found) {
          answers[i] = std::move(found);
          return caf::error{};
        });
    for (size_t k = 0; k < errors.size(); ++k)
      if (errors[k])
        answers[k] = std::move(errors[k]);
    return answers;
  };
  hooks.local = [this] { return caf::actor_cast<caf::actor>(cluster_); };
  hooks.stored =
      [this](const std::string& manager,
             const std::string& dedup) -> std::optional<domain::alert> {
    std::optional<domain::alert> found;
    thread_self(*system_, false)
        ->request(repository_, forward_timeout, atom::get::value, manager,
                  dedup)
        .receive(
            [&](std::vector<domain::alert>& xs) {
              for (auto& a : xs)
                if (a.is_active())
                  found = std::move(a);
            },
            [](caf::error&) {});
    return found;
  };
  hooks.overloaded =
      [this, bound = settings.ingest.max_pending_events](size_t incoming) {
        return ctx_->stats->backlog() + incoming > bound;
      };
  hooks.accept = [this](std::vector<domain::event> events) {
    return accept(std::move(events));
  };
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

std::optional<node::cluster_status> node::cluster_state() const {
  if (!ownership_)
    return std::nullopt;
  return cluster_status{node_id_, ownership_->live(), ownership_->settled()};
}

caf::error node::ingest(std::vector<domain::event> events) {
  if (events.empty())
    return {};
  if (ownership_)
    return ownership_->ingest(std::move(events));
  return accept(std::move(events));
}

caf::error node::accept(std::vector<domain::event> events) {
  if (!journal_) {
    deliver(events);
    return {};
  }
  if (auto err = journal_->append(std::move(events)))
    return make_error(ec::unavailable,
                      "not accepted, retry later: " + message_of(err));
  return {};
}

void node::deliver(std::vector<domain::event>& events) {
  ctx_->stats->events_accepted.fetch_add(events.size(),
                                         std::memory_order_relaxed);
  std::vector<std::vector<domain::event>> per_router(routers_.size());
  for (auto& e : events)
    per_router[router_index(e.event_manager_id, routers_.size())].push_back(
        std::move(e));
  for (size_t i = 0; i < per_router.size(); ++i)
    if (!per_router[i].empty())
      caf::anon_send(routers_[i], atom::apply::value, std::move(per_router[i]));
}

caf::error node::replay(storage::journal_backend& backend,
                        uint64_t applied_through) {
  std::vector<std::vector<domain::event>> per_router(routers_.size());
  size_t replayed = 0;
  auto hand_over = [&] {
    for (size_t i = 0; i < per_router.size(); ++i)
      if (!per_router[i].empty()) {
        caf::anon_send(routers_[i], atom::apply::value,
                       std::move(per_router[i]));
        per_router[i] = {};
      }
  };
  auto err = backend.replay(applied_through, [&](domain::event& e) {
    per_router[router_index(e.event_manager_id, routers_.size())].push_back(
        std::move(e));
    if (++replayed % 10000 == 0)
      hand_over();
  });
  hand_over();
  if (err)
    return err;
  // They were accepted before the restart; counting them keeps the
  // pending-events bound honest.
  ctx_->stats->events_accepted.fetch_add(replayed, std::memory_order_relaxed);
  if (replayed > 0)
    LOG_INFO("replaying " << replayed << " journaled events after mark "
                          << applied_through);
  if (auto drained = drain())
    return drained;
  for (auto& r : routers_)
    caf::anon_send(r, atom::replayed::value);
  return {};
}

caf::error node::restore(std::vector<domain::alert> alerts,
                         std::vector<domain::alert> recent) {
  std::vector<std::vector<domain::alert>> shares(routers_.size());
  std::vector<std::vector<domain::alert>> guards(routers_.size());
  for (auto& a : alerts)
    shares[router_index(a.event_manager_id, shares.size())].push_back(
        std::move(a));
  for (auto& a : recent)
    guards[router_index(a.event_manager_id, guards.size())].push_back(
        std::move(a));
  size_t next = 0;
  return ask_routers([&](caf::scoped_actor& self, const router_actor& r) {
    auto i = next++; // routers are asked in order
    return self->request(r, drain_timeout, atom::restore::value,
                         std::move(shares[i]), std::move(guards[i]));
  });
}

const router_actor& node::router_for(const std::string& manager_id) const {
  return routers_[router_index(manager_id, routers_.size())];
}

caf::error node::drain() {
  // Routers first: once each answers, its groups applied everything and
  // sent their changes to the repository, which the flush then writes.
  auto failure =
      ask_routers([](caf::scoped_actor& self, const router_actor& r) {
        return self->request(r, drain_timeout, atom::drain::value);
      });
  caf::scoped_actor self{*system_};
  self->request(repository_, drain_timeout, atom::flush::value)
      .receive([](atom::ok) {},
               [&](caf::error& err) {
                 if (!failure)
                   failure = std::move(err);
               });
  return failure;
}

void node::stop() {
  if (stopped_ || !system_)
    return;
  stopped_ = true;
  if (cluster_) {
    // Tell the peers first, so they count this node as gone at once.
    caf::scoped_actor self{*system_};
    self->request(cluster_, std::chrono::seconds{3}, atom::leave::value)
        .receive([](atom::ok) {},
                 [](caf::error& err) {
                   LOG_WARNING(
                       "leaving the cluster failed: " << message_of(err));
                 });
  }
  // Hands nothing over any more: peers take this node's groups from the
  // store once its process (and journal lock) is gone.
  if (ownership_)
    ownership_->stop();
  // No admin requests past this point: argusctl gets "unreachable".
  if (admin_port_ != 0)
    unpublish_admin(admin_, admin_port_, admin_tls_);
  if (auto err = drain())
    LOG_ERROR("draining at shutdown failed: " << message_of(err));
  caf::scoped_actor self{*system_};
  if (admin_)
    self->send_exit(admin_, caf::exit_reason::user_shutdown);
  if (cluster_)
    self->send_exit(cluster_, caf::exit_reason::user_shutdown);
  for (auto& r : routers_)
    self->send_exit(r, caf::exit_reason::user_shutdown);
  if (ingest_)
    self->send_exit(ingest_, caf::exit_reason::user_shutdown);
  for (auto& r : receivers_)
    self->send_exit(r, caf::exit_reason::user_shutdown);
  self->send_exit(catalog_, caf::exit_reason::user_shutdown);
  self->send_exit(notifier_, caf::exit_reason::user_shutdown);
  self->send_exit(repository_, caf::exit_reason::user_shutdown);
}

node::~node() {
  stop();
  if (view_)
    view_->on_change = nullptr; // holds the cluster actor
  ownership_.reset();
  receivers_.clear();
  routers_.clear();
  repository_ = nullptr;
  notifier_ = nullptr;
  catalog_ = nullptr;
  admin_ = nullptr;
  cluster_ = nullptr;
  ingest_ = nullptr;
  system_.reset(); // waits for every actor to terminate
  journal_slot_->store(nullptr);
  journal_.reset(); // after the repository, which trims it
}

} // namespace argus::actors
