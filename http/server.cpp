#include "http/server.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"
#include "http/errors.hpp"

#include <sys/socket.h>

namespace argus::http {

bool server::backlog_server::raise_backlog(int backlog) {
  return ::listen(svr_sock_, backlog) == 0;
}

server::server(const config::settings& settings, const actors::front& node)
    : settings_(settings), env_{node, settings},
      guard_(std::make_unique<auth_guard>(env_)) {
  env_.auth = guard_.get();
  auto& s = settings.server;
  auto threads = s.threads;
  // Each in-flight request and each idle keep-alive connection holds one
  // worker; the library's default of 8 starves under load.
  svr_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr_.set_keep_alive_max_count(s.keep_alive_max_requests);
  svr_.set_keep_alive_timeout(s.idle_timeout_seconds);
  svr_.set_read_timeout(s.read_timeout_seconds, 0);
  svr_.set_write_timeout(s.write_timeout_seconds, 0);
  svr_.set_payload_max_length(s.max_body_bytes);
  // Without TCP_NODELAY, keep-alive replies wait ~40 ms for delayed ACKs.
  svr_.set_tcp_nodelay(true);
  svr_.set_exception_handler([](const httplib::Request& req,
                                httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    LOG_ERROR("handler for " << req.method << " " << req.path
                             << " threw: " << what);
    res.body.clear();
    reply_error(res, ec::internal, "internal error");
  });
  svr_.set_error_handler(
      [](const httplib::Request& req, httplib::Response& res) {
        fill_error_body(req, res);
      });
  add_event_routes(svr_, env_);
  add_catalog_routes(svr_, env_);
  add_alert_routes(svr_, env_);
  add_status_routes(svr_, env_);
  add_notification_routes(svr_, env_);
  add_am_routes(svr_, env_);
  add_silence_routes(svr_, env_);
  add_pagerduty_routes(svr_, env_);
  add_metrics_routes(svr_, env_);
  add_key_routes(svr_, env_);
  add_ui_routes(svr_, env_);
  // Every request passes the auth guard before routing (the body is not
  // read yet), and a successful change is audited once answered.
  svr_.set_pre_routing_handler([this](const httplib::Request& req,
                                      httplib::Response& res) {
    note_request_started();
    return guard_->admit(req, res) ? httplib::Server::HandlerResponse::Unhandled
                                   : httplib::Server::HandlerResponse::Handled;
  });
  svr_.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) {
        note_request_done(env_, req, res);
        guard_->audit(req, res);
      });
}

server::~server() {
  stop();
}

caf::error server::start() {
  auto& s = settings_.server;
  if (!svr_.bind_to_port(s.host, s.port))
    return make_error(ec::internal, "cannot listen on " + s.host + ":" +
                                        std::to_string(s.port));
  port_ = s.port;
  svr_.raise_backlog(1024);
  listener_ = std::thread{[this] { svr_.listen_after_bind(); }};
  for (int i = 0; i < 5000 && !svr_.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  if (!svr_.is_running())
    return make_error(ec::internal, "HTTP server did not start");
  LOG_INFO("listening on http://" << s.host << ":" << port_ << " (auth "
                                  << (guard_->enforced() ? "required" : "off")
                                  << ")");
  return {};
}

void server::stop() {
  if (!listener_.joinable())
    return;
  svr_.stop();
  listener_.join();
}

} // namespace argus::http
