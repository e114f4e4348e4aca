// The libcurl sender against real HTTP receivers on 127.0.0.1, started by the
// tests: answers, timeouts, closed connections, a receiver that is down and
// comes up, and the concurrency bounds.

#include "delivery/format.hpp"
#include "delivery/receiver_server.hpp"
#include "delivery/sender.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using argus::delivery::request;
using argus::delivery::sender;
using argus::domain::attempt_result;
using argus::test::eventually_one_request;
using argus::test::free_port;
using argus::test::receiver_server;
using steady = std::chrono::steady_clock;

/// Collects the sender's outcomes by token.
class outcomes {
public:
  sender::callback callback() {
    return [this](uint64_t token, attempt_result r) {
      std::lock_guard<std::mutex> guard{mtx_};
      got_[token] = std::move(r);
      at_[token] = steady::now();
      cv_.notify_all();
    };
  }

  std::optional<attempt_result> wait(uint64_t token,
                                     std::chrono::milliseconds deadline = 5s) {
    std::unique_lock<std::mutex> guard{mtx_};
    if (!cv_.wait_for(guard, deadline, [&] { return got_.count(token) > 0; }))
      return std::nullopt;
    return got_[token];
  }

  steady::time_point when(uint64_t token) {
    std::lock_guard<std::mutex> guard{mtx_};
    return at_[token];
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::map<uint64_t, attempt_result> got_;
  std::map<uint64_t, steady::time_point> at_;
};

request post(uint64_t token, const std::string& url,
             const std::string& receiver = "ops", int64_t timeout_ms = 3000) {
  request r;
  r.token = token;
  r.receiver = receiver;
  r.url = url;
  r.body = R"({"n":)" + std::to_string(token) + "}";
  r.headers = {{"Content-Type", "application/json"},
               {"Idempotency-Key", "id-" + std::to_string(token)}};
  r.timeout_ms = timeout_ms;
  return r;
}

} // namespace

TEST_CASE("a 200 is delivered with body and headers",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  outcomes got;
  sender s{{}, got.callback()};
  s.submit(post(1, rx.url()));
  auto r = got.wait(1);
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->error.empty());
  CHECK_FALSE(r->timed_out);
  auto reqs = rx.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].body == R"({"n":1})");
  CHECK(reqs[0].get_header_value("Content-Type") == "application/json");
  CHECK(reqs[0].get_header_value("Idempotency-Key") == "id-1");
  CHECK(reqs[0].get_header_value("User-Agent") == "Argus");
  CHECK(s.outstanding() == 0);
}

TEST_CASE("500 then 200: each attempt reports its own status",
          "[integration][delivery]") {
  receiver_server rx{
      [](auto&, auto& res, int nth) { res.status = nth == 1 ? 500 : 200; }};
  outcomes got;
  sender s{{}, got.callback()};
  s.submit(post(1, rx.url()));
  REQUIRE(got.wait(1));
  CHECK(got.wait(1)->status == 500);
  s.submit(post(2, rx.url()));
  REQUIRE(got.wait(2));
  CHECK(got.wait(2)->status == 200);
}

TEST_CASE("429 reports Retry-After", "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) {
    res.status = 429;
    res.set_header("Retry-After", "3");
  }};
  outcomes got;
  sender s{{}, got.callback()};
  s.submit(post(1, rx.url()));
  auto r = got.wait(1);
  REQUIRE(r);
  CHECK(r->status == 429);
  REQUIRE(r->retry_after);
  CHECK(*r->retry_after == std::chrono::seconds{3});
}

TEST_CASE("400 is reported as such", "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) {
    res.status = 400;
    res.set_content("{\"error\":\"bad\"}", "application/json");
  }};
  outcomes got;
  sender s{{}, got.callback()};
  s.submit(post(1, rx.url()));
  auto r = got.wait(1);
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK_FALSE(r->retry_after);
}

TEST_CASE("a receiver that hangs times out", "[integration][delivery]") {
  receiver_server* self = nullptr;
  receiver_server rx{[&](auto&, auto& res, int) {
    self->hang_until_released(5s);
    res.status = 200;
  }};
  self = &rx;
  outcomes got;
  sender s{{}, got.callback()};
  auto start = steady::now();
  s.submit(post(1, rx.url(), "ops", 300));
  auto r = got.wait(1);
  REQUIRE(r);
  CHECK(r->timed_out);
  CHECK(r->status == 0);
  CHECK_FALSE(r->error.empty());
  auto took = got.when(1) - start;
  CHECK(took >= 290ms);
  CHECK(took < 2s);
}

