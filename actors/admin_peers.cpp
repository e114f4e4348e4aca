#include "actors/admin_peers.hpp"

#include "actors/admin_ops.hpp"
#include "domain/error.hpp"

#include <caf/typed_response_promise.hpp>

#include <utility>

namespace argus::actors::admin_peers {

namespace {

caf::error not_clustered() {
  return make_error(ec::conflict, "this node is not in a cluster (set "
                                  "cluster.node_id and cluster.seeds)");
}

} // namespace

caf::result<std::vector<member_info>> members(admin_self self,
                                              const admin_env& env) {
  if (!env.cluster)
    return not_clustered();
  return self->delegate(env.cluster, atom::members::value);
}

caf::result<std::vector<member_info>>
join(admin_self self, const admin_env& env, member_info& peer) {
  if (!env.cluster)
    return not_clustered();
  return self->delegate(env.cluster, atom::join::value, std::move(peer));
}

void leave(admin_self self, const admin_env& env, std::string& id) {
  if (env.cluster)
    self->send(env.cluster, atom::leave::value, std::move(id));
}

void sync(admin_self self, const admin_env& env, catalog_change& change) {
  self->send(env.node.catalog, atom::sync::value, std::move(change));
}

caf::result<atom::ok> forward(admin_self self, const admin_env& env,
                              std::vector<domain::event>& events) {
  if (!env.cluster)
    return not_clustered();
  return self->delegate(env.cluster, atom::forward::value, std::move(events));
}

void handover(admin_self self, const admin_env& env, std::string& from,
              std::vector<std::string>& live) {
  if (env.cluster)
    self->send(env.cluster, atom::handover::value, std::move(from),
               std::move(live));
}

caf::result<std::vector<domain::alert_location>>
locate(admin_self self, const admin_env& env,
       std::vector<domain::alert_key>& keys) {
  if (!env.cluster)
    return not_clustered();
  return self->delegate(env.cluster, atom::get::value, std::move(keys));
}

caf::result<atom::ok> drain(admin_self self, const admin_env& env) {
  if (!env.cluster)
    return not_clustered();
  auto rp = self->make_response_promise<atom::ok>();
  auto shutdown = env.shutdown;
  self->request(env.cluster, admin_ops::inner_timeout, atom::leave::value)
      .then(
          [=](atom::ok) mutable {
            rp.deliver(atom::ok::value);
            // The reply goes out first; the shutdown then drains the node
            // as SIGTERM does.
            if (shutdown)
              shutdown();
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace argus::actors::admin_peers
