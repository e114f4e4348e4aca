#include "actors/node.hpp"

#include "actors/admin.hpp"
#include "actors/catalog.hpp"
#include "actors/notifier.hpp"
#include "actors/repository.hpp"
#include "actors/router.hpp"
#include "actors/storage.hpp"
#include "config/log.hpp"
#include "domain/error.hpp"

#include <caf/scoped_actor.hpp>

#include <functional>

namespace argus::actors {

namespace {

constexpr auto drain_timeout = std::chrono::seconds{60};

caf::expected<std::unique_ptr<storage>>
open_store(const config::storage_settings& s) {
  if (s.backend == "memory")
    return make_memory_storage();
  return open_sqlite_storage(s.path);
}

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
  n->system_ = std::make_unique<caf::actor_system>(cfg);
  auto& sys = *n->system_;
  repository_settings repo_settings;
  repo_settings.batch_size = settings.storage.batch_size;
  repo_settings.flush_interval =
      std::chrono::milliseconds{settings.storage.flush_interval_ms};
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
  for (auto& a : *open_work)
    shares[std::hash<std::string>{}(a.event_manager_id) % shares.size()]
        .push_back(std::move(a));
  caf::scoped_actor self{sys};
  caf::error failure;
  for (size_t i = 0; i < shares.size(); ++i)
    self->request(n->routers_[i], drain_timeout, atom::restore::value,
                  shares[i])
        .receive([](atom::ok) {},
                 [&](caf::error& err) { failure = std::move(err); });
  if (failure)
    return failure;
  LOG_INFO("recovered " << n->view_->get()->rules.size() << " rules, "
                        << n->view_->get()->managers.size() << " managers, "
                        << open_work->size() << " open alerts");
  if (remoting) {
    admin_env env{
        n->catalog_, n->repository_, n->notifier_,
        n->routers_, n->view_,       shared_ctx,
        n->backend_, started,        settings.ingest.max_pending_events};
    n->admin_ = sys.spawn(actors::admin, std::move(env));
    auto port = publish(n->admin_, settings.node);
    if (!port)
      return port.error();
    n->admin_port_ = *port;
    n->admin_tls_ = settings.node.tls.enabled();
    LOG_INFO("admin endpoint on " << settings.node.host << ":" << *port
                                  << (n->admin_tls_ ? " (TLS)" : ""));
  }
  return n;
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
  // No admin requests past this point: argusctl gets "unreachable".
  if (admin_port_ != 0)
    unpublish_admin(admin_, admin_port_, admin_tls_);
  if (auto err = drain())
    LOG_ERROR("draining at shutdown failed: " << message_of(err));
  caf::scoped_actor self{*system_};
  if (admin_)
    self->send_exit(admin_, caf::exit_reason::user_shutdown);
  for (auto& r : routers_)
    self->send_exit(r, caf::exit_reason::user_shutdown);
  self->send_exit(catalog_, caf::exit_reason::user_shutdown);
  self->send_exit(notifier_, caf::exit_reason::user_shutdown);
  self->send_exit(repository_, caf::exit_reason::user_shutdown);
}

node::~node() {
  stop();
  routers_.clear();
  repository_ = nullptr;
  notifier_ = nullptr;
  catalog_ = nullptr;
  admin_ = nullptr;
  system_.reset(); // waits for every actor to terminate
}

} // namespace argus::actors
