#pragma once

#include "actors/front.hpp"
#include "config/settings.hpp"

#include "http/router.hpp"

#include <caf/expected.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

/// The REST routes, one register function per resource.
namespace argus::http {

class auth_guard;

/// What every route needs: the node's front door and the HTTP settings.
struct route_env {
  const actors::front& node;
  const config::settings& settings;
  /// Authentication (http/auth.hpp); set by the server before routes run.
  auth_guard* auth = nullptr;
};

/// The request's JSON body. The front stage caps bodies as sent; this
/// checks the decoded size again.
caf::expected<nlohmann::json> read_body(const route_env& env,
                                        const httplib::Request& req);

void add_event_routes(router& svr, route_env& env);
void add_catalog_routes(router& svr, route_env& env);
void add_alert_routes(router& svr, route_env& env);
void add_status_routes(router& svr, route_env& env);
/// The outbox: GET /v1/notifications, POST /v1/notifications/{id}/retry.
void add_notification_routes(router& svr, route_env& env);
/// Alertmanager's API v2 under /am/{event_manager_id} (routes_am.cpp).
void add_am_routes(router& svr, route_env& env);
/// `/v1/silences` and Alertmanager's silence API (routes_silences.cpp).
void add_silence_routes(router& svr, route_env& env);
/// An error on an Alertmanager path: the message as a JSON string, the
/// status from the one table (routes_am.cpp).
void reply_am_error(httplib::Response& res, const caf::error& err);
/// `POST /v2/enqueue`: PagerDuty Events API v2.
void add_pagerduty_routes(router& svr, route_env& env);
/// `GET /metrics`, and the request duration of every route.
void add_metrics_routes(router& svr, route_env& env);
/// Marks the start of the request on this thread (the server's
/// pre-routing hook calls it)...
void note_request_started();
/// ...and records its duration once answered (the server's logger).
void note_request_done(route_env& env, const httplib::Request& req,
                       const httplib::Response& res);
/// `/v1/keys` (admin: create, list, revoke) and `GET /v1/audit`.
void add_key_routes(router& svr, route_env& env);
/// The web console: its files at `/` and `/ui/` (no key needed), and the
/// reads it needs: `GET /v1/whoami`, `GET /v1/groups` (routes_ui.cpp).
void add_ui_routes(router& svr, route_env& env);

/// Whether a request is ingestion (events, Alertmanager and PagerDuty
/// posts): those may wait for any worker, the rest also get the reserved
/// ones (server.reserved_threads).
bool is_ingest(const httplib::Request& req);

/// The alert action an operator asks for on `/v1/alerts/{dedupKey}/...`
/// (acknowledge, unacknowledge, resolve), as an event for the alert's
/// manager; ingested like any other.
caf::error ingest_action(route_env& env, const domain::alert& a,
                         domain::action act, const std::string& by);

} // namespace argus::http
