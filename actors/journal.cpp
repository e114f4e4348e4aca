#include "actors/journal.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <chrono>

namespace argus::actors {

namespace {

/// The calling thread's own wake-up, so a commit wakes exactly the callers
/// it wrote for (one shared condition woke every waiting caller, and those
/// queued for the next commit went straight back to sleep). Shared, so the
/// writer may signal it after letting go of the lock: by then the caller
/// may have returned, but the condition lives on.
std::shared_ptr<std::condition_variable> thread_wake() {
  thread_local auto wake = std::make_shared<std::condition_variable>();
  return wake;
}

} // namespace

/// One caller's events, waiting on the caller's stack for the writer.
struct journal::pending_batch {
  std::vector<domain::event> events;
  caf::error result;
  bool done = false;
  /// Set for adopted records: the dead writer they come from.
  const std::string* adopted_from = nullptr;
  std::shared_ptr<std::condition_variable> wake = thread_wake();
};

journal::journal(std::unique_ptr<storage::journal_backend> backend,
                 uint64_t applied_through, deliver_fn deliver,
                 observe_fn observe)
    : backend_(std::move(backend)), deliver_(std::move(deliver)),
      observe_(std::move(observe)) {
  auto last = backend_->last_seq();
  next_seq_ = std::max(last ? *last : 0, applied_through) + 1;
  writer_ = std::thread{[this] { run(); }};
}

journal::~journal() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  wake_writer_.notify_all();
  writer_.join();
}

caf::error journal::append(std::vector<domain::event> events) {
  pending_batch batch{std::move(events), {}, false};
  return enqueue(batch);
}

caf::error journal::adopt(std::vector<domain::event> events,
                          const std::string& from) {
  pending_batch batch{std::move(events), {}, false, &from};
  return enqueue(batch);
}

caf::error journal::enqueue(pending_batch& batch) {
  std::unique_lock<std::mutex> lock{mtx_};
  if (stopping_)
    return make_error(ec::unavailable, "journal: shutting down");
  queue_.push_back(&batch);
  wake_writer_.notify_one();
  batch.wake->wait(lock, [&] { return batch.done; });
  return std::move(batch.result);
}

caf::error journal::trim_through(uint64_t seq) {
  std::lock_guard<std::mutex> guard{backend_mtx_};
  return backend_->trim_through(seq);
}

void journal::run() {
  std::vector<pending_batch*> taken;
  std::vector<pending_batch*> group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mtx_};
      wake_writer_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty())
        return; // stopping, and nobody waits
      taken.swap(queue_);
    }
    // Everything that gathered while the last fsync ran shares this one;
    // an adoption (rare: a node died) gets a transaction of its own.
    for (auto* batch : taken) {
      if (batch->adopted_from != nullptr) {
        write(group);
        group.assign(1, batch);
        write(group);
        continue;
      }
      group.push_back(batch);
    }
    write(group);
    taken.clear();
  }
}

void journal::write(std::vector<pending_batch*>& batches) {
  if (batches.empty())
    return;
  size_t total = 0;
  for (auto* batch : batches)
    total += batch->events.size();
  // One allocation for the group: grown by push_back, a batch of 1,000
  // events would be moved ten times over.
  std::vector<domain::event> events;
  events.reserve(total);
  std::vector<uint64_t> from_seqs;
  const std::string* from = batches.front()->adopted_from;
  auto now = domain::time_point{std::chrono::system_clock::now()};
  // Acceptance times never go backwards, so replays decide the same way.
  last_time_ = std::max(last_time_, now);
  auto seq = next_seq_;
  for (auto* batch : batches)
    for (auto& e : batch->events) {
      if (from != nullptr)
        from_seqs.push_back(e.seq); // adopted: keeps its acceptance time
      else
        e.received_at = last_time_;
      e.seq = seq++;
      // The callers only wait for the outcome, never read their events
      // again: move, do not copy, on the ingest path.
      events.push_back(std::move(e));
    }
  caf::error err;
  {
    std::lock_guard<std::mutex> guard{backend_mtx_};
    auto start = std::chrono::steady_clock::now();
    err = from != nullptr ? backend_->adopt(events, *from, from_seqs)
                          : backend_->append(events);
    if (observe_ && !err)
      observe_(std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             start)
                   .count());
  }
  if (err) {
    LOG_ERROR("journal: " << events.size()
                          << " events not stored, answering 503: "
                          << message_of(err));
  } else {
    next_seq_ = seq;
    // Delivered by this one thread in journal order, so the routers see
    // the events in the order of their sequence numbers.
    deliver_(events);
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto* batch : batches) {
      batch->result = err;
      batch->done = true;
      to_wake_.push_back(batch->wake);
    }
  }
  // After the lock is let go: a caller woken under it would only wait
  // again, for the lock.
  for (auto& wake : to_wake_)
    wake->notify_one();
  to_wake_.clear();
  batches.clear();
}

} // namespace argus::actors