TEST_CASE("a connection closed without an answer is an error",
          "[integration][delivery]") {
  // A bare TCP listener that reads the request and closes the socket.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 4) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread closer{[fd] {
    int c = ::accept(fd, nullptr, nullptr);
    char buf[4096];
    (void)::recv(c, buf, sizeof buf, 0);
    ::close(c);
  }};
  outcomes got;
  sender s{{}, got.callback()};
  s.submit(post(1, "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) +
                       "/hook"));
  auto r = got.wait(1);
  closer.join();
  ::close(fd);
  REQUIRE(r);
  CHECK(r->status == 0);
  CHECK_FALSE(r->timed_out);
  CHECK_FALSE(r->error.empty());
}

TEST_CASE("a receiver that is down, then up", "[integration][delivery]") {
  int port = free_port();
  auto url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  outcomes got;
  sender s{{}, got.callback()};
  s.submit(post(1, url));
  auto down = got.wait(1);
  REQUIRE(down);
  CHECK(down->status == 0);
  CHECK_FALSE(down->timed_out);
  CHECK_FALSE(down->error.empty()); // connection refused
  receiver_server rx{[](auto&, auto& res, int) { res.status = 202; }, port};
  s.submit(post(2, url));
  auto up = got.wait(2);
  REQUIRE(up);
  CHECK(up->status == 202);
}

TEST_CASE("concurrency is bounded per receiver, and a slow receiver does "
          "not hold up another",
          "[integration][delivery]") {
  receiver_server* self = nullptr;
  receiver_server slow{[&](auto&, auto& res, int) {
    self->hang_until_released(400ms);
    res.status = 200;
  }};
  self = &slow;
  receiver_server fast{[](auto&, auto& res, int) { res.status = 200; }};
  outcomes got;
  sender::limits lim;
  lim.per_receiver = 2;
  lim.total = 8;
  sender s{lim, got.callback()};
  auto start = steady::now();
  for (uint64_t i = 1; i <= 6; ++i)
    s.submit(post(i, slow.url(), "slow"));
  s.submit(post(100, fast.url(), "fast"));
  REQUIRE(got.wait(100));
  CHECK(got.when(100) - start < 300ms); // not behind the slow ones
  for (uint64_t i = 1; i <= 6; ++i) {
    auto r = got.wait(i);
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  CHECK(slow.max_concurrent() == 2);
  // Three rounds of two at ~400 ms each, the next round at once.
  CHECK(got.when(6) - start >= 1100ms);
  CHECK(got.when(6) - start < 2000ms);
}

TEST_CASE("concurrency is bounded in total", "[integration][delivery]") {
  receiver_server* self = nullptr;
  receiver_server slow{[&](auto&, auto& res, int) {
    self->hang_until_released(200ms);
    res.status = 200;
  }};
  self = &slow;
  outcomes got;
  sender::limits lim;
  lim.per_receiver = 10;
  lim.total = 3;
  sender s{lim, got.callback()};
  for (uint64_t i = 1; i <= 6; ++i)
    s.submit(post(i, slow.url(), "r" + std::to_string(i)));
  for (uint64_t i = 1; i <= 6; ++i)
    REQUIRE(got.wait(i));
  CHECK(slow.max_concurrent() == 3);
}

TEST_CASE("stopping answers what is in flight and queued",
          "[integration][delivery]") {
  receiver_server* self = nullptr;
  receiver_server slow{[&](auto&, auto& res, int) {
    self->hang_until_released(5s);
    res.status = 200;
  }};
  self = &slow;
  outcomes got;
  sender::limits lim;
  lim.per_receiver = 1;
  auto s = std::make_unique<sender>(lim, got.callback());
  s->submit(post(1, slow.url()));
  s->submit(post(2, slow.url()));
  REQUIRE(eventually_one_request(slow));
  s.reset();
  for (uint64_t i : {1, 2}) {
    auto r = got.wait(i, 100ms);
    REQUIRE(r);
    CHECK(r->error == "sender stopped");
  }
}
