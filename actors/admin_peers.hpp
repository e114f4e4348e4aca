#pragma once

#include "actors/admin.hpp"

#include <caf/result.hpp>

#include <string>
#include <vector>

/// The admin actor's cluster side: what peers' cluster actors and argusctl
/// ask of this node's membership. Every call answers `conflict` on a node
/// that is not clustered.
namespace argus::actors::admin_peers {

/// Cluster members with their state and owned groups.
caf::result<std::vector<member_info>> members(admin_self self,
                                              const admin_env& env);

/// A peer introduces itself; answers with the members this node knows.
caf::result<std::vector<member_info>>
join(admin_self self, const admin_env& env, member_info& peer);

/// The peer `id` leaves cleanly.
void leave(admin_self self, const admin_env& env, std::string& id);

/// A peer changed the catalog; apply the change here too.
void sync(admin_self self, const admin_env& env, catalog_change& change);

/// A peer forwards events this node owns.
caf::result<atom::ok> forward(admin_self self, const admin_env& env,
                              std::vector<domain::event>& events);

/// The peer `from` hands its groups over to the `live` members.
void handover(admin_self self, const admin_env& env, std::string& from,
              std::vector<std::string>& live);

/// Where this node holds (manager, dedupKey) pairs (the locate protocol).
caf::result<std::vector<domain::alert_location>>
locate(admin_self self, const admin_env& env,
       std::vector<domain::alert_key>& keys);

/// argusctl drain: leaves the cluster, answers, then shuts the node down.
caf::result<atom::ok> drain(admin_self self, const admin_env& env);

} // namespace argus::actors::admin_peers
