// The worker side of the front stage: general workers serving the pool of
// plaintext connections (and queued jobs), reserved workers serving queued
// non-ingest jobs.

#include "http/front.hpp"

#include "config/log.hpp"
#include "http/front_connection.hpp"
#include "http/front_wire.hpp"

#include <cerrno>
#include <sys/epoll.h>
#include <unistd.h>

namespace argus::http {

namespace {

/// The event of `jobs_fd_` in the pool (connection ids start at 1).
constexpr uint64_t jobs_id = UINT64_MAX;

} // namespace

void front::submit(std::unique_ptr<job> j) {
  bool ingest = is_ingest_(j->req);
  {
    std::lock_guard<std::mutex> guard{mutex_};
    (ingest ? ingest_jobs_ : other_jobs_).push_back(std::move(j));
    queued_.fetch_add(1);
  }
  signal_jobs();
  if (!ingest)
    reserved_cv_.notify_one();
}

void front::signal_jobs() {
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(jobs_fd_, &one, sizeof one);
}

std::unique_ptr<front::job> front::next_job() {
  std::unique_lock<std::mutex> lock{mutex_};
  reserved_cv_.wait(lock,
                    [&] { return workers_stop_ || !other_jobs_.empty(); });
  if (workers_stop_)
    return nullptr;
  auto j = std::move(other_jobs_.front());
  other_jobs_.pop_front();
  queued_.fetch_sub(1);
  return j;
}

std::unique_ptr<front::job> front::try_job() {
  if (queued_.load() == 0)
    return nullptr;
  std::lock_guard<std::mutex> guard{mutex_};
  if (ingest_jobs_.empty() && other_jobs_.empty())
    return nullptr;
  // Everyone prefers the small calls.
  auto& q = !other_jobs_.empty() ? other_jobs_ : ingest_jobs_;
  auto j = std::move(q.front());
  q.pop_front();
  queued_.fetch_sub(1);
  // The eventfd was reset by whoever woke: let another worker take the
  // rest.
  if (!ingest_jobs_.empty() || !other_jobs_.empty())
    signal_jobs();
  return j;
}

void front::work_reserved() {
  while (auto j = next_job())
    run(*j, false);
}

void front::work_general() {
  epoll_event ev{};
  while (!workers_stop_) {
    auto j = try_job();
    if (!j) {
      int n = ::epoll_wait(pool_fd_, &ev, 1, -1);
      if (n <= 0)
        continue; // EINTR
      if (ev.data.u64 == jobs_id) {
        if (workers_stop_)
          break; // left set, so that every worker sees it
        uint64_t value = 0;
        [[maybe_unused]] auto r = ::read(jobs_fd_, &value, sizeof value);
        continue;
      }
      j = serve(ev.data.u64, ev.events);
    }
    while (j)
      j = run(*j, true);
  }
}

std::unique_ptr<front::job> front::serve(uint64_t id, uint32_t events) {
  auto conn = find(id);
  if (!conn)
    return nullptr; // closed meanwhile
  std::unique_ptr<job> j;
  std::lock_guard<std::mutex> guard{conn->mu};
  auto& c = *conn;
  // The loop may have taken it over (deadline, saturation) since.
  if (c.closed || c.in_set != connection::home::pool ||
      c.at != connection::phase::reading)
    return nullptr;
  c.take = &j;
  on_event(c, events);
  c.take = nullptr;
  return j;
}

std::unique_ptr<front::job> front::run(job& j, bool general) {
  if (general && idle_.fetch_sub(1) == 1)
    wake(); // the last idle one: the loop reads the pool meanwhile
  httplib::Response res;
  try {
    run_(j.req, res);
  } catch (const std::exception& e) {
    // The handler catches what routes throw; this is the last resort so
    // that a worker never dies.
    LOG_ERROR("request " << j.req.method << " " << j.req.path
                         << " failed: " << e.what());
    res = httplib::Response{};
    res.status = 500;
    res.set_content(R"({"success":false,"error":{"code":"INTERNAL_ERROR",)"
                    R"("message":"internal error"}})",
                    "application/json");
  }
  if (general)
    idle_.fetch_add(1);
  bool keep = j.keep_alive && !stopping_ &&
              !(res.has_header("Connection") &&
                res.get_header_value("Connection") == "close");
  std::string bytes;
  wire::serialize(j.req, res, keep, bytes);
  auto conn = std::move(j.conn);
  std::unique_ptr<job> next;
  std::lock_guard<std::mutex> guard{conn->mu};
  auto& c = *conn;
  if (c.closed)
    return nullptr; // the client left meanwhile
  if (c.ssl != nullptr) {
    // An SSL object is the loop's: a write may need a read first.
    reply(conn, bytes, !keep);
    return nullptr;
  }
  c.out += bytes;
  c.close_after = !keep;
  c.at = connection::phase::writing;
  c.write_deadline = connection::clock::now() +
                     std::chrono::seconds{settings_.write_timeout_seconds};
  // Written here; what does not fit the socket buffer, the loop writes.
  c.take = general ? &next : nullptr;
  flush(c);
  c.take = nullptr;
  return next;
}

void front::reply(std::shared_ptr<connection> conn, std::string& bytes,
                  bool close) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    replies_.push_back(done{std::move(conn), bytes, close});
  }
  wake();
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
