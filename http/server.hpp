#pragma once

#include "actors/front.hpp"
#include "config/settings.hpp"
#include "http/auth.hpp"
#include "http/routes.hpp"

#include <httplib.h>

#include <memory>
#include <thread>

namespace argus::http {

/// The HTTP front: httplib configured from settings, routes installed,
/// listening on its own thread.
class server {
public:
  server(const config::settings& settings, const actors::front& node);
  ~server();

  /// Binds and starts listening; an error names the address.
  caf::error start();

  /// Stops accepting, finishes in-flight requests, joins the threads.
  void stop();

  uint16_t port() const { return port_; }

private:
  /// httplib hard-codes a listen backlog of 5; a subclass can raise it
  /// because the listening socket is protected.
  struct backlog_server : httplib::Server {
    bool raise_backlog(int backlog);
  };

  const config::settings& settings_;
  route_env env_;
  std::unique_ptr<auth_guard> guard_;
  backlog_server svr_;
  std::thread listener_;
  uint16_t port_ = 0;
};

} // namespace argus::http
