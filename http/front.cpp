#include "http/front.hpp"

#include "config/log.hpp"
#include "http/front_connection.hpp"
#include "http/front_wire.hpp"
#include "http/request_parser.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace argus::http {

namespace {

using clock = std::chrono::steady_clock;
using wire::io;

/// How long a connection that was answered with an error (and told to
/// close) may keep sending before it is cut off: its unread bytes are
/// drained so that the reply is not lost to a reset.
constexpr auto linger_time = std::chrono::seconds{2};
/// How often deadlines are checked.
constexpr int tick_ms = 100;
/// How long `stop()` waits for requests in flight to be answered.
constexpr auto drain_time = std::chrono::seconds{10};

SSL_CTX* ctx_of(void* p) {
  return static_cast<SSL_CTX*>(p);
}

refusal refusal_of(ec code) {
  switch (code) {
  case ec::headers_too_large:
    return refusal::headers_too_large;
  case ec::payload_too_large:
    return refusal::body_too_large;
  default:
    return refusal::malformed;
  }
}

} // namespace

const char* to_string(refusal r) {
  switch (r) {
  case refusal::max_connections:
    return "max_connections";
  case refusal::max_connections_per_address:
    return "max_connections_per_address";
  case refusal::header_timeout:
    return "header_timeout";
  case refusal::request_timeout:
    return "request_timeout";
  case refusal::headers_too_large:
    return "headers_too_large";
  case refusal::body_too_large:
    return "body_too_large";
  case refusal::malformed:
    return "malformed";
  case refusal::tls_handshake:
    return "tls_handshake";
  }
  return "other";
}

front::front(const config::server_settings& settings, handler run,
             classifier is_ingest)
    : settings_(settings), run_(std::move(run)),
      is_ingest_(std::move(is_ingest)) {}

front::~front() {
  stop();
  if (ssl_ctx_ != nullptr)
    SSL_CTX_free(ctx_of(ssl_ctx_));
}

// -- lifecycle ----------------------------------------------------------------

caf::error front::start() {
  // A peer that closes while a reply is written must not kill the process
  // (OpenSSL writes with write(2), which raises SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  if (settings_.tls.enabled()) {
    auto* ctx = SSL_CTX_new(TLS_server_method());
    ssl_ctx_ = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    auto& tls = settings_.tls;
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.certificate.c_str()) != 1)
      return make_error(ec::internal, "server.tls.certificate: cannot load " +
                                          tls.certificate + ": " +
                                          wire::openssl_error());
    if (SSL_CTX_use_PrivateKey_file(ctx, tls.key.c_str(), SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_check_private_key(ctx) != 1)
      return make_error(ec::internal, "server.tls.key: cannot load " + tls.key +
                                          ": " + wire::openssl_error());
    if (!tls.client_ca.empty()) {
      auto* names = SSL_load_client_CA_file(tls.client_ca.c_str());
      if (names == nullptr || SSL_CTX_load_verify_locations(
                                  ctx, tls.client_ca.c_str(), nullptr) != 1)
        return make_error(ec::internal, "server.tls.client_ca: cannot load " +
                                            tls.client_ca + ": " +
                                            wire::openssl_error());
      SSL_CTX_set_client_CA_list(ctx, names);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         nullptr);
      static const unsigned char sid[] = "argus";
      SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    }
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  auto port = std::to_string(settings_.port);
  if (::getaddrinfo(settings_.host.c_str(), port.c_str(), &hints, &found) !=
          0 ||
      found == nullptr)
    return make_error(ec::internal, "cannot resolve " + settings_.host);
  for (auto* ai = found; ai != nullptr && listen_fd_ < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family,
                      ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      continue;
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1024) == 0)
      listen_fd_ = fd;
    else
      ::close(fd);
  }
  ::freeaddrinfo(found);
  if (listen_fd_ < 0)
    return make_error(ec::internal, "cannot listen on " + settings_.host + ":" +
                                        port + ": " + std::strerror(errno));
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0; // the listener
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  ev.data.u64 = UINT64_MAX; // the wake-up of TLS replies, saturation, stop
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  pool_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  jobs_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ev.data.u64 = UINT64_MAX; // a job is queued (level-triggered)
  ::epoll_ctl(pool_fd_, EPOLL_CTL_ADD, jobs_fd_, &ev);
  idle_ = settings_.threads;
  for (size_t i = 0; i < settings_.threads; ++i)
    workers_.emplace_back([this] { work_general(); });
  for (size_t i = 0; i < settings_.reserved_threads; ++i)
    workers_.emplace_back([this] { work_reserved(); });
  loop_thread_ = std::thread{[this] { loop(); }};
  return {};
}

