// The HTTP front stage under hostile or clumsy clients (issue 14): HTTPS and
// mutual TLS, slow clients that must not starve others, connection caps,
// header and request deadlines, header size, and compressed bodies whose
// size is checked after decoding.

#include "integration/harness.hpp"
#include "support/compress.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

namespace {

using namespace argus::test;
using steady = std::chrono::steady_clock;

/// A raw TCP connection to 127.0.0.1:port from the loopback address
/// `source` (127.0.0.x: the server sees a different client address).
class raw_conn {
public:
  explicit raw_conn(uint16_t port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &from.sin_addr);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  }
  ~raw_conn() { ::close(fd_); }
  raw_conn(const raw_conn&) = delete;
  raw_conn& operator=(const raw_conn&) = delete;

  bool send(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  /// Waits up to `wait` for bytes; what arrived, and whether the peer
  /// closed.
  std::string receive(std::chrono::milliseconds wait, bool& closed) {
    std::string out;
    closed = false;
    auto until = steady::now() + wait;
    while (steady::now() < until) {
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      until - steady::now())
                      .count();
      if (::poll(&p, 1, static_cast<int>(std::max<long>(left, 1))) <= 0)
        break;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
      if (reply_complete(out))
        break;
    }
    return out;
  }

  /// Everything until the server closes (at most `wait`).
  std::string read_to_close(std::chrono::milliseconds wait = 10s) {
    std::string out;
    bool closed = false;
    auto until = steady::now() + wait;
    while (!closed && steady::now() < until)
      out += receive(std::chrono::duration_cast<std::chrono::milliseconds>(
                         until - steady::now()),
                     closed);
    return out;
  }

  /// One whole reply (headers and Content-Length body), at most `wait`.
  std::string read_reply(std::chrono::milliseconds wait = 10s) {
    bool closed = false;
    return receive(wait, closed);
  }

private:
  static bool reply_complete(const std::string& text) {
    auto end = text.find("\r\n\r\n");
    if (end == std::string::npos)
      return false;
    auto at = text.find("Content-Length: ");
    if (at == std::string::npos || at > end)
      return true;
    auto length = std::stoul(text.substr(at + 16));
    return text.size() >= end + 4 + length;
  }

  int fd_ = -1;
};

/// The status code of a raw reply ("HTTP/1.1 408 ..."), or 0.
int status_of(const std::string& reply) {
  if (reply.rfind("HTTP/1.", 0) != 0 || reply.size() < 12)
    return 0;
  return std::stoi(reply.substr(9, 3));
}

/// The JSON body of a raw reply.
json body_of(const std::string& reply) {
  auto end = reply.find("\r\n\r\n");
  if (end == std::string::npos)
    return nullptr;
  return json::parse(reply.substr(end + 4), nullptr, false);
}

/// One sample of the server's /metrics (0 if absent).
double metric(server& s, const std::string& series) {
  auto text = s.http().get("/metrics").text;
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos)
    return 0;
  return std::stod(text.substr(at + series.size() + 2));
}

