#pragma once

// Internal to the front stage (http/front*.cpp): one connection and what
// travels between the loop and the workers.

#include "http/front.hpp"
#include "http/request_parser.hpp"

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace argus::http {

/// One client connection. `mu` guards it: whoever acts on it holds `mu`,
/// the loop (accept, deadlines, TLS, slow writes, lingering) or a general
/// worker that took it from the pool (reading, running the request,
/// writing the reply). A handler runs without `mu`, in phase `busy`. The
/// descriptor is used only while not `closed`, so a descriptor closed
/// meanwhile (and perhaps reused by the kernel) is never touched.
struct front::connection : std::enable_shared_from_this<connection> {
  using clock = std::chrono::steady_clock;
  enum class phase { handshake, reading, busy, writing, lingering };
  /// Which epoll set holds the descriptor: the loop's (level-triggered) or
  /// the workers' pool (one-shot, re-armed by whoever took the event).
  enum class home { none, loop, pool };

  connection(uint64_t id, int fd, request_limits limits)
      : id(id), fd(fd), parser(limits) {}

  std::mutex mu;
  uint64_t id;
  int fd;
  SSL* ssl = nullptr;
  std::string address;
  int port = 0;
  phase at = phase::reading;
  home in_set = home::none;
  /// Closed (the object may outlive that in a job or reply).
  bool closed = false;
  /// The epoll events registered now in the loop's set.
  uint32_t events = 0;
  /// TLS: the last call wants the socket readable/writable first.
  bool want_read = false;
  bool want_write = false;
  /// Set by the general worker acting on the connection: a request parsed
  /// complete is left here for that worker to run, not queued.
  std::unique_ptr<job>* take = nullptr;

  std::string in;
  request_parser parser;
  httplib::Request req;
  bool continue_sent = false;
  /// Busy: reading was switched off after the client sent more (epoll
  /// interest stays on otherwise, saving two epoll_ctl per request).
  bool muted = false;

  std::string out;
  size_t out_pos = 0;
  bool close_after = false;

  /// Requests served on this connection.
  size_t served = 0;
  /// Whether a byte of the current request has arrived.
  bool started = false;
  clock::time_point header_deadline;
  clock::time_point request_deadline;
  clock::time_point last_read;
  clock::time_point idle_deadline;
  clock::time_point write_deadline;
  clock::time_point linger_deadline;
};

/// A complete request to run (queued, or kept by the worker that read it).
struct front::job {
  std::shared_ptr<connection> conn;
  httplib::Request req;
  bool keep_alive;
};

/// A TLS reply the loop must write (the SSL object is the loop's).
struct front::done {
  std::shared_ptr<connection> conn;
  std::string bytes;
  bool close;
};

} // namespace argus::http
