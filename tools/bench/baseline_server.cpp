// baseline_server: the ceilings the benchmark suite compares Argus with.
//
//   baseline_server --port P [--threads N] [--max-body BYTES] [--mode M]
//
// Modes:
//   parse    httplib with Argus's settings (thread pool, keep-alive, a 1024
//            backlog, TCP_NODELAY): parses the event JSON (an object, or an
//            array for /v1/events/batch) and answers 202 with a reply shaped
//            like Argus's. The ceiling for this stack.
//   noparse  the same httplib server answering the same 202 without parsing.
//   raw      no httplib: one epoll thread answering a canned 202 to every
//            request, so the load generator's own capacity shows.
//
// GET /healthz (parse, noparse) reports events.accepted = events.processed,
// so the driver treats it like Argus.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unordered_map>

namespace {

struct options {
  int port = 0;
  size_t threads = 64;
  size_t max_body = size_t{16} * 1024 * 1024;
  std::string mode = "parse";
};

std::atomic<uint64_t> accepted{0};

/// httplib hard-codes a listen backlog of 5; Argus raises it, so do we.
struct backlog_server : httplib::Server {
  bool raise_backlog(int backlog) { return ::listen(svr_sock_, backlog) == 0; }
};

void reply_202(httplib::Response& res, nlohmann::json data) {
  res.status = 202;
  res.set_content(
      nlohmann::json{{"success", true}, {"data", std::move(data)}}.dump(),
      "application/json");
}

int run_httplib(const options& o) {
  backlog_server svr;
  auto threads = o.threads;
  // The same settings as http/server.cpp with Argus's defaults.
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_keep_alive_max_count(10000);
  svr.set_keep_alive_timeout(5);
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  svr.set_payload_max_length(o.max_body);
  svr.set_tcp_nodelay(true);
  bool parse = o.mode == "parse";
  svr.Post("/v1/events", [parse](const httplib::Request& req,
                                 httplib::Response& res) {
    if (!parse) {
      accepted.fetch_add(1, std::memory_order_relaxed);
      return reply_202(res, {{"status", "accepted"}, {"dedupKey", "-"}});
    }
    auto j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      res.status = 400;
      return;
    }
    accepted.fetch_add(1, std::memory_order_relaxed);
    reply_202(res, {{"status", "accepted"}, {"dedupKey", j["dedupKey"]}});
  });
  svr.Post("/v1/events/batch", [parse](const httplib::Request& req,
                                       httplib::Response& res) {
    size_t n = 0;
    if (!parse) {
      // Count the items cheaply so /healthz stays meaningful.
      for (char c : req.body)
        n += c == '{';
    } else {
      auto j = nlohmann::json::parse(req.body, nullptr, false);
      if (j.is_discarded() || !j.is_array()) {
        res.status = 400;
        return;
      }
      for (auto& e : j)
        n += e.is_object() && e.contains("dedupKey");
    }
    accepted.fetch_add(n, std::memory_order_relaxed);
    reply_202(res, {{"accepted", n}, {"rejected", nlohmann::json::array()}});
  });
  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    auto n = accepted.load();
    res.set_content(
        nlohmann::json{{"success", true},
                       {"data",
                        {{"status", "ok"},
                         {"events", {{"accepted", n}, {"processed", n}}}}}}
            .dump(),
        "application/json");
  });
  if (!svr.bind_to_port("127.0.0.1", o.port)) {
    std::fprintf(stderr, "baseline_server: cannot bind port %d\n", o.port);
    return 1;
  }
  svr.raise_backlog(1024);
  // SIGINT/SIGTERM are blocked in every thread; this one waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread waiter{[&svr, set] {
    int sig = 0;
    sigwait(&set, &sig);
    svr.stop();
  }};
  std::printf("ready\n");
  std::fflush(stdout);
  svr.listen_after_bind();
  pthread_kill(waiter.native_handle(), SIGTERM); // wakes it if still waiting
  waiter.join();
  return 0;
}

/// A connection of the raw server: bytes read but not yet answered.
struct raw_conn {
  std::string in;
};

/// Answers every complete request in `c.in`; false if the peer must go.
bool answer_all(int fd, raw_conn& c) {
  static const std::string body =
      R"({"success":true,"data":{"status":"accepted","dedupKey":"-"}})";
  static const std::string reply =
      "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  while (true) {
    auto end = c.in.find("\r\n\r\n");
    if (end == std::string::npos)
      return true;
    size_t length = 0;
    auto at = c.in.find("Content-Length:");
    if (at != std::string::npos && at < end)
      length = std::strtoull(c.in.c_str() + at + 15, nullptr, 10);
    if (c.in.size() < end + 4 + length)
      return true;
    c.in.erase(0, end + 4 + length);
    if (c.in.empty())
      c.in.shrink_to_fit();
    size_t off = 0;
    while (off < reply.size()) {
      auto k = ::send(fd, reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
      if (k <= 0)
        return false; // replies are tiny; a full buffer means a stuck peer
      off += static_cast<size_t>(k);
    }
  }
}

int run_raw(const options& o) {
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  ::setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd, 1024) != 0) {
    std::fprintf(stderr, "baseline_server: cannot bind port %d\n", o.port);
    return 1;
  }
  int ep = ::epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd;
  ::epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  std::unordered_map<int, raw_conn> conns;
  static volatile sig_atomic_t stop = 0;
  std::signal(SIGTERM, [](int) { stop = 1; });
  std::signal(SIGINT, [](int) { stop = 1; });
  std::printf("ready\n");
  std::fflush(stdout);
  epoll_event events[64];
  char buf[1 << 16];
  while (!stop) {
    int n = ::epoll_wait(ep, events, 64, 200);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
          conns[c];
        }
        continue;
      }
      auto& c = conns[fd];
      bool alive = true;
      while (true) {
        auto k = ::recv(fd, buf, sizeof buf, 0);
        if (k > 0) {
          c.in.append(buf, static_cast<size_t>(k));
          continue;
        }
        if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
          alive = false;
        break;
      }
      if (alive)
        alive = answer_all(fd, c);
      if (!alive) {
        ::epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        conns.erase(fd);
      }
    }
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port")
      o.port = std::atoi(argv[i + 1]);
    else if (flag == "--threads")
      o.threads = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--max-body")
      o.max_body = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--mode")
      o.mode = argv[i + 1];
    else {
      std::fprintf(stderr, "baseline_server: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (o.port <= 0 ||
      (o.mode != "parse" && o.mode != "noparse" && o.mode != "raw")) {
    std::fprintf(stderr, "usage: baseline_server --port P [--threads N] "
                         "[--max-body BYTES] [--mode parse|noparse|raw]\n");
    return 2;
  }
  return o.mode == "raw" ? run_raw(o) : run_httplib(o);
}
