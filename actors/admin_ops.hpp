#pragma once

#include "actors/admin.hpp"

#include <caf/result.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <string>
#include <vector>

/// The admin actor's CLI operations (argusctl): reads and event ingestion
/// through the node's front door and the one admission path.
namespace argus::actors::admin_ops {

/// Longer than any store round trip, shorter than argusctl's default wait,
/// so the CLI hears about a slow actor instead of timing out itself.
constexpr auto inner_timeout = std::chrono::seconds{8};

using alerts = std::vector<domain::alert>;

/// The node's counters plus the store's and the routers' counts.
caf::typed_response_promise<node_status> status(admin_self self,
                                                const admin_env& env);

/// Admits an argusctl event and hands it to the ingest actor.
caf::result<atom::ok> ingest(admin_self self, const admin_env& env,
                             event_submission& s);

/// The alerts `filter` selects, once admission accepts the filter.
caf::result<alerts> list(admin_self self, const admin_env& env,
                         const domain::alert_filter& filter);

/// The one alert of (manager, dedup).
caf::typed_response_promise<domain::alert> alert(admin_self self,
                                                 const admin_env& env,
                                                 const std::string& manager,
                                                 const std::string& dedup);

/// The children of the one parent alert of (manager, dedup).
caf::typed_response_promise<alerts> children(admin_self self,
                                             const admin_env& env,
                                             const std::string& manager,
                                             const std::string& dedup);

/// Active parents with their groups, of one manager (empty: all).
caf::typed_response_promise<std::vector<group_view>>
groups(admin_self self, const admin_env& env, const std::string& manager);

/// Stored notifications with their deliveries, newest first.
caf::result<std::vector<domain::notification_record>>
notifications(admin_self self, const admin_env& env,
              const domain::notification_filter& filter);

/// Groups of the active `parents`, with their active `children` counted.
std::vector<group_view> views_of(const alerts& parents, const alerts& children,
                                 domain::time_point now);

} // namespace argus::actors::admin_ops
