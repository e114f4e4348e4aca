// loadgen: a small HTTP/1.1 load generator for the benchmark suite.
//
// Each thread owns one keep-alive connection and one pre-built request (the
// headers and a body of 1 or N events). Before each send it patches fixed-
// width digit slots in place, so every event carries a fresh dedupKey without
// building JSON on the hot path. It is closed-loop (one request in flight per
// connection) unless --rate paces it; it prints one JSON object on stdout.
//
//   loadgen --port P [--host H] [--path /v1/events] [--kind argus|am]
//           [--batch N]          0: one JSON object per request (default);
//                                N: a JSON array of N items
//           [--conns C]          connections = threads (default 8)
//           [--duration S | --count EVENTS]
//           [--rate EVENTS_PER_S] pace the sends (open schedule per thread)
//           [--groups G]          grouping values cycle over G (0: each event
//                                 its own value; default 1000)
//           [--key-base B]        added to every key number (unique runs)
//           [--keys K]            each connection cycles its keys over K
//                                 (0: every event a fresh key, the default);
//                                 past the first K, each event re-sends an
//                                 alert already sent, as Prometheus re-sends
//                                 the alerts still firing
//           [--probe-every K --probe-file F]  every Kth request (batch 0) is a
//                                 trigger with a fresh grouping value; its key,
//                                 wall-clock send time (us) and time to its
//                                 answer (us) go to F
//           [--healthz]           afterwards poll GET /healthz until
//                                 events.processed catches up with accepted
//
// A 503 (Argus's back-pressure) is counted and the same body is sent again
// after a back-off (1 ms, doubling to 64 ms while refused), so --count
// always delivers exactly EVENTS events.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using steady = std::chrono::steady_clock;

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/v1/events";
  std::string kind = "argus";
  size_t batch = 0;
  size_t conns = 8;
  double duration = 0;
  uint64_t count = 0;
  double rate = 0;
  uint64_t groups = 1000;
  uint64_t key_base = 0;
  uint64_t keys = 0;
  uint64_t probe_every = 0;
  std::string probe_file;
  bool healthz = false;
  double catchup_timeout = 300;
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "loadgen: %s\n", what.c_str());
  std::exit(2);
}

options parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--host")
      o.host = next();
    else if (a == "--port")
      o.port = std::stoi(next());
    else if (a == "--path")
      o.path = next();
    else if (a == "--kind")
      o.kind = next();
    else if (a == "--batch")
      o.batch = std::stoul(next());
    else if (a == "--conns")
      o.conns = std::stoul(next());
    else if (a == "--duration")
      o.duration = std::stod(next());
    else if (a == "--count")
      o.count = std::stoull(next());
    else if (a == "--rate")
      o.rate = std::stod(next());
    else if (a == "--groups")
      o.groups = std::stoull(next());
    else if (a == "--key-base")
      o.key_base = std::stoull(next());
    else if (a == "--keys")
      o.keys = std::stoull(next());
    else if (a == "--probe-every")
      o.probe_every = std::stoull(next());
    else if (a == "--probe-file")
      o.probe_file = next();
    else if (a == "--healthz")
      o.healthz = true;
    else if (a == "--catchup-timeout")
      o.catchup_timeout = std::stod(next());
    else
      die("unknown argument " + a);
  }
  if (o.port <= 0)
    die("--port is required");
  if (o.kind != "argus" && o.kind != "am")
    die("--kind must be argus or am");
  if ((o.duration > 0) == (o.count > 0))
    die("give exactly one of --duration and --count");
  if (o.conns == 0)
    die("--conns must be positive");
  if (o.probe_every > 0 && (o.batch != 0 || o.probe_file.empty()))
    die("--probe-every needs --batch 0 and --probe-file");
  if (o.probe_every > 0 && o.keys > 0)
    die("--probe-every needs fresh keys (no --keys)");
  return o;
}

constexpr size_t digits = 16;
constexpr uint64_t thread_stride = 10'000'000'000'000ULL; // 10^13 per thread

/// Offsets of one item's patchable slots in the request buffer: the key's
/// 16 digits, and the grouping value's marker letter plus 16 digits.
struct slot {
  size_t key;
  size_t group;
};

