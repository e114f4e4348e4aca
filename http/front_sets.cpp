// The front stage's connections: the registry the loop and the workers
// share, and which epoll set each connection sits in (the loop's, or the
// general workers' pool).

#include "http/front.hpp"

#include "http/front_connection.hpp"

#include <openssl/ssl.h>

#include <sys/epoll.h>
#include <unistd.h>

namespace argus::http {

std::shared_ptr<front::connection> front::find(uint64_t id) {
  std::lock_guard<std::mutex> guard{conns_mu_};
  auto i = conns_.find(id);
  return i == conns_.end() ? nullptr : i->second;
}

std::vector<std::shared_ptr<front::connection>> front::snapshot() {
  std::lock_guard<std::mutex> guard{conns_mu_};
  std::vector<std::shared_ptr<connection>> all;
  all.reserve(conns_.size());
  for (auto& entry : conns_)
    all.push_back(entry.second);
  return all;
}

void front::close(connection& c) {
  if (c.ssl != nullptr)
    SSL_free(c.ssl);
  c.ssl = nullptr;
  c.closed = true;
  move_out(c);
  ::close(c.fd);
  stats_.open.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> guard{conns_mu_};
  auto from = per_address_.find(c.address);
  if (from != per_address_.end() && --from->second == 0)
    per_address_.erase(from);
  conns_.erase(c.id); // c lives on while a caller holds a reference
}

bool front::pooled(const connection& c) const {
  using phase = connection::phase;
  // TLS stays with the loop (an SSL call may want the other direction
  // first); so do pending writes, a stop, and connections nobody would
  // read while every general worker is busy.
  return c.ssl == nullptr && (c.at == phase::reading || c.at == phase::busy) &&
         c.out_pos >= c.out.size() && !draining_ && idle_ > 0;
}

void front::move_out(connection& c) {
  auto* set = c.in_set == connection::home::pool ? &pool_fd_ : &epoll_fd_;
  if (c.in_set != connection::home::none)
    ::epoll_ctl(*set, EPOLL_CTL_DEL, c.fd, nullptr);
  c.in_set = connection::home::none;
  c.events = 0;
}

void front::watch(connection& c) {
  using phase = connection::phase;
  using home = connection::home;
  if (pooled(c)) {
    if (c.in_set == home::loop)
      move_out(c);
    // Busy: nobody listens until the reply is written (pipelined bytes
    // wait in the socket).
    if (c.at == phase::busy)
      return;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = c.id;
    ::epoll_ctl(pool_fd_,
                c.in_set == home::pool ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd,
                &ev);
    c.in_set = home::pool;
    return;
  }
  if (c.in_set == home::pool)
    move_out(c);
  uint32_t want = 0;
  switch (c.at) {
  case phase::handshake:
    want = c.want_write ? EPOLLOUT : EPOLLIN;
    break;
  case phase::reading:
    want = c.want_write ? EPOLLOUT : EPOLLIN;
    if (c.out_pos < c.out.size())
      want |= EPOLLOUT;
    break;
  case phase::busy:
    if (c.out_pos < c.out.size())
      want = c.want_read ? EPOLLIN : EPOLLOUT;
    else
      want = c.muted ? 0 : (c.events & EPOLLIN);
    break;
  case phase::writing:
    want = c.want_read ? EPOLLIN : EPOLLOUT;
    break;
  case phase::lingering:
    want = EPOLLIN;
    break;
  }
  if (want == c.events && c.in_set == home::loop)
    return;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = c.id;
  ::epoll_ctl(epoll_fd_, c.in_set == home::loop ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
              c.fd, &ev);
  c.in_set = home::loop;
  c.events = want;
}

void front::reclaim() {
  for (auto& c : snapshot()) {
    std::lock_guard<std::mutex> guard{c->mu};
    if (!c->closed && c->in_set == connection::home::pool)
      watch(*c);
  }
}

} // namespace argus::http
