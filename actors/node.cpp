#include "actors/node.hpp"

#include "actors/admin.hpp"
#include "actors/catalog.hpp"
#include "actors/cluster.hpp"
#include "actors/ingest.hpp"
#include "actors/notifier.hpp"
#include "actors/repository.hpp"
#include "actors/router.hpp"
#include "actors/storage.hpp"
#include "config/log.hpp"
#include "domain/error.hpp"

#include <caf/scoped_actor.hpp>

#include <csignal>
#include <filesystem>
#include <functional>
#include <thread>

#include <unistd.h>

namespace argus::actors {

namespace {

constexpr auto drain_timeout = std::chrono::seconds{60};

caf::expected<std::unique_ptr<storage>>
open_store(const config::storage_settings& s) {
  if (s.backend == "memory")
    return make_memory_storage();
  if (s.backend == "postgres")
    return open_postgres_storage(s.dsn);
  return open_sqlite_storage(s.path);
}

/// The journal's backend for these settings: a file journal beside the
/// SQLite database (or at ingest.journal_path).
caf::expected<std::unique_ptr<journal_backend>>
open_journal_backend(const config::settings& s) {
  // With PostgreSQL the journal lives in the database, beside the state.
  if (s.storage.backend == "postgres")
    return open_postgres_journal(s.storage.dsn);
  auto dir = s.ingest.journal_path;
  if (dir.empty())
    dir = (std::filesystem::path{s.storage.path}.parent_path() / "journal")
              .string();
  return open_file_journal(dir);
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
  auto open_work = (*store)->open_work();
  if (!open_work)
    return open_work.error();
  // With the journal on: where the store stands, what it already reflects
  // beyond that, and the journal to replay from.
  auto durable = config::journaled(settings);
  uint64_t applied_through = 0;
  std::vector<domain::alert> recent;
  std::unique_ptr<journal_backend> journal_store;
  if (durable) {
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
  auto clustered = settings.cluster.enabled();
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
  n->repository_ =
      sys.spawn(actors::repository, std::shared_ptr<storage>{std::move(*store)},
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
  std::vector<std::vector<domain::alert>> shares(n->routers_.size());
  std::vector<std::vector<domain::alert>> guards(n->routers_.size());
  for (auto& a : *open_work)
    shares[router_index(a.event_manager_id, shares.size())].push_back(
        std::move(a));
  for (auto& a : recent)
    guards[router_index(a.event_manager_id, guards.size())].push_back(
        std::move(a));
  caf::scoped_actor self{sys};
  caf::error failure;
  for (size_t i = 0; i < shares.size(); ++i)
    self->request(n->routers_[i], drain_timeout, atom::restore::value,
                  shares[i], guards[i])
        .receive([](atom::ok) {},
                 [&](caf::error& err) { failure = std::move(err); });
  if (failure)
    return failure;
  LOG_INFO("recovered " << n->view_->get()->rules.size() << " rules, "
                        << n->view_->get()->managers.size() << " managers, "
                        << open_work->size() << " open alerts");
  if (durable) {
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
  if (remoting) {
    admin_env env{n->catalog_,  n->repository_,
                  n->notifier_, n->routers_,
                  n->ingest_,   n->view_,
                  shared_ctx,   n->backend_,
                  started,      settings.ingest.max_pending_events,
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
        caf::anon_send(n->cluster_, atom::reconnect::value, seed,
                       uint32_t{0});
    }
  }
  return n;
}

caf::error node::ingest(std::vector<domain::event> events) {
  if (events.empty())
    return {};
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

caf::error node::replay(journal_backend& backend, uint64_t applied_through) {
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

const router_actor& node::router_for(const std::string& manager_id) const {
  return routers_[router_index(manager_id, routers_.size())];
}

caf::error node::drain() {
  caf::scoped_actor self{*system_};
  caf::error failure;
  // Routers first: once each answers, its groups applied everything and
  // sent their changes to the repository, which the flush then writes.
  for (auto& r : routers_)
    self->request(r, drain_timeout, atom::drain::value)
        .receive([](atom::ok) {},
                 [&](caf::error& err) { failure = std::move(err); });
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
                   LOG_WARNING("leaving the cluster failed: "
                               << message_of(err));
                 });
  }
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
  self->send_exit(catalog_, caf::exit_reason::user_shutdown);
  self->send_exit(notifier_, caf::exit_reason::user_shutdown);
  self->send_exit(repository_, caf::exit_reason::user_shutdown);
}

node::~node() {
  stop();
  if (view_)
    view_->on_change = nullptr; // holds the cluster actor
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