void put_digits(char* out, uint64_t v) {
  for (size_t i = digits; i-- > 0;) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

std::string zeros(size_t n) {
  return std::string(n, '0');
}

/// One item with placeholders, and the offsets of its slots inside it.
struct item_template {
  std::string text;
  size_t key_at;
  size_t group_at;
};

item_template make_item(const std::string& kind) {
  std::string before_group, between, after;
  bool key_first = false;
  if (kind == "argus") {
    before_group = R"({"event_manager_id":"bench","summary":"benchmark event",)"
                   R"("severity":"high","action":"trigger","class":")";
    between = R"(","dedupKey":"k)";
    after = R"(","host":"bench-host-01"})";
  } else {
    // Alertmanager: the key is a label, so every alert is a distinct one.
    key_first = true;
    before_group = R"({"labels":{"alertname":"bench","instance":"k)";
    between = R"(","class":")";
    after =
        R"(","severity":"high"},"annotations":{"summary":"benchmark event"}})";
  }
  item_template t;
  if (!key_first) {
    t.text = before_group;
    t.group_at = t.text.size();
    t.text += zeros(digits + 1) + between;
    t.key_at = t.text.size();
    t.text += zeros(digits) + after;
  } else {
    t.text = before_group;
    t.key_at = t.text.size();
    t.text += zeros(digits) + between;
    t.group_at = t.text.size();
    t.text += zeros(digits + 1) + after;
  }
  return t;
}

/// A pre-built request: the headers and body in one buffer, plus its slots.
struct request {
  std::string bytes;
  std::vector<slot> slots;
};

request make_request(const options& o) {
  auto item = make_item(o.kind);
  size_t n = o.batch == 0 ? 1 : o.batch;
  std::string body;
  std::vector<slot> rel;
  if (o.batch > 0)
    body += '[';
  for (size_t i = 0; i < n; ++i) {
    if (i > 0)
      body += ',';
    rel.push_back({body.size() + item.key_at, body.size() + item.group_at});
    body += item.text;
  }
  if (o.batch > 0)
    body += ']';
  std::string head = "POST " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" +
                     std::to_string(o.port) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\n\r\n";
  request r;
  r.bytes = head + body;
  for (auto& s : rel)
    r.slots.push_back({head.size() + s.key, head.size() + s.group});
  return r;
}

int connect_to(const options& o) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  ::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    auto k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

/// Reads one response; false on a broken connection. `close` tells whether
/// the server asked to close it.
bool read_response(int fd, std::string& buf, int& status, bool& close,
                   std::string* body_out = nullptr) {
  buf.clear();
  size_t header_end = std::string::npos;
  char chunk[65536];
  while (header_end == std::string::npos) {
    auto k = ::recv(fd, chunk, sizeof chunk, 0);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return false;
    buf.append(chunk, static_cast<size_t>(k));
    header_end = buf.find("\r\n\r\n");
  }
  if (buf.size() < 12)
    return false;
  status = std::atoi(buf.c_str() + 9);
  size_t length = 0;
  close = false;
  // Header names are case-insensitive: lower-case a copy of the head.
  std::string head = buf.substr(0, header_end);
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (auto at = head.find("\r\ncontent-length:"); at != std::string::npos)
    length = std::strtoull(head.c_str() + at + 17, nullptr, 10);
  if (head.find("\r\nconnection: close") != std::string::npos)
    close = true;
  size_t want = header_end + 4 + length;
  while (buf.size() < want) {
    auto k = ::recv(fd, chunk, std::min(sizeof chunk, want - buf.size()), 0);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return false;
    buf.append(chunk, static_cast<size_t>(k));
  }
  if (body_out)
    *body_out = buf.substr(header_end + 4, length);
  return true;
}

int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct probe {
  uint64_t key;
  int64_t sent_us;
  /// From the send to the answer: the event was accepted within it.
  int64_t answered_after_us;
};

/// What one thread measured.
struct tally {
  uint64_t requests_ok = 0;
  uint64_t events_ok = 0;
  uint64_t busy = 0;  ///< 503 answers
  uint64_t other = 0; ///< any other non-2xx answer
  uint64_t reconnects = 0;
  uint64_t errors = 0;
  int last_bad_status = 0;
  std::vector<uint32_t> latency_us; ///< of 2xx answers
  std::vector<probe> probes;
};

