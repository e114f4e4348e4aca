#pragma once

// A receiver for the delivery tests: a real HTTP server on 127.0.0.1 whose
// answers the test scripts.

#include <catch2/catch.hpp>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace argus::test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

/// A TCP port nobody listens on right now.
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// A receiver: an httplib server on 127.0.0.1 whose handler the test sets.
/// It records each request and how many were in progress at once.
class receiver_server {
public:
  using handler =
      std::function<void(const httplib::Request&, httplib::Response&, int nth)>;

  explicit receiver_server(handler h, int port = 0) : handler_(std::move(h)) {
    server_.Post("/hook",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   int nth = 0;
                   {
                     std::lock_guard<std::mutex> guard{mtx_};
                     requests_.push_back(req);
                     nth = static_cast<int>(requests_.size());
                     max_concurrent_ = std::max(max_concurrent_, ++concurrent_);
                   }
                   handler_(req, res, nth);
                   std::lock_guard<std::mutex> guard{mtx_};
                   --concurrent_;
                 });
    port_ = port != 0 ? (server_.bind_to_port("127.0.0.1", port) ? port : -1)
                      : server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread{[this] { server_.listen_after_bind(); }};
    while (!server_.is_running())
      std::this_thread::sleep_for(1ms);
  }

  ~receiver_server() {
    release = true;
    server_.stop();
    thread_.join();
  }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/hook";
  }

  std::vector<httplib::Request> requests() {
    std::lock_guard<std::mutex> guard{mtx_};
    return requests_;
  }

  int max_concurrent() {
    std::lock_guard<std::mutex> guard{mtx_};
    return max_concurrent_;
  }

  /// Handlers that hang wait for this, so the server can stop.
  std::atomic<bool> release{false};

  void hang_until_released(std::chrono::milliseconds at_most) {
    auto until = steady::now() + at_most;
    while (!release && steady::now() < until)
      std::this_thread::sleep_for(5ms);
  }

private:
  handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mtx_;
  std::vector<httplib::Request> requests_;
  int concurrent_ = 0;
  int max_concurrent_ = 0;
};

/// Waits (with a deadline) until `rx` has seen a request.
inline bool eventually_one_request(receiver_server& rx) {
  auto until = steady::now() + 5s;
  while (rx.requests().empty() && steady::now() < until)
    std::this_thread::sleep_for(5ms);
  return !rx.requests().empty();
}

} // namespace argus::test
