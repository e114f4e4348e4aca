#include "http/server.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"
#include "http/errors.hpp"
#include "http/request_parser.hpp"
#include "metrics/registry.hpp"

namespace argus::http {

server::server(const config::settings& settings, const actors::front& node)
    : settings_(settings), env_{node, settings},
      guard_(std::make_unique<auth_guard>(env_)),
      front_(
          settings.server,
          [this](httplib::Request& req, httplib::Response& res) {
            handle(req, res);
          },
          [](const httplib::Request& req) { return is_ingest(req); }) {
  env_.auth = guard_.get();
  add_event_routes(routes_, env_);
  add_catalog_routes(routes_, env_);
  add_alert_routes(routes_, env_);
  add_status_routes(routes_, env_);
  add_notification_routes(routes_, env_);
  add_am_routes(routes_, env_);
  add_silence_routes(routes_, env_);
  add_pagerduty_routes(routes_, env_);
  add_metrics_routes(routes_, env_);
  add_key_routes(routes_, env_);
  add_ui_routes(routes_, env_);
  env_.node.registry().on_scrape(
      [this](std::vector<prometheus::MetricFamily>& out) {
        auto& stats = front_.stats();
        out.push_back(metrics::gauge(
            "argus_http_open_connections", "Open HTTP connections.",
            static_cast<double>(stats.open.load(std::memory_order_relaxed))));
        auto refused = metrics::counter(
            "argus_http_connections_refused_total",
            "HTTP connections refused or cut off by the front stage, by "
            "reason.",
            0);
        refused.metric.clear();
        for (size_t i = 0; i < refusal_count; ++i)
          metrics::add_sample(refused,
                              {{"reason", to_string(static_cast<refusal>(i))}},
                              static_cast<double>(stats.refused[i].load(
                                  std::memory_order_relaxed)));
        out.push_back(std::move(refused));
      });
}

server::~server() {
  stop();
}

void server::handle(httplib::Request& req, httplib::Response& res) {
  note_request_started();
  // Every request passes the auth guard before routing, and a successful
  // change is audited once answered.
  if (guard_->admit(req, res)) {
    try {
      if (auto err = decode_body(req, settings_.server.max_body_bytes))
        reply_error(res, err);
      else if (!routes_.dispatch(req, res))
        no_route(req, res);
    } catch (const std::exception& e) {
      LOG_ERROR("handler for " << req.method << " " << req.path
                               << " threw: " << e.what());
      res.body.clear();
      reply_error(res, ec::internal, "internal error");
    } catch (...) {
      LOG_ERROR("handler for " << req.method << " " << req.path
                               << " threw: unknown exception");
      res.body.clear();
      reply_error(res, ec::internal, "internal error");
    }
  }
  if (res.status == -1)
    res.status = 200;
  if (res.status >= 400)
    fill_error_body(req, res);
  note_request_done(env_, req, res);
  guard_->audit(req, res);
}

void server::no_route(const httplib::Request& req, httplib::Response& res) {
  auto allowed = routes_.allowed(req.path);
  if (allowed.empty()) {
    res.status = 404;
    return;
  }
  res.set_header("Allow", allowed);
  reply_error(res, ec::method_not_allowed,
              req.method + " is not allowed on " + req.path +
                  " (allowed: " + allowed + ")");
}

caf::error server::start() {
  auto& s = settings_.server;
  if (auto err = front_.start())
    return err;
  port_ = s.port;
  LOG_INFO("listening on "
           << (front_.tls() ? "https" : "http") << "://" << s.host << ":"
           << port_ << " (auth " << (guard_->enforced() ? "required" : "off")
           << (s.tls.client_ca.empty() ? "" : ", client certificates") << ")");
  return {};
}

void server::stop() {
  front_.stop();
}

} // namespace argus::http