void run_thread(const options& o, size_t tid, uint64_t share,
                steady::time_point start, steady::time_point deadline,
                tally& t) {
  auto req = make_request(o);
  size_t per_request = req.slots.size();
  uint64_t seq = 0;
  uint64_t sent_requests = 0;
  double interval_s = o.rate > 0 ? o.conns * per_request / o.rate : 0;
  // Spread the threads' schedules over one interval.
  double offset_s = interval_s * tid / o.conns;
  int fd = connect_to(o);
  std::string buf;
  t.latency_us.reserve(1 << 16);
  auto fill = [&](bool is_probe) {
    for (auto& s : req.slots) {
      uint64_t n = seq++;
      uint64_t key =
          o.key_base + tid * thread_stride + (o.keys ? n % o.keys : n);
      put_digits(&req.bytes[s.key], key);
      char* g = &req.bytes[s.group];
      if (is_probe) {
        *g = 'p';
        put_digits(g + 1, key);
      } else if (o.groups == 0) {
        *g = 'u';
        put_digits(g + 1, key);
      } else {
        *g = 'c';
        put_digits(g + 1, key % o.groups);
      }
    }
  };
  bool refill = true;
  bool is_probe = false;
  int backoff_ms = 1;
  const int max_backoff_ms = 64;
  while (true) {
    if (o.count > 0 ? t.events_ok >= share : steady::now() >= deadline)
      break;
    if (refill) {
      is_probe = o.probe_every > 0 && sent_requests % o.probe_every == 0;
      fill(is_probe);
      refill = false;
    }
    if (o.rate > 0) {
      auto due = start + std::chrono::duration_cast<steady::duration>(
                             std::chrono::duration<double>(
                                 offset_s + interval_s * sent_requests));
      if (o.duration > 0 && due >= deadline)
        break;
      std::this_thread::sleep_until(due);
    }
    if (fd < 0) {
      fd = connect_to(o);
      if (fd < 0) {
        ++t.errors;
        if (t.errors > 1000)
          die("cannot connect to port " + std::to_string(o.port));
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
        continue;
      }
      ++t.reconnects;
    }
    int64_t sent_wall = wall_us();
    auto t0 = steady::now();
    int status = 0;
    bool close = false;
    if (!send_all(fd, req.bytes.data(), req.bytes.size()) ||
        !read_response(fd, buf, status, close)) {
      ++t.errors;
      ::close(fd);
      fd = -1;
      continue; // resend the same body on a fresh connection
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  steady::now() - t0)
                  .count();
    if (close) {
      ::close(fd);
      fd = -1;
    }
    ++sent_requests;
    if (status >= 200 && status < 300) {
      ++t.requests_ok;
      t.events_ok += per_request;
      t.latency_us.push_back(static_cast<uint32_t>(us));
      backoff_ms = 1;
      if (is_probe)
        t.probes.push_back({o.key_base + tid * thread_stride + seq - 1,
                            sent_wall, static_cast<int64_t>(us)});
      refill = true;
    } else if (status == 503) {
      // Back off like a polite client (1, 2, 4 ... 64 ms while refused):
      // a tight retry loop would spend the server's CPU on refusals.
      ++t.busy;
      std::this_thread::sleep_for(std::chrono::milliseconds{backoff_ms});
      backoff_ms = std::min(backoff_ms * 2, max_backoff_ms);
    } else {
      ++t.other;
      t.last_bad_status = status;
      if (t.other > 100)
        die("server answered " + std::to_string(status) + ": " +
            buf.substr(0, 300));
      refill = true;
    }
  }
  if (fd >= 0)
    ::close(fd);
}

/// events.accepted and events.processed from GET /healthz.
bool read_counters(const options& o, uint64_t& accepted, uint64_t& processed) {
  int fd = connect_to(o);
  if (fd < 0)
    return false;
  std::string req = "GET /healthz HTTP/1.1\r\nHost: " + o.host +
                    "\r\nConnection: close\r\n\r\n";
  std::string buf, body;
  int status = 0;
  bool close = false;
  bool ok = send_all(fd, req.data(), req.size()) &&
            read_response(fd, buf, status, close, &body) && status == 200;
  ::close(fd);
  if (!ok)
    return false;
  auto number = [&](const char* name, uint64_t& out) {
    auto at = body.find(name);
    if (at == std::string::npos)
      return false;
    out = std::strtoull(body.c_str() + at + std::strlen(name), nullptr, 10);
    return true;
  };
  return number("\"accepted\":", accepted) &&
         number("\"processed\":", processed);
}

