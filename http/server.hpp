#pragma once

#include "actors/front.hpp"
#include "config/settings.hpp"
#include "http/auth.hpp"
#include "http/front.hpp"
#include "http/router.hpp"
#include "http/routes.hpp"

#include <httplib.h>

#include <memory>

namespace argus::http {

/// The HTTP front: the routes, and the front stage (http/front.hpp) that
/// reads requests off the connections and runs them on its workers.
class server {
public:
  server(const config::settings& settings, const actors::front& node);
  ~server();

  /// Binds and starts listening; an error names the address.
  caf::error start();

  /// Stops accepting, answers the requests in flight, closes the
  /// connections, joins the threads.
  void stop();

  uint16_t port() const { return port_; }

private:
  /// One complete request, on a worker thread: auth, body decoding,
  /// routing, the error envelope, metrics and audit.
  void handle(httplib::Request& req, httplib::Response& res);
  /// 405 with `Allow` when the path has routes for other methods, else 404.
  void no_route(const httplib::Request& req, httplib::Response& res);

  const config::settings& settings_;
  route_env env_;
  std::unique_ptr<auth_guard> guard_;
  router routes_;
  front front_;
  uint16_t port_ = 0;
};

} // namespace argus::http
