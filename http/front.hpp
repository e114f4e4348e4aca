#pragma once

#include "config/settings.hpp"
#include "domain/text_hash.hpp"

#include <caf/error.hpp>
#include <httplib.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

struct epoll_event;

namespace argus::http {

/// Why the front stage refused or dropped a connection (the `reason` label
/// of `argus_http_connections_refused_total`).
enum class refusal : uint8_t {
  max_connections,
  max_connections_per_address,
  header_timeout,
  request_timeout,
  headers_too_large,
  body_too_large,
  malformed,
  tls_handshake,
};
constexpr size_t refusal_count = 8;
const char* to_string(refusal r);

/// Counters of the front stage, read by /metrics.
struct front_stats {
  std::atomic<uint64_t> open{0};
  std::array<std::atomic<uint64_t>, refusal_count> refused{};
};

/// The HTTP front stage. Plaintext connections waiting for a request sit
/// in an epoll set shared by the general worker threads (one-shot): the
/// worker that gets one reads it, parses, runs the handler, writes the
/// reply and re-arms it, so a keep-alive request wakes one thread, not
/// two. One loop thread with its own epoll set accepts, enforces the
/// deadlines and size caps (it times out connections in either set), does
/// all of TLS (non-blocking OpenSSL, requests handed to the workers by a
/// queue), finishes replies that did not fit the socket buffer and
/// lingers on closing connections. A slow or idle client costs a buffer,
/// never a thread.
///
/// Workers: `threads` take every request; `reserved_threads` more take
/// only queued requests that `is_ingest` says are not ingestion. While
/// every general worker runs a handler nobody reads the pool, so the loop
/// takes its connections over and queues what it reads: `/healthz`,
/// `/metrics` and admin calls are still served while ingestion is
/// saturated.
class front {
public:
  /// Runs one complete request (body still encoded) to its reply.
  using handler = std::function<void(httplib::Request&, httplib::Response&)>;
  /// Whether a request is ingestion (may wait for any worker).
  using classifier = std::function<bool(const httplib::Request&)>;

  front(const config::server_settings& settings, handler run,
        classifier is_ingest);
  ~front();
  front(const front&) = delete;
  front& operator=(const front&) = delete;

  /// Binds, loads the TLS files if configured and starts the threads; the
  /// error names what failed.
  caf::error start();
  /// Stops gracefully: closes the listener and the connections without a
  /// request in flight, answers the requests in flight (up to 10 s, with
  /// `Connection: close`), then closes the rest and joins the threads.
  void stop();

  const front_stats& stats() const { return stats_; }
  bool tls() const { return settings_.tls.enabled(); }

  struct connection;
  struct job;
  struct done;

private:
  using time_point = std::chrono::steady_clock::time_point;

  // The loop, and each connection's steps, taken by the loop or by a
  // general worker, always with `c.mu` held (http/front.cpp).
  void loop();
  void dispatch_event(const epoll_event& ev);
  void wake();
  void resume_accepting();
  /// Stopping: closes the listener and every connection without a request
  /// in flight; true once none is left (or the drain time is up).
  bool drained();
  void accept_all();
  void refuse(int fd, refusal why);
  void on_event(connection& c, uint32_t events);
  void handshake(connection& c);
  void read_more(connection& c);
  void try_parse(connection& c);
  void flush(connection& c);
  void written(connection& c);
  /// Resets `c` for its next request.
  void next_request(connection& c);
  void start_next_request(connection& c);
  void reply_and_close(connection& c, refusal why, int status,
                       const std::string& code, const std::string& message);
  void linger(connection& c);
  void drain(connection& c);
  void check_deadlines();
  bool overdue(const connection& c, time_point now) const;
  void cut_off(connection& c);
  void count(refusal r);

  // The registry and the epoll sets (http/front_sets.cpp).
  std::shared_ptr<connection> find(uint64_t id);
  std::vector<std::shared_ptr<connection>> snapshot();
  /// Closes the descriptor and forgets the connection (any thread, with
  /// `c.mu` held).
  void close(connection& c);
  /// Puts `c` in the epoll set its state calls for, with the events it
  /// waits for (the pool: one-shot, re-armed here).
  void watch(connection& c);
  /// Whether `c` belongs in the workers' pool now.
  bool pooled(const connection& c) const;
  void move_out(connection& c);
  /// The loop takes the pool's connections over while every general
  /// worker is busy (see the class comment).
  void reclaim();

  // The workers (http/front_workers.cpp).
  void submit(std::unique_ptr<job> j);
  /// A queued non-ingest job for a reserved worker (blocks).
  std::unique_ptr<job> next_job();
  /// A queued job for a general worker, if any (never blocks).
  std::unique_ptr<job> try_job();
  void signal_jobs();
  void work_general();
  void work_reserved();
  /// Reads the pool connection `id` had an event on; a complete request
  /// comes back to run.
  std::unique_ptr<job> serve(uint64_t id, uint32_t events);
  /// Runs the request and writes (or hands over) its reply; a pipelined
  /// request found complete afterwards comes back to run too.
  std::unique_ptr<job> run(job& j, bool general);
  /// Hands a TLS reply to the loop.
  void reply(std::shared_ptr<connection> conn, std::string& bytes, bool close);
  void collect_replies();

  const config::server_settings& settings_;
  handler run_;
  classifier is_ingest_;
  front_stats stats_;

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  /// The workers' pool of plaintext connections waiting for a request,
  /// and the eventfd in it that tells a general worker a job is queued.
  int pool_fd_ = -1;
  int jobs_fd_ = -1;
  void* ssl_ctx_ = nullptr; ///< SSL_CTX*, kept out of this header
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  /// General workers not running a handler; none: the pool is unread.
  std::atomic<size_t> idle_{0};
  std::thread loop_thread_;

  // Owned by the loop thread.
  uint64_t next_id_ = 1;
  time_point drain_deadline_;
  bool accept_paused_ = false;

  // Guarded by conns_mu_ (taken after a connection's `mu`, never before).
  std::mutex conns_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<connection>> conns_;
  std::unordered_map<std::string, size_t, domain::text_hasher> per_address_;

  // The job queue (requests the loop read) and the TLS replies.
  std::mutex mutex_;
  std::condition_variable reserved_cv_;
  std::deque<std::unique_ptr<job>> ingest_jobs_;
  std::deque<std::unique_ptr<job>> other_jobs_;
  std::atomic<size_t> queued_{0};
  std::vector<done> replies_;
  std::atomic<bool> workers_stop_{false};
  std::vector<std::thread> workers_;
};

} // namespace argus::http