double percentile(const std::vector<uint32_t>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto i = static_cast<size_t>(p * (sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse_args(argc, argv);
  uint64_t accepted0 = 0, processed0 = 0;
  if (o.healthz && !read_counters(o, accepted0, processed0))
    die("GET /healthz failed on port " + std::to_string(o.port));
  std::vector<tally> tallies(o.conns);
  std::vector<std::thread> threads;
  auto start = steady::now();
  int64_t start_wall = wall_us();
  auto deadline = start + std::chrono::duration_cast<steady::duration>(
                              std::chrono::duration<double>(o.duration));
  // --count: whole requests, spread over the threads.
  uint64_t per_request = o.batch == 0 ? 1 : o.batch;
  uint64_t requests = (o.count + per_request - 1) / per_request;
  for (size_t i = 0; i < o.conns; ++i) {
    uint64_t share =
        (requests / o.conns + (i < requests % o.conns ? 1 : 0)) * per_request;
    threads.emplace_back(run_thread, std::cref(o), i, share, start, deadline,
                         std::ref(tallies[i]));
  }
  for (auto& th : threads)
    th.join();
  double send_s = std::chrono::duration<double>(steady::now() - start).count();
  tally all;
  int last_bad_status = 0;
  for (auto& t : tallies) {
    if (t.last_bad_status != 0)
      last_bad_status = t.last_bad_status;
    all.requests_ok += t.requests_ok;
    all.events_ok += t.events_ok;
    all.busy += t.busy;
    all.other += t.other;
    all.reconnects += t.reconnects;
    all.errors += t.errors;
    all.latency_us.insert(all.latency_us.end(), t.latency_us.begin(),
                          t.latency_us.end());
    all.probes.insert(all.probes.end(), t.probes.begin(), t.probes.end());
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  // Processed: poll the server's counter until it has applied all it took.
  double processed_s = send_s;
  uint64_t accepted = 0, processed = 0;
  bool caught_up = true;
  if (o.healthz) {
    caught_up = false;
    while (true) {
      if (read_counters(o, accepted, processed) && processed >= accepted) {
        caught_up = true;
        break;
      }
      auto waited =
          std::chrono::duration<double>(steady::now() - start).count() - send_s;
      if (waited > o.catchup_timeout)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
    }
    processed_s = std::chrono::duration<double>(steady::now() - start).count();
  }
  if (!o.probe_file.empty()) {
    std::ofstream out{o.probe_file};
    for (auto& p : all.probes)
      out << 'k' << std::string(digits - std::to_string(p.key).size(), '0')
          << p.key << ' ' << p.sent_us << ' ' << p.answered_after_us << '\n';
  }
  // Counters only grow; a smaller reading means another server answered.
  uint64_t processed_delta =
      o.healthz && processed >= processed0 ? processed - processed0 : 0;
  uint64_t accepted_delta =
      o.healthz && accepted >= accepted0 ? accepted - accepted0 : 0;
  std::printf(
      "{\"requests_ok\":%llu,\"events_ok\":%llu,\"busy_503\":%llu,"
      "\"other_non2xx\":%llu,\"last_bad_status\":%d,\"reconnects\":%llu,"
      "\"errors\":%llu,\"send_seconds\":%.6f,\"events_per_s\":%.1f,"
      "\"requests_per_s\":%.1f,\"latency_us\":{\"p50\":%.0f,\"p99\":%.0f,"
      "\"max\":%.0f},\"start_wall_us\":%lld,\"healthz\":%s,"
      "\"server_accepted\":%llu,\"server_processed\":%llu,\"caught_up\":%s,"
      "\"processed_seconds\":%.6f,\"processed_per_s\":%.1f,\"probes\":%zu}\n",
      (unsigned long long)all.requests_ok, (unsigned long long)all.events_ok,
      (unsigned long long)all.busy, (unsigned long long)all.other,
      last_bad_status, (unsigned long long)all.reconnects,
      (unsigned long long)all.errors, send_s, all.events_ok / send_s,
      all.requests_ok / send_s, percentile(all.latency_us, 0.50),
      percentile(all.latency_us, 0.99),
      all.latency_us.empty() ? 0.0 : double(all.latency_us.back()),
      (long long)start_wall, o.healthz ? "true" : "false",
      (unsigned long long)accepted_delta, (unsigned long long)processed_delta,
      caught_up ? "true" : "false", processed_s,
      o.healthz ? processed_delta / processed_s : 0.0, all.probes.size());
  return caught_up ? 0 : 3;
}
