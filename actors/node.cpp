#include "actors/node.hpp"

#include "actors/admin.hpp"
#include "actors/catalog.hpp"
#include "actors/ingest.hpp"
#include "actors/lazy_sharing.hpp"
#include "actors/node_asks.hpp"
#include "actors/node_delivery.hpp"
#include "actors/notifier.hpp"
#include "actors/remoting.hpp"
#include "actors/repository.hpp"
#include "actors/router.hpp"
#include "config/log.hpp"
#include "domain/error.hpp"
#include "domain/text_hash.hpp"
#include "storage/store.hpp"

#include <algorithm>

#include <caf/scheduler/coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <functional>
#include <utility>

namespace argus::actors {

namespace {

constexpr auto drain_timeout = std::chrono::seconds{60};

/// How often the repository may trim the journal after a flush.
constexpr auto trim_every = std::chrono::seconds{1};

} // namespace

size_t router_index(std::string_view manager_id, size_t routers) {
  return domain::text_hash(manager_id) % routers;
}

namespace {

/// The actor system's settings: scheduler, quiet CAF logs, remoting and
/// the cluster's failure detection.
std::unique_ptr<caf::actor_system_config>
make_config(const config::settings& settings) {
  auto cfg = std::make_unique<caf::actor_system_config>();
  register_types(*cfg);
  cfg->set("scheduler.max-threads", settings.actors.threads);
  if (settings.actors.policy == "lazy-sharing")
    cfg->load<caf::scheduler::coordinator<lazy_sharing>>(); // CAF's is unused
  else
    cfg->set("scheduler.policy", settings.actors.policy == "stealing"
                                     ? caf::atom("stealing")
                                     : caf::atom("sharing"));
  cfg->set("logger.file-verbosity", caf::atom("quiet"));
  cfg->set("logger.console-verbosity", caf::atom("quiet"));
  if (settings.node.port != 0)
    enable_remoting(*cfg, settings.node.tls);
  if (settings.cluster.enabled()) {
    // Without heartbeats CAF never notices a peer that hangs with its TCP
    // connection open; set on every node.
    cfg->set("middleman.heartbeat-interval",
             caf::timespan{std::chrono::milliseconds{
                 settings.cluster.heartbeat_interval_ms}});
    cfg->set("middleman.connection-timeout",
             caf::timespan{std::chrono::milliseconds{
                 settings.cluster.failure_timeout_ms}});
  }
  return cfg;
}

/// Spawns an actor that calls the store: detached, on a thread of its own,
/// when the store waits on disk or network I/O, which must not hold a
/// thread of the shared scheduler; else on the scheduler. There a hand-off
/// to it wakes no thread: with the memory store on the scheduler,
/// ingest-to-notification's median fell from 0.14 to 0.06 ms and batches
/// took 6% less CPU per event (docs/benchmarks.md, seventeenth round).
template <class F, class... Ts>
auto spawn_beside_store(caf::actor_system& sys, bool store_blocks, F fn,
                        Ts&&... xs) {
  if (store_blocks)
    return sys.spawn<caf::detached>(fn, std::forward<Ts>(xs)...);
  return sys.spawn(fn, std::forward<Ts>(xs)...);
}

/// The repository's settings; its trim callback reaches the journal
/// through `slot` (empty until the journal is open, and again at the end).
repository_settings
repository_settings_of(const config::settings& settings, const recovered& state,
                       std::shared_ptr<std::atomic<journal*>> slot) {
  repository_settings out;
  out.batch_size = settings.storage.batch_size;
  out.flush_interval =
      std::chrono::milliseconds{config::flush_interval_ms_of(settings.storage)};
  out.applied_through = state.applied_through;
  out.retention.keep = std::chrono::seconds{settings.storage.retention};
  out.journal_id = state.incarnation;
  out.on_persisted =
      [slot = std::move(slot),
       last = std::chrono::steady_clock::time_point{}](uint64_t mark) mutable {
        auto j = slot->load();
        auto now = std::chrono::steady_clock::now();
        if (j == nullptr || now - last < trim_every)
          return;
        last = now;
        if (auto err = j->trim_through(mark))
          LOG_WARNING("journal trim failed: " << message_of(err));
      };
  return out;
}

} // namespace

caf::expected<std::unique_ptr<node>>
node::start(const config::settings& settings, std::shared_ptr<context> ctx) {
  auto state = recover(settings);
  if (!state)
    return state.error();
  // CAF would notice a bad TLS file only at the first connection, and abort.
  if (settings.node.port != 0)
    if (auto err = check_tls(settings.node.tls, "node.tls."))
      return err;
  std::unique_ptr<node> n{new node};
  n->started_ = std::chrono::steady_clock::now();
  n->ctx_ = std::move(ctx);
  n->backend_ = state->store->backend();
  n->view_ = std::make_shared<catalog_view>();
  n->cfg_ = make_config(settings);
  n->system_ = std::make_unique<caf::actor_system>(*n->cfg_);
  if (auto err = n->spawn_core(settings, *state))
    return err;
  if (auto err = n->recover_groups(settings, *state))
    return err;
  n->ingest_ = n->system_->spawn<caf::detached>(
      actors::ingest, [raw = n.get()](std::vector<domain::event> events) {
        return raw->ingest(std::move(events));
      });
  n->build_front(settings);
  if (settings.cluster.enabled())
    if (auto err = n->start_cluster(settings, std::move(state->fence),
                                    state->incarnation))
      return err;
  if (settings.node.port != 0)
    if (auto err = n->start_admin(settings, state->incarnation))
      return err;
  return n;
}

caf::error node::spawn_core(const config::settings& settings,
                            recovered& state) {
  auto& sys = *system_;
  context_ptr shared_ctx = ctx_;
  // The worker looks receivers up in the published catalog from its first
  // round on; publish the stored one now, before the catalog actor runs (a
  // lookup in an empty catalog would dead-letter every pending delivery).
  view_->set(std::make_shared<const domain::catalog>(state.catalog));
  auto repo_slot = std::make_shared<repository_slot>(sys);
  auto parts = start_delivery(settings, *state.store, view_, ctx_,
                              state.incarnation, repo_slot);
  if (!parts)
    return parts.error();
  worker_ = parts->worker;
  ctx_->child_notices = child_notices_of(view_);
  bool store_blocks = state.store->blocks();
  // Beside the repository: reads of the outbox wait on the same store.
  notifier_ =
      spawn_beside_store(sys, store_blocks, actors::notifier,
                         std::move(parts->reads), parts->worker, shared_ctx);
  auto repo_settings = repository_settings_of(settings, state, journal_slot_);
  repo_settings.on_notified = [ctx = shared_ctx, worker = parts->worker](
                                  std::vector<domain::notification> stored) {
    actors::notifications_stored(*ctx, worker.get(), stored);
  };
  repo_settings.on_stored =
      [worker = parts->worker](const std::vector<domain::alert_write>& writes) {
        worker->stored(writes);
      };
  repository_ = spawn_beside_store(
      sys, store_blocks, actors::repository,
      std::shared_ptr<storage::store>{std::move(state.store)},
      std::move(repo_settings), shared_ctx);
  repo_slot->set(repository_);
  catalog_ = sys.spawn(actors::catalog, std::move(state.catalog), repository_,
                       view_, shared_ctx);
  for (size_t i = 0; i < settings.actors.routers; ++i)
    routers_.push_back(sys.spawn(actors::router, repository_, shared_ctx));
  return {};
}

caf::error node::recover_groups(const config::settings& settings,
                                recovered& state) {
  // Hand each router the open work of its managers, and wait, so the first
  // event after start finds its group (and open window) in place.
  auto open_alerts = state.open_work.size();
  if (auto err = restore(std::move(state.open_work), std::move(state.recent)))
    return err;
  LOG_INFO("recovered " << view_->get()->rules.size() << " rules, "
                        << view_->get()->managers.size() << " managers, "
                        << open_alerts << " open alerts");
  if (!state.journal)
    return {};
  if (!settings.cluster.enabled())
    if (auto err = replay(*state.journal, state.applied_through))
      return err;
  journal_ = std::make_unique<journal>(
      std::move(state.journal), state.applied_through,
      [this](std::vector<domain::event>& events) { deliver(events); },
      [registry = ctx_->registry](double seconds) {
        registry->journal_append(seconds);
      });
  journal_slot_->store(journal_.get());
  return {};
}

void node::build_front(const config::settings& settings) {
  front_.system = system_.get();
  front_.ingest = [this](std::vector<domain::event> events) {
    return ingest(std::move(events));
  };
  front_.ingest_handle = ingest_;
  front_.catalog = catalog_;
  front_.view = view_;
  front_.repository = repository_;
  front_.notifier = notifier_;
  front_.routers = routers_;
  front_.ctx = ctx_;
  front_.backend = backend_;
  front_.started = started_;
  front_.max_pending_events = settings.ingest.max_pending_events;
  front_.limiter = std::make_shared<rate_limiter>(
      domain::rate_limit{settings.rate_limit.events_per_second,
                         settings.rate_limit.burst},
      ctx_->registry);
  front_.cluster = [this] { return cluster_state(); };
}

std::optional<cluster_status> node::cluster_state() const {
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
  if (events.empty())
    return;
  // Most batches belong to one manager, hence one router: then the whole
  // vector goes as it is, without moving each event into another one.
  auto n = routers_.size();
  auto& manager = events.front().event_manager_id;
  if (std::all_of(events.begin(), events.end(), [&](const domain::event& e) {
        return e.event_manager_id == manager;
      })) {
    auto i = router_index(manager, n);
    caf::anon_send(routers_[i], atom::apply::value, std::move(events));
    return;
  }
  std::vector<std::vector<domain::event>> per_router(n);
  for (auto& e : events)
    per_router[router_index(e.event_manager_id, n)].push_back(std::move(e));
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
  // Pending deliveries stay in the outbox; the next start sends them.
  if (worker_)
    worker_->stop();
}

node::~node() {
  stop();
  if (view_)
    view_->on_change = nullptr; // holds the cluster actor
  ownership_.reset();
  // The front door holds handles too; detached actors (the repository,
  // ingest) end only once the last handle is gone.
  front_ = front{};
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