/// `size` zero bytes, gzip- (31 window bits) or zlib- (15) compressed as a
/// stream, so that the test never holds them decoded.
std::string deflated_zeros(size_t size, int window_bits) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string zeros(1 << 20, '\0');
  std::string out;
  char chunk[65536];
  for (size_t done = 0; done < size;) {
    auto n = std::min(zeros.size(), size - done);
    done += n;
    z.next_in = reinterpret_cast<Bytef*>(zeros.data());
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = reinterpret_cast<Bytef*>(chunk);
      z.avail_out = sizeof chunk;
      deflate(&z, done == size ? Z_FINISH : Z_NO_FLUSH);
      out.append(chunk, sizeof chunk - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

std::string gzip_of(const std::string& text) {
  return zlib_of(text, 31, 6);
}

/// The resident memory of process `pid`, in KiB.
long rss_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

/// The PKI of make_pki.sh in a fresh folder.
struct pki {
  temp_dir dir;
  pki() {
    auto cmd = std::string{ARGUS_MAKE_PKI} + " '" + dir.path().string() + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  std::string file(const std::string& name) const {
    return (dir.path() / name).string();
  }
  /// The `server.tls` section for the server certificate.
  std::string server_yaml(bool mutual) const {
    std::string out = "  tls:\n    certificate: " + file("server.pem") +
                      "\n    key: " + file("server.key") + "\n";
    if (mutual)
      out += "    client_ca: " + file("ca.pem") + "\n";
    return out;
  }
};

server_options memory_server(const std::string& server_yaml = "") {
  server_options opts;
  opts.backend = "memory";
  opts.server_yaml = server_yaml;
  return opts;
}

} // namespace

TEST_CASE("HTTPS with certificates of a test CA", "[integration]") {
  pki certs;
  auto opts = memory_server(certs.server_yaml(false));
  opts.https_ca = certs.file("ca.pem");
  opts.log_level = "info";
  server s{opts}; // its client checks the certificate against the CA
  auto m = s.fresh_manager("host");
  s.trigger(m, "tls-1");
  CHECK(s.await_alert(m, "tls-1").is_object());
  CHECK(s.log().find("listening on https://") != std::string::npos);
  // Plain HTTP on the HTTPS port gets no reply (a failed handshake).
  client plain{"127.0.0.1", s.port()};
  CHECK(plain.get("/healthz").status == 0);
  // A client that trusts another CA refuses the server.
  client doubting{"127.0.0.1", s.port(),
                  client_tls{certs.file("rogue-ca.pem"), "", ""}};
  CHECK(doubting.get("/healthz").status == 0);
  CHECK(metric(s, "argus_http_connections_refused_total{reason=\"tls_"
                  "handshake\"}") >= 1);
}

TEST_CASE("mutual TLS refuses clients without a certificate of client_ca",
          "[integration]") {
  pki certs;
  auto opts = memory_server(certs.server_yaml(true));
  opts.https_ca = certs.file("ca.pem");
  opts.client_cert = certs.file("client.pem");
  opts.client_key = certs.file("client.key");
  server s{opts};
  CHECK(s.http().get("/healthz").status == 200);
  client anonymous{"127.0.0.1", s.port(),
                   client_tls{certs.file("ca.pem"), "", ""}};
  CHECK(anonymous.get("/healthz").status == 0);
  client rogue{"127.0.0.1", s.port(),
               client_tls{certs.file("ca.pem"), certs.file("rogue.pem"),
                          certs.file("rogue.key")}};
  CHECK(rogue.get("/healthz").status == 0);
  CHECK(s.http().get("/healthz").status == 200);
}

TEST_CASE("keys on a non-loopback address without TLS refuse to start",
          "[integration]") {
  temp_dir dir;
  auto file = dir.path() / "config.yaml";
  write_file(
      file, "server:\n  host: 0.0.0.0\n  port: " + std::to_string(free_port()) +
                "\nstorage:\n  backend: memory\nnode:\n  port: 0\n");
  auto r = run_argus({"--config", file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.output,
             Catch::Contains("server.tls: '0.0.0.0' is not a loopback") &&
                 Catch::Contains("allow_plaintext"));
}

TEST_CASE("200 slowloris connections do not slow /healthz or ingestion",
          "[integration]") {
  // Deadlines far away: the slow connections stay open for the whole test.
  server s{memory_server("  header_timeout: 60\n  request_timeout: 60\n")};
  auto m = s.fresh_manager("host");
  std::vector<std::unique_ptr<raw_conn>> slow;
  for (int i = 0; i < 200; ++i) {
    slow.push_back(std::make_unique<raw_conn>(s.port()));
    REQUIRE(slow.back()->send("GET /hea")); // a partial request line
  }
  std::atomic<bool> done{false};
  std::thread trickle{[&] {
    const std::string rest = "lthz HTTP/1.1\r\nX-Slow: ";
    for (size_t tick = 0; !done; ++tick) {
      for (auto& c : slow)
        c->send(tick == 0 ? rest : "a"); // then a header byte each second
      for (int i = 0; i < 10 && !done; ++i)
        std::this_thread::sleep_for(100ms);
    }
  }};
  std::atomic<int> accepted{0};
  std::atomic<int> failed{0};
  std::thread ingest{[&] {
    client c{"127.0.0.1", s.port()};
    for (int i = 0; !done; ++i) {
      auto res =
          c.post("/v1/events", trigger_event(m, "slow-" + std::to_string(i)));
      (res.status == 202 ? accepted : failed)++;
      std::this_thread::sleep_for(5ms); // steady ingestion, not a flood
    }
  }};
  REQUIRE(eventually(
      [&] { return metric(s, "argus_http_open_connections") >= 200; }));
  httplib::Client probe{"127.0.0.1", s.port()};
  probe.set_keep_alive(true);
  std::vector<double> took_ms;
  for (int i = 0; i < 300; ++i) {
    auto start = steady::now();
    auto res = probe.Get("/healthz");
    took_ms.push_back(
        std::chrono::duration<double, std::milli>(steady::now() - start)
            .count());
    REQUIRE(res);
    REQUIRE(res->status == 200);
    std::this_thread::sleep_for(10ms);
  }
  done = true;
  trickle.join();
  ingest.join();
  std::sort(took_ms.begin(), took_ms.end());
  auto p99 = took_ms[took_ms.size() * 99 / 100 - 1];
  INFO("healthz p50 " << took_ms[took_ms.size() / 2] << " ms, p99 " << p99
                      << " ms, max " << took_ms.back() << " ms; events "
                      << accepted << " accepted, " << failed << " failed");
  CHECK(p99 < 100.0);
  CHECK(accepted > 50);
  CHECK(failed == 0);
  // The slow connections were open all along (nothing was cut off).
  CHECK(metric(s, "argus_http_open_connections") >= 200);
  CHECK(s.await_alert(m, "slow-0").is_object());
}

TEST_CASE("connections past the per-address and total caps are refused",
          "[integration]") {
  server s{memory_server(
      "  max_connections: 4\n  max_connections_per_address: 2\n")};
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";
  // Served (keep-alive, so they stay open); from addresses the harness's
  // own client does not use.
  auto served = [&](const char* from) {
    std::unique_ptr<raw_conn> c;
    REQUIRE(eventually([&] {
      c = std::make_unique<raw_conn>(s.port(), from);
      return c->send(get) && status_of(c->read_reply()) == 200;
    }));
    return c;
  };
  auto a1 = served("127.0.0.2");
  auto a2 = served("127.0.0.2");
  raw_conn a3{s.port(), "127.0.0.2"};
  auto third = a3.read_to_close(); // refused at once, before any request
  CHECK(status_of(third) == 503);
  CHECK(body_of(third)["error"]["code"] == "UNAVAILABLE");
  CHECK_THAT(body_of(third)["error"]["message"].get<std::string>(),
             Catch::Contains("from this address"));
  auto b1 = served("127.0.0.3");
  // Fill up to the total (the harness client's own connections may still
  // be closing) from fresh addresses, until one is refused.
  std::vector<std::unique_ptr<raw_conn>> extra;
  std::string total;
  for (auto from : {"127.0.0.4", "127.0.0.5", "127.0.0.6"}) {
    auto c = std::make_unique<raw_conn>(s.port(), from);
    // A refused connection is answered before it sends anything.
    bool closed = false;
    auto early = c->receive(300ms, closed);
    if (!early.empty()) {
      total = early + c->read_to_close();
      break;
    }
    REQUIRE(c->send(get));
    CHECK(status_of(c->read_reply()) == 200);
    extra.push_back(std::move(c));
  }
  CHECK(status_of(total) == 503);
  CHECK(body_of(total)["error"]["message"] ==
        "too many open connections; retry later");
  // Closing one makes room.
  a1.reset();
  REQUIRE(eventually([&] {
    raw_conn again{s.port(), "127.0.0.7"};
    return again.send(get) && status_of(again.read_reply()) == 200;
  }));
  a2.reset();
  b1.reset();
  extra.clear();
  REQUIRE(eventually([&] { return s.http().get("/healthz").status == 200; }));
  // The server counts a connection until its thread sees the close, so the
  // harness's own request for /metrics can still be refused for a moment.
  CHECK(eventually([&] {
    return metric(s, "argus_http_connections_refused_total{reason=\"max_"
                     "connections_per_address\"}") >= 1;
  }));
  CHECK(eventually([&] {
    return metric(s, "argus_http_connections_refused_total{reason=\"max_"
                     "connections\"}") >= 1;
  }));
}

TEST_CASE("slow headers get 408, a slow request line is closed, big headers "
          "431",
          "[integration]") {
  server s{memory_server("  header_timeout: 1\n  request_timeout: 2\n")};
  SECTION("a trickling header is cut off with 408") {
    raw_conn c{s.port()};
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nX-Slow: "));
    std::string reply;
    bool closed = false;
    for (int i = 0; i < 50 && reply.empty() && !closed; ++i) {
      c.send("a");
      reply = c.receive(200ms, closed);
    }
    CHECK(status_of(reply) == 408);
    CHECK(body_of(reply)["error"]["code"] == "REQUEST_TIMEOUT");
    CHECK(reply.find("Connection: close") != std::string::npos);
  }
  SECTION("a body that never arrives in full is cut off with 408") {
    raw_conn c{s.port()};
    REQUIRE(c.send("POST /v1/events HTTP/1.1\r\nContent-Length: 100\r\n\r\n"
                   "{\"a\":"));
    auto reply = c.read_to_close();
    CHECK(status_of(reply) == 408);
    CHECK(body_of(reply)["error"]["code"] == "REQUEST_TIMEOUT");
  }
  SECTION("a connection without a full request line is just closed") {
    raw_conn c{s.port()};
    REQUIRE(c.send("GET /hea"));
    CHECK(c.read_to_close() == "");
    raw_conn silent{s.port()};
    CHECK(silent.read_to_close() == "");
    CHECK(metric(s, "argus_http_connections_refused_total{reason=\"header_"
                    "timeout\"}") >= 2);
  }
  SECTION("headers over max_header_bytes are 431") {
    raw_conn c{s.port()};
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nX-Big: " +
                   std::string(20000, 'a') + "\r\n\r\n"));
    auto reply = c.read_to_close();
    CHECK(status_of(reply) == 431);
    CHECK(body_of(reply)["error"]["code"] == "HEADERS_TOO_LARGE");
    raw_conn fits{s.port()};
    REQUIRE(fits.send("GET /healthz HTTP/1.1\r\nX-Big: " +
                      std::string(4000, 'a') + "\r\n\r\n"));
    CHECK(status_of(fits.read_reply()) == 200);
  }
}

TEST_CASE("compressed bodies are decoded and capped after decoding",
          "[integration]") {
  server s{memory_server()};
  auto m = s.fresh_manager("host");
  auto post = [&](const std::string& body, const std::string& encoding) {
    return s.http().post_with("/v1/events", body,
                              {{"Content-Encoding", encoding}});
  };
  CHECK(post(gzip_of(trigger_event(m, "gz").dump()), "gzip").status == 202);
  CHECK(post(brotli_of(trigger_event(m, "br").dump(), 5), "br").status == 202);
  CHECK(s.await_alert(m, "gz").is_object());
  CHECK(s.await_alert(m, "br").is_object());

  auto before = rss_kib(s.pid());
  // 256 MiB of zeros in ~250 KiB of gzip, well under the 1 MiB body cap.
  auto bomb = deflated_zeros(size_t{256} << 20, 31);
  REQUIRE(bomb.size() < 1024 * 1024);
  auto res = post(bomb, "gzip");
  INFO(res.text);
  CHECK(res.status == 413);
  CHECK(res.error_code() == "PAYLOAD_TOO_LARGE");
  std::string zeros(size_t{64} << 20, '\0');
  auto br_bomb = brotli_of(zeros, 5);
  zeros = std::string{};
  REQUIRE(br_bomb.size() < 1024 * 1024);
  CHECK(post(br_bomb, "br").status == 413);
  auto after = rss_kib(s.pid());
  INFO("RSS " << before << " KiB before, " << after << " KiB after");
  CHECK(after - before < 32 * 1024);

  auto unknown = post(trigger_event(m, "zstd").dump(), "zstd");
  CHECK(unknown.status == 415);
  CHECK(unknown.error_code() == "UNSUPPORTED_MEDIA_TYPE");
  auto corrupt = post("not gzip at all", "gzip");
  CHECK(corrupt.status == 400);
  CHECK(corrupt.is_error_envelope());
  CHECK(s.http().get("/healthz").status == 200);
}
