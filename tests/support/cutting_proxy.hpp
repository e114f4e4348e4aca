#pragma once

// A TCP proxy in front of the test PostgreSQL, for tests of a COMMIT whose
// reply never arrives. Tests only (it fails the test through Catch2).

#include <catch2/catch.hpp>
#include <libpq-fe.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace argus::test {

/// A TCP proxy in front of the test server that can cut a connection right
/// after passing a COMMIT on (so the server commits but the client never
/// hears of it), and refuse new connections for a while.
class cutting_proxy {
public:
  explicit cutting_proxy(const std::string& dsn) {
    char* error = nullptr;
    auto* options = PQconninfoParse(dsn.c_str(), &error);
    REQUIRE(options);
    for (auto* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr)
        continue;
      if (std::string{o->keyword} == "host")
        host_ = o->val;
      else if (std::string{o->keyword} == "port")
        port_ = o->val;
    }
    PQconninfoFree(options);
    if (port_.empty())
      port_ = "5432";
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&addr),
                   sizeof addr) == 0);
    REQUIRE(::listen(listener_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    listen_port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~cutting_proxy() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    acceptor_.join();
    for (auto& t : relays_)
      t.join();
  }

  /// `dsn` with the proxy's address instead of the server's.
  std::string via(const std::string& dsn) const {
    return dsn + " host=127.0.0.1 hostaddr=127.0.0.1 port=" +
           std::to_string(listen_port_);
  }

  /// Cuts the connection that next sends `text` (e.g. "COMMIT") after
  /// passing it on: the server acts on it, the client never hears back.
  void cut_after(const std::string& text) {
    std::lock_guard<std::mutex> guard{mtx_};
    cut_after_ = text;
  }
  /// Close new connections at once.
  std::atomic<bool> refuse{false};

private:
  int connect_upstream() const {
    int fd = -1;
    if (!host_.empty() && host_[0] == '/') {
      fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      auto path = host_ + "/.s.PGSQL." + port_;
      std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return ::close(fd), -1;
      return fd;
    }
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(port_)));
    ::inet_pton(AF_INET, host_.empty() ? "127.0.0.1" : host_.c_str(),
                &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return ::close(fd), -1;
    return fd;
  }

  void accept_loop() {
    while (!stopping_) {
      int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0)
        return;
      if (refuse) {
        ::close(client);
        continue;
      }
      int server = connect_upstream();
      if (server < 0) {
        ::close(client);
        continue;
      }
      relays_.emplace_back([this, client, server] { relay(client, server); });
    }
  }

  void relay(int client, int server) {
    char buf[65536];
    pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    while (!stopping_) {
      if (::poll(fds, 2, 100) < 0)
        break;
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        auto n = ::read(client, buf, sizeof buf);
        if (n <= 0 || ::write(server, buf, static_cast<size_t>(n)) != n)
          break;
        if (should_cut(std::string_view{buf, static_cast<size_t>(n)})) {
          // Let the server commit, then drop its reply on the floor.
          std::this_thread::sleep_for(std::chrono::milliseconds{200});
          break;
        }
      }
      if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        auto n = ::read(server, buf, sizeof buf);
        if (n <= 0 || ::write(client, buf, static_cast<size_t>(n)) != n)
          break;
      }
    }
    ::close(client);
    ::close(server);
  }

  bool should_cut(std::string_view chunk) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (cut_after_.empty() || chunk.find(cut_after_) == std::string::npos)
      return false;
    cut_after_.clear();
    return true;
  }

  std::mutex mtx_;
  std::string cut_after_;
  std::string host_;
  std::string port_;
  int listener_ = -1;
  uint16_t listen_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::vector<std::thread> relays_;
};

} // namespace argus::test
