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

/// One client connection. The loop thread owns it, except for one moment:
/// the worker that ran its request writes a plaintext reply itself and
/// puts the connection back to reading (see `front::write_direct`). `mu`
/// guards that hand-back: the loop holds it whenever it touches a
/// connection, the worker only while it writes. The worker writes only if
/// the connection is not `closed` yet, so a descriptor the loop closed
/// (and the kernel may have reused) is never written to.
struct front::connection {
  using clock = std::chrono::steady_clock;
  enum class phase { handshake, reading, busy, writing, lingering };

  connection(uint64_t id, int fd, request_limits limits)
      : id(id), fd(fd), parser(limits) {}

  std::mutex mu;
  uint64_t id;
  int fd;
  SSL* ssl = nullptr;
  std::string address;
  int port = 0;
  phase at = phase::reading;
  /// Closed by the loop (the object may outlive that in a job or reply).
  bool closed = false;
  /// The epoll events registered now.
  uint32_t events = 0;
  /// TLS: the last call wants the socket readable/writable first.
  bool want_read = false;
  bool want_write = false;

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

/// A complete request on its way to a worker.
struct front::job {
  std::shared_ptr<connection> conn;
  httplib::Request req;
  bool keep_alive;
};

/// A reply (or its unwritten rest) the loop must write; empty `bytes` with
/// `close` false: the worker wrote it all, the loop only resumes reading.
struct front::done {
  std::shared_ptr<connection> conn;
  std::string bytes;
  bool close;
};

} // namespace argus::http
