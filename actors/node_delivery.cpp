#include "actors/node_delivery.hpp"

#include "domain/receiver.hpp"
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
  return out;
}

} // namespace

caf::expected<delivery_parts>
start_delivery(const config::settings& settings, storage::store& store,
               std::shared_ptr<const catalog_view> view, context_ptr ctx,
               const std::string& owner) {
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
    return delivery::manager_view{it->second.name,
                                  domain::receivers_of(it->second),
                                  std::move(silenced_by)};
  };
  auto worker = std::make_shared<delivery::worker>(
      std::move(*sending), worker_settings_of(settings, ctx), std::move(lookup),
      [ctx] { return ctx->now(); });
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
