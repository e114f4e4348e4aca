#pragma once

#include "config/settings.hpp"

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

/// The HTTP front stage: one thread with an epoll loop accepts connections
/// (HTTPS too, with non-blocking OpenSSL), reads each one until a complete
/// request is buffered while it enforces the deadlines and size caps, and
/// hands complete requests to a pool of worker threads that run the
/// handler. A worker writes a plaintext reply to the socket itself and puts
/// the connection back to reading (epoll keeps watching it), so a request
/// wakes two threads, not three; TLS replies, replies that do not fit the
/// socket buffer and closing connections go back to the loop. A slow or
/// idle client costs a buffer, never a thread.
///
/// Workers: `threads` take every request; `reserved_threads` more take
/// only those `is_ingest` says are not ingestion, so that `/healthz`,
/// `/metrics` and admin calls are served while ingestion is saturated.
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

  // The loop (http/front.cpp).
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
  /// Resets `c` for its next request (also on a worker, see write_direct).
  void next_request(connection& c);
  void start_next_request(connection& c);
  void reply_and_close(connection& c, refusal why, int status,
                       const std::string& code, const std::string& message);
  void linger(connection& c);
  void drain(connection& c);
  void close(connection& c);
  void watch(connection& c);
  void check_deadlines();
  bool overdue(const connection& c, time_point now) const;
  void cut_off(connection& c);
  void count(refusal r);

  // The workers (http/front_workers.cpp).
  void submit(std::unique_ptr<job> j);
  std::unique_ptr<job> next_job(bool reserved);
  void work(bool reserved);
  /// Hands a worker's reply over: written here if possible, else queued
  /// for the loop.
  void reply(std::shared_ptr<connection> conn, std::string& bytes, bool close);
  /// Writes a plaintext reply on the worker and puts the connection back
  /// to reading; false (with the unwritten rest in `bytes`) when the loop
  /// must finish the job. Called with `c.mu` held.
  bool write_direct(connection& c, std::string& bytes, bool close);
  void collect_replies();

  const config::server_settings& settings_;
  handler run_;
  classifier is_ingest_;
  front_stats stats_;

  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  void* ssl_ctx_ = nullptr; ///< SSL_CTX*, kept out of this header
  std::atomic<bool> stopping_{false};
  std::thread loop_thread_;

  // Owned by the loop thread.
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<connection>> conns_;
  bool draining_ = false;
  time_point drain_deadline_;
  std::unordered_map<std::string, size_t> per_address_;
  bool accept_paused_ = false;

  // The worker pool.
  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable reserved_cv_;
  std::deque<std::unique_ptr<job>> ingest_jobs_;
  std::deque<std::unique_ptr<job>> other_jobs_;
  std::vector<done> replies_;
  bool workers_stop_ = false;
  std::vector<std::thread> workers_;
};

} // namespace argus::http
