#include "actors/node_delivery.hpp"

#include "actors/thread_self.hpp"
#include "domain/admission.hpp"
#include "domain/error.hpp"
#include "domain/receiver.hpp"
#include "http/active_alerts.hpp"
#include "http/silence_json.hpp"

namespace argus::actors {

namespace {

delivery::worker_settings worker_settings_of(const config::settings& s,
                                             const context_ptr& ctx) {
  delivery::worker_settings out;
  out.on_settled = [registry = ctx->registry](const domain::delivery& d) {
    registry->notification(to_string(d.kind), to_string(d.state));
  };
  out.retry = s.notifications.retry_policy();
  out.limits.total = s.notifications.max_in_flight;
  out.limits.per_receiver = s.notifications.max_in_flight_per_receiver;
  out.external_url = s.notifications.external_url;
  out.unchecked_wait =
      std::chrono::seconds{s.notifications.inhibition_check_wait};
  return out;
}

/// Asks the repository for alerts (`atom::list` with `args`): a blocking
/// ask from the worker's thread, which is no actor.
template <class... Ts>
caf::expected<std::vector<domain::alert>> ask_repository(repository_slot& repo,
                                                         const Ts&... args) {
  auto hdl = repo.wait();
  if (!hdl)
    return make_error(ec::unavailable, "the repository is not running");
  caf::expected<std::vector<domain::alert>> result =
      make_error(ec::internal, "no reply");
  thread_self(repo.system(), false)
      ->request(hdl, std::chrono::seconds{10}, atom::list::value, args...)
      .receive([&](std::vector<domain::alert>& xs) { result = std::move(xs); },
               [&](caf::error& err) { result = std::move(err); });
  if (!result && code_of(result.error()) == ec::internal)
    thread_self(repo.system(), true);
  return result;
}

/// The worker's reads of alerts and its released openings, through the
/// repository.
delivery::alert_access alert_access_of(std::shared_ptr<repository_slot> repo) {
  if (!repo)
    return {};
  delivery::alert_access out;
  out.active = [repo](const std::string& manager_id) {
    return ask_repository(*repo, domain::every_active_alert_of(manager_id));
  };
  out.sources = [repo](const std::string& manager_id,
                       const std::vector<domain::inhibit_rule>& rules)
      -> caf::expected<std::vector<domain::alert>> {
    return ask_repository(*repo, manager_id, rules);
  };
  out.add = [repo](domain::notification n) {
    if (auto hdl = repo->wait())
      caf::anon_send(hdl, atom::write::value,
                     std::vector<domain::alert_write>{},
                     std::vector<domain::notification>{std::move(n)},
                     std::vector<uint64_t>{});
  };
  return out;
}

} // namespace

void repository_slot::set(repository_actor hdl) {
  std::lock_guard<std::mutex> guard{mtx_};
  hdl_ = caf::actor_cast<caf::weak_actor_ptr>(hdl);
  set_ = true;
  cv_.notify_all();
}

repository_actor repository_slot::wait() {
  std::unique_lock<std::mutex> guard{mtx_};
  cv_.wait_for(guard, std::chrono::seconds{10}, [this] { return set_; });
  return caf::actor_cast<repository_actor>(hdl_.lock());
}

caf::expected<delivery_parts>
start_delivery(const config::settings& settings, storage::store& store,
               std::shared_ptr<const catalog_view> view, context_ptr ctx,
               const std::string& owner,
               std::shared_ptr<repository_slot> repo) {
  auto sending = store.open_outbox(owner);
  if (!sending)
    return sending.error();
  auto reads = store.open_outbox(owner);
  if (!reads)
    return reads.error();
  auto lookup = [view, ctx](const std::string& manager_id)
      -> std::optional<delivery::manager_view> {
    auto catalog = view->get();
    auto it = catalog->managers.find(manager_id);
    if (it == catalog->managers.end())
      return std::nullopt;
    auto silenced_by = [catalog, ctx](const domain::alert& parent) {
      return http::silenced_by(catalog->silences, parent, ctx->now());
    };
    auto silenced_until = [catalog, ctx](const std::vector<std::string>& ids) {
      return domain::silenced_until(catalog->silences, ids, ctx->now());
    };
    return delivery::manager_view{
        it->second.name, domain::receivers_of(it->second),
        std::move(silenced_by), std::move(silenced_until),
        it->second.inhibit_rules};
  };
  auto access = alert_access_of(std::move(repo));
  access.muting = [view] { return std::shared_ptr<const void>{view->get()}; };
  auto worker = std::make_shared<delivery::worker>(
      std::move(*sending), worker_settings_of(settings, ctx), std::move(lookup),
      [ctx] { return ctx->now(); }, delivery::worker::jitter_fn{},
      std::move(access));
  return delivery_parts{std::move(*reads), std::move(worker)};
}

std::function<bool(const std::string& manager_id)>
child_notices_of(std::shared_ptr<const catalog_view> view) {
  return [view](const std::string& manager_id) {
    auto catalog = view->get();
    auto it = catalog->managers.find(manager_id);
    if (it == catalog->managers.end())
      return false;
    // The legacy webhook takes the default types, without child_added.
    for (auto& r : it->second.receivers)
      if (r.wants(domain::notification_kind::child_added))
        return true;
    return false;
  };
}

} // namespace argus::actors
