#pragma once

#include "delivery/format.hpp"
#include "domain/delivery.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace argus::delivery {

/// Sends HTTP requests on a thread of its own with libcurl's multi
/// interface: many requests at once, each with its own timeout, none of
/// them on an actor's or an HTTP worker's thread. At most `total` requests
/// are in flight, and at most `per_receiver` to one receiver; the rest wait
/// in order of submission.
class sender {
public:
  struct limits {
    size_t total = 64;
    size_t per_receiver = 4;
  };

  /// Called on the sender's thread with each request's token and outcome;
  /// it must not block (hand the outcome to an actor and return).
  using callback =
      std::function<void(uint64_t token, domain::attempt_result outcome)>;

  sender(limits lim, callback done);
  ~sender();

  sender(const sender&) = delete;
  sender& operator=(const sender&) = delete;

  /// Queues a request; thread-safe.
  void submit(request r);

  /// Requests in flight plus those waiting for a slot.
  size_t outstanding() const;

  /// Stops: requests in flight are abandoned and answered with the error
  /// "sender stopped", queued ones too. Called by the destructor.
  void stop();

private:
  struct transfer;
  struct curl_state;

  void run();
  void start_waiting();
  void start(request r);
  void finished(void* easy, int code);
  void abandon_all();

  limits limits_;
  callback done_;
  std::unique_ptr<curl_state> curl_;
  mutable std::mutex mtx_;
  std::deque<request> incoming_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> outstanding_{0};
  // Owned by the sender thread.
  std::deque<request> waiting_;
  std::map<std::string, size_t> per_receiver_;
  size_t in_flight_ = 0;
  std::set<void*> active_;
  std::thread thread_;
};

} // namespace argus::delivery