void front::stop() {
  if (loop_thread_.joinable()) {
    stopping_ = true;
    wake();
    loop_thread_.join(); // answers the requests in flight first
  }
  {
    std::lock_guard<std::mutex> guard{mutex_};
    workers_stop_ = true;
  }
  reserved_cv_.notify_all();
  if (jobs_fd_ >= 0)
    signal_jobs(); // left set: every general worker sees it
  for (auto& w : workers_)
    w.join();
  workers_.clear();
  // Only now: a worker past the drain deadline may still have written.
  while (!conns_.empty()) {
    auto c = conns_.begin()->second;
    close(*c);
  }
  for (auto fd : {listen_fd_, epoll_fd_, wake_fd_, pool_fd_, jobs_fd_})
    if (fd >= 0)
      ::close(fd);
  listen_fd_ = epoll_fd_ = wake_fd_ = pool_fd_ = jobs_fd_ = -1;
}

void front::wake() {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

// -- the loop -----------------------------------------------------------------

void front::loop() {
  std::vector<epoll_event> events(256);
  auto next_check = clock::now();
  for (;;) {
    int n = ::epoll_wait(epoll_fd_, events.data(),
                         static_cast<int>(events.size()), tick_ms);
    for (int i = 0; i < n; ++i)
      dispatch_event(events[i]);
    if (stopping_ && drained())
      return;
    auto now = clock::now();
    if (now >= next_check) {
      check_deadlines();
      next_check = now + std::chrono::milliseconds{tick_ms};
      resume_accepting();
      if (idle_ == 0)
        reclaim();
    }
  }
}

void front::dispatch_event(const epoll_event& ev) {
  auto id = ev.data.u64;
  if (id == 0) {
    accept_all();
  } else if (id == UINT64_MAX) {
    uint64_t value = 0;
    [[maybe_unused]] auto r = ::read(wake_fd_, &value, sizeof value);
    collect_replies();
    if (idle_ == 0)
      reclaim();
  } else if (auto keep = find(id)) {
    std::lock_guard<std::mutex> guard{keep->mu};
    // An event from before the connection moved to the pool is stale.
    if (!keep->closed && keep->in_set == connection::home::loop)
      on_event(*keep, ev.events);
  }
}

void front::resume_accepting() {
  if (!accept_paused_ || listen_fd_ < 0)
    return;
  accept_paused_ = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
}

bool front::drained() {
  if (!draining_) {
    // Stop accepting; requests not read in full are not answered.
    draining_ = true;
    drain_deadline_ = clock::now() + drain_time;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  bool in_flight = false;
  for (auto& c : snapshot()) {
    std::lock_guard<std::mutex> guard{c->mu};
    if (c->closed)
      continue;
    if (c->at == connection::phase::busy || c->at == connection::phase::writing)
      in_flight = true;
    else
      close(*c);
  }
  return !in_flight || clock::now() >= drain_deadline_;
}

void front::count(refusal r) {
  stats_.refused[static_cast<size_t>(r)].fetch_add(1,
                                                   std::memory_order_relaxed);
}

void front::accept_all() {
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof peer;
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len,
                       SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
          errno == ENOMEM) {
        // Out of descriptors: stop polling the listener until the next
        // tick instead of spinning on it.
        LOG_WARNING("HTTP accept failed: " << std::strerror(errno));
        accept_paused_ = true;
        epoll_event ev{};
        ev.data.u64 = 0;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev);
      }
      return;
    }
    char host[INET6_ADDRSTRLEN] = "";
    int port = 0;
    if (peer.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&peer);
      ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
    } else if (peer.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&peer);
      ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
    }
    std::unique_lock<std::mutex> registry{conns_mu_};
    if (conns_.size() >= settings_.max_connections) {
      registry.unlock();
      refuse(fd, refusal::max_connections);
      continue;
    }
    auto& from = per_address_[host];
    if (from >= settings_.max_connections_per_address) {
      registry.unlock();
      refuse(fd, refusal::max_connections_per_address);
      continue;
    }
    ++from;
    registry.unlock();
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    auto id = next_id_++;
    auto c = std::make_shared<connection>(
        id, fd,
        request_limits{settings_.max_header_bytes, settings_.max_body_bytes});
    c->address = host;
    c->port = port;
    auto now = clock::now();
    c->header_deadline =
        now + std::chrono::seconds{settings_.header_timeout_seconds};
    c->request_deadline =
        now + std::chrono::seconds{settings_.request_timeout_seconds};
    c->last_read = now;
    auto& conn = *c;
    {
      std::lock_guard<std::mutex> guard{conns_mu_};
      conns_.emplace(id, c);
    }
    stats_.open.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> guard{conn.mu};
    if (ssl_ctx_ != nullptr) {
      conn.ssl = SSL_new(ctx_of(ssl_ctx_));
      SSL_set_fd(conn.ssl, fd);
      SSL_set_accept_state(conn.ssl);
      conn.at = connection::phase::handshake;
      handshake(conn);
    } else {
      watch(conn);
    }
  }
}

