// The HTTP front stage's smaller promises (issue 15): 405 with `Allow` for a
// known path and another method, a clear 400 for obsolete line folding, a
// stop that answers the requests in flight instead of dropping them, and
// the reserve still answering while ingestion takes every general worker.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace {

using namespace argus::test;

server_options memory_server() {
  server_options opts;
  opts.backend = "memory";
  return opts;
}

/// Sends `request` on a fresh connection and reads until the server
/// closes (at most 5 s).
std::string exchange(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  timeval wait{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

/// What one client of the stop test saw for one event.
struct outcome {
  std::string dedup;
  int status = 0; ///< 0: no reply at all
};

} // namespace

TEST_CASE("a known path with another method is 405 with Allow",
          "[integration]") {
  server s{memory_server()};
  httplib::Client cli{"127.0.0.1", s.port()};
  auto put = cli.Put("/v1/events", "{}", "application/json");
  REQUIRE(put);
  CHECK(put->status == 405);
  CHECK(put->get_header_value("Allow") == "POST");
  auto body = json::parse(put->body);
  CHECK(body["success"] == false);
  CHECK(body["error"]["code"] == "METHOD_NOT_ALLOWED");
  CHECK(body["error"]["message"].get<std::string>().find("PUT") !=
        std::string::npos);

  auto del = cli.Delete("/healthz");
  REQUIRE(del);
  CHECK(del->status == 405);
  CHECK(del->get_header_value("Allow") == "GET, HEAD");

  // A path no method has stays 404.
  auto none = cli.Put("/v1/nothing-here", "{}", "application/json");
  REQUIRE(none);
  CHECK(none->status == 404);
  CHECK(json::parse(none->body)["error"]["code"] == "NOT_FOUND");
}

TEST_CASE("a folded header line is a 400 that names obsolete line folding",
          "[integration]") {
  server s{memory_server()};
  auto reply = exchange(s.port(), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
                                  "X-Note: first\r\n  folded\r\n"
                                  "Content-Length: 2\r\n\r\n{}");
  CHECK(reply.rfind("HTTP/1.1 400 ", 0) == 0);
  auto body = json::parse(reply.substr(reply.find("\r\n\r\n") + 4));
  CHECK(body["error"]["code"] == "BAD_REQUEST");
  CHECK(body["error"]["message"].get<std::string>().find(
            "obsolete line folding") != std::string::npos);
}

TEST_CASE("a stop answers the requests in flight and loses no accepted event",
          "[integration]") {
  server s;
  auto manager = s.fresh_manager("class");
  constexpr int clients = 4;
  std::vector<std::vector<outcome>> seen(clients);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&, k] {
      httplib::Client cli{"127.0.0.1", s.port()};
      cli.set_keep_alive(true);
      // Keep posting until the server is gone: the first request without
      // a reply ends this client.
      for (int i = 0;; ++i) {
        outcome o{"c" + std::to_string(k) + "-" + std::to_string(i)};
        auto event = trigger_event(manager, o.dedup);
        event["class"] = "c" + std::to_string(i % 10);
        auto res = cli.Post("/v1/events", event.dump(), "application/json");
        o.status = res ? res->status : 0;
        seen[k].push_back(o);
        if (o.status == 202)
          ++accepted;
        if (o.status != 202)
          return;
      }
    });
  }
  REQUIRE(eventually([&] { return accepted >= 100; }));
  CHECK(s.stop() == 0); // SIGTERM while the clients keep posting
  for (auto& t : threads)
    t.join();
  s.start();
  auto alerts = all_alerts(s, manager);
  size_t answered = 0;
  for (auto& list : seen) {
    for (auto& o : list) {
      INFO(o.dedup << " got " << o.status);
      if (o.status == 202) {
        ++answered;
        CHECK(alerts.count(o.dedup) == 1); // accepted, so applied and kept
      } else {
        // No 202: the request was not taken (a 503 while stopping, or the
        // connection closed before it was read), so it must not have been
        // applied behind the client's back either.
        CHECK(alerts.count(o.dedup) == 0);
      }
    }
  }
  CHECK(answered == alerts.size());
}

TEST_CASE("with every general worker on ingestion, reads and health are "
          "still answered and no event is lost",
          "[integration]") {
  // Two general workers and eight ingesting clients: the workers are
  // mostly all busy, so connections keep moving between the workers'
  // pool and the loop (which reads them while nobody else can).
  auto opts = memory_server();
  opts.server_yaml = "  threads: 2\n  reserved_threads: 1\n";
  server s{opts};
  auto manager = s.fresh_manager("class");
  constexpr int clients = 8;
  constexpr int events = 100;
  std::atomic<int> accepted{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int k = 0; k < clients; ++k) {
    threads.emplace_back([&, k] {
      httplib::Client cli{"127.0.0.1", s.port()};
      cli.set_keep_alive(true);
      for (int i = 0; i < events; ++i) {
        auto dedup = "c" + std::to_string(k) + "-" + std::to_string(i);
        auto event = trigger_event(manager, dedup);
        event["class"] = "c" + std::to_string(i % 10);
        auto res = cli.Post("/v1/events", event.dump(), "application/json");
        if (res && res->status == 202)
          ++accepted;
      }
    });
  }
  std::thread all_done{[&] {
    for (auto& t : threads)
      t.join();
    done = true;
  }};
  httplib::Client probe{"127.0.0.1", s.port()};
  probe.set_keep_alive(true);
  int probes = 0;
  int answered = 0;
  while (!done) {
    auto path = probes % 2 == 0 ? "/healthz" : "/metrics";
    auto res = probe.Get(path);
    ++probes;
    if (res && res->status == 200)
      ++answered;
  }
  all_done.join();
  CHECK(answered == probes);
  CHECK(accepted == clients * events);
  REQUIRE(s.settle());
  CHECK(all_alerts(s, manager).size() == size_t{clients * events});
}
