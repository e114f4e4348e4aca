// The worker side of the front stage: running requests and handing their
// replies back (written straight to the socket when possible).

#include "http/front.hpp"

#include "config/log.hpp"
#include "http/front_connection.hpp"
#include "http/front_wire.hpp"

#include <cerrno>
#include <sys/epoll.h>
#include <sys/socket.h>

namespace argus::http {

void front::submit(std::unique_ptr<job> j) {
  bool ingest = is_ingest_(j->req);
  {
    std::lock_guard<std::mutex> guard{mutex_};
    (ingest ? ingest_jobs_ : other_jobs_).push_back(std::move(j));
  }
  work_cv_.notify_one();
  if (!ingest)
    reserved_cv_.notify_one();
}

std::unique_ptr<front::job> front::next_job(bool reserved) {
  std::unique_lock<std::mutex> lock{mutex_};
  auto& cv = reserved ? reserved_cv_ : work_cv_;
  cv.wait(lock, [&] {
    return workers_stop_ || !other_jobs_.empty() ||
           (!reserved && !ingest_jobs_.empty());
  });
  if (workers_stop_)
    return nullptr;
  // Everyone prefers the small calls; only the general workers ingest.
  auto& q = !other_jobs_.empty() ? other_jobs_ : ingest_jobs_;
  auto j = std::move(q.front());
  q.pop_front();
  return j;
}

void front::work(bool reserved) {
  std::string bytes;
  while (auto j = next_job(reserved)) {
    httplib::Response res;
    try {
      run_(j->req, res);
    } catch (const std::exception& e) {
      // The handler catches what routes throw; this is the last resort so
      // that a worker never dies.
      LOG_ERROR("request " << j->req.method << " " << j->req.path
                           << " failed: " << e.what());
      res = httplib::Response{};
      res.status = 500;
      res.set_content(R"({"success":false,"error":{"code":"INTERNAL_ERROR",)"
                      R"("message":"internal error"}})",
                      "application/json");
    }
    bool keep = j->keep_alive && !stopping_ &&
                !(res.has_header("Connection") &&
                  res.get_header_value("Connection") == "close");
    bytes.clear();
    wire::serialize(j->req, res, keep, bytes);
    reply(std::move(j->conn), bytes, !keep);
  }
}

void front::reply(std::shared_ptr<connection> conn, std::string& bytes,
                  bool close) {
  {
    std::lock_guard<std::mutex> guard{conn->mu};
    if (write_direct(*conn, bytes, close))
      return;
  }
  {
    std::lock_guard<std::mutex> guard{mutex_};
    replies_.push_back(done{std::move(conn), bytes, close});
  }
  wake();
}

bool front::write_direct(connection& c, std::string& bytes, bool close) {
  // TLS replies go through the loop: an SSL object is the loop's, and a
  // write may need a read first. So do errors, closing and a connection
  // whose client sent more meanwhile (the loop parses that).
  if (c.ssl != nullptr || c.closed || !c.out.empty())
    return false;
  size_t put = 0;
  while (put < bytes.size()) {
    auto n = ::send(c.fd, bytes.data() + put, bytes.size() - put,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
      put += static_cast<size_t>(n);
    else if (n < 0 && errno == EINTR)
      continue;
    else
      break; // full (or failed): the loop writes the rest (or closes)
  }
  bytes.erase(0, put);
  if (!bytes.empty() || close || c.muted || !c.in.empty() ||
      c.events != EPOLLIN || stopping_)
    return false;
  // The reply is out and epoll still watches for the next request: the
  // connection reads again without waking the loop.
  next_request(c);
  return true;
}

void front::collect_replies() {
  std::vector<done> ready;
  {
    std::lock_guard<std::mutex> guard{mutex_};
    ready.swap(replies_);
  }
  for (auto& d : ready) {
    auto& c = *d.conn;
    std::lock_guard<std::mutex> guard{c.mu};
    if (c.closed)
      continue; // the client left meanwhile
    c.out += d.bytes;
    c.close_after = d.close;
    c.at = connection::phase::writing;
    c.write_deadline = connection::clock::now() +
                       std::chrono::seconds{settings_.write_timeout_seconds};
    flush(c);
  }
}

} // namespace argus::http