void front::refuse(int fd, refusal why) {
  count(why);
  // One non-blocking write of a canned reply, then close: no thread, no
  // buffer. An HTTPS client gets no reply (that would need a handshake).
  if (ssl_ctx_ == nullptr) {
    static const auto total = wire::canned(
        503, "UNAVAILABLE", "too many open connections; retry later");
    static const auto per_address = wire::canned(
        503, "UNAVAILABLE",
        "too many open connections from this address; retry later");
    auto& busy = why == refusal::max_connections ? total : per_address;
    [[maybe_unused]] auto n =
        ::send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

void front::on_event(connection& c, uint32_t events) {
  using phase = connection::phase;
  if ((events & EPOLLERR) != 0) {
    close(c);
    return;
  }
  switch (c.at) {
  case phase::handshake:
    handshake(c);
    return;
  case phase::reading:
    if (c.out_pos < c.out.size())
      flush(c);
    if (!c.closed && c.at == phase::reading)
      read_more(c);
    return;
  case phase::busy:
    if ((events & EPOLLHUP) != 0 && c.out_pos >= c.out.size()) {
      close(c); // the client is gone; its reply will be dropped
      return;
    }
    if ((events & EPOLLIN) != 0 && !c.want_read)
      c.muted = true; // pipelined bytes wait until the reply is written
    flush(c);
    return;
  case phase::writing:
    flush(c);
    return;
  case phase::lingering:
    drain(c);
    return;
  }
}

// -- reading and writing ------------------------------------------------------

void front::handshake(connection& c) {
  ERR_clear_error();
  auto rc = SSL_accept(c.ssl);
  c.want_read = c.want_write = false;
  if (rc == 1) {
    c.at = connection::phase::reading;
    watch(c);
    read_more(c);
    return;
  }
  switch (SSL_get_error(c.ssl, rc)) {
  case SSL_ERROR_WANT_READ:
    c.want_read = true;
    watch(c);
    return;
  case SSL_ERROR_WANT_WRITE:
    c.want_write = true;
    watch(c);
    return;
  default:
    // A client without an acceptable certificate (mutual TLS), a plain
    // HTTP request on the HTTPS port, an unsupported protocol version...
    LOG_DEBUG("TLS handshake with " << c.address
                                    << " failed: " << wire::openssl_error());
    count(refusal::tls_handshake);
    close(c);
  }
}

void front::read_more(connection& c) {
  char buf[16384];
  for (int rounds = 0; c.at == connection::phase::reading; ++rounds) {
    // Bounded per event so that one fast sender cannot hold the loop; the
    // level-triggered epoll calls again. Bytes OpenSSL holds decrypted are
    // read on regardless, as epoll would not report them.
    if (rounds >= 8 && (c.ssl == nullptr || SSL_pending(c.ssl) == 0))
      break;
    size_t got = 0;
    auto r = wire::read_some(c.ssl, c.fd, buf, sizeof buf, got);
    c.want_write = r == io::want_write;
    if (r == io::want_read || r == io::want_write)
      break;
    if (r != io::ok) {
      close(c); // a close between or within requests
      return;
    }
    auto now = clock::now();
    if (!c.started) {
      c.started = true;
      if (c.served > 0) {
        c.header_deadline =
            now + std::chrono::seconds{settings_.header_timeout_seconds};
        c.request_deadline =
            now + std::chrono::seconds{settings_.request_timeout_seconds};
      }
    }
    c.last_read = now;
    c.in.append(buf, got);
    try_parse(c);
    if (c.closed)
      return;
  }
  watch(c);
}

void front::try_parse(connection& c) {
  auto state = c.parser.parse(c.in, c.req);
  using st = request_parser::state;
  if (state == st::need_more) {
    if (c.parser.headers_done() && c.parser.expects_continue() &&
        !c.continue_sent) {
      c.continue_sent = true;
      c.out += "HTTP/1.1 100 Continue\r\n\r\n";
      flush(c);
    }
    return;
  }
  if (state == st::failed) {
    auto code = c.parser.error();
    c.in.clear();
    count(refusal_of(code));
    c.out.erase(0, c.out_pos);
    c.out_pos = 0;
    c.out += wire::error_reply(code, c.parser.message());
    c.close_after = true;
    c.at = connection::phase::writing;
    c.write_deadline =
        clock::now() + std::chrono::seconds{settings_.write_timeout_seconds};
    flush(c);
    return;
  }
  // Complete: run it here (a general worker) or queue it; nothing is read
  // from this connection until the reply is written.
  auto j = std::make_unique<job>();
  j->conn = c.shared_from_this();
  j->req = std::move(c.req);
  j->req.remote_addr = c.address;
  j->req.remote_port = c.port;
  j->keep_alive = c.parser.keep_alive() &&
                  c.served + 1 < settings_.keep_alive_max_requests &&
                  !stopping_;
  c.in.erase(0, c.parser.consumed());
  c.req = httplib::Request{};
  c.at = connection::phase::busy;
  watch(c);
  if (c.take != nullptr)
    *c.take = std::move(j);
  else
    submit(std::move(j));
}

void front::flush(connection& c) {
  while (c.out_pos < c.out.size()) {
    size_t put = 0;
    auto r = wire::write_some(c.ssl, c.fd, c.out.data() + c.out_pos,
                              c.out.size() - c.out_pos, put);
    c.want_read = r == io::want_read;
    if (r == io::want_read || r == io::want_write)
      break;
    if (r != io::ok) {
      close(c);
      return;
    }
    c.out_pos += put;
  }
  if (c.out_pos >= c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
    c.want_read = false;
    if (c.at == connection::phase::writing) {
      written(c);
      return;
    }
  }
  watch(c);
}

void front::written(connection& c) {
  if (c.close_after) {
    linger(c);
    return;
  }
  if (draining_) {
    close(c); // answered; stop() takes no new request
    return;
  }
  start_next_request(c);
}

void front::next_request(connection& c) {
  ++c.served;
  c.at = connection::phase::reading;
  c.parser.reset();
  c.continue_sent = false;
  c.muted = false;
  auto now = clock::now();
  c.idle_deadline = now + std::chrono::seconds{settings_.idle_timeout_seconds};
  c.started = !c.in.empty();
  if (c.started) {
    c.header_deadline =
        now + std::chrono::seconds{settings_.header_timeout_seconds};
    c.request_deadline =
        now + std::chrono::seconds{settings_.request_timeout_seconds};
    c.last_read = now;
  }
}

void front::start_next_request(connection& c) {
  next_request(c);
  if (c.started) {
    try_parse(c);
    if (c.closed || c.at != connection::phase::reading)
      return;
  }
  watch(c);
  // OpenSSL may hold bytes of the next request already; a plain socket's
  // are reported by epoll.
  if (c.ssl != nullptr)
    read_more(c);
}

void front::reply_and_close(connection& c, refusal why, int status,
                            const std::string& code,
                            const std::string& message) {
  count(why);
  c.in.clear();
  c.out.erase(0, c.out_pos);
  c.out_pos = 0;
  c.out += wire::canned(status, code, message);
  c.close_after = true;
  c.at = connection::phase::writing;
  c.write_deadline =
      clock::now() + std::chrono::seconds{settings_.write_timeout_seconds};
  flush(c);
}

void front::linger(connection& c) {
  if (draining_) {
    close(c);
    return;
  }
  // Stop sending, but read (and drop) what the client still sends, so that
  // closing with unread bytes does not reset the connection before the
  // client has read the reply.
  if (c.ssl != nullptr) {
    ERR_clear_error();
    SSL_shutdown(c.ssl);
  }
  ::shutdown(c.fd, SHUT_WR);
  c.at = connection::phase::lingering;
  c.linger_deadline = clock::now() + linger_time;
  watch(c);
}

void front::drain(connection& c) {
  char buf[16384];
  for (int i = 0; i < 8; ++i) {
    auto n = ::recv(c.fd, buf, sizeof buf, 0);
    if (n > 0)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
      return;
    close(c);
    return;
  }
}

void front::check_deadlines() {
  auto now = clock::now();
  for (auto& c : snapshot()) {
    std::lock_guard<std::mutex> guard{c->mu};
    if (!c->closed && overdue(*c, now))
      cut_off(*c);
  }
}

bool front::overdue(const connection& c, clock::time_point now) const {
  using phase = connection::phase;
  switch (c.at) {
  case phase::handshake:
    return now >= c.header_deadline;
  case phase::reading:
    if (!c.started)
      return c.served == 0 ? now >= c.header_deadline : now >= c.idle_deadline;
    return (now >= c.header_deadline && !c.parser.headers_done()) ||
           now >= c.request_deadline ||
           now >= c.last_read +
                      std::chrono::seconds{settings_.read_timeout_seconds};
  case phase::busy:
    return false;
  case phase::writing:
    return now >= c.write_deadline;
  case phase::lingering:
    return now >= c.linger_deadline;
  }
  return false;
}

void front::cut_off(connection& c) {
  using phase = connection::phase;
  if (c.at == phase::reading && c.started && c.parser.has_request_line()) {
    bool headers = !c.parser.headers_done();
    reply_and_close(
        c, headers ? refusal::header_timeout : refusal::request_timeout, 408,
        "REQUEST_TIMEOUT",
        headers ? "the request headers took too long to arrive"
                : "the request took too long to arrive");
    return;
  }
  if (c.at == phase::handshake ||
      (c.at == phase::reading && (c.served == 0 || c.started)))
    count(refusal::header_timeout); // never sent a full request line
  close(c);
}

} // namespace argus::http
