#pragma once

#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace caf::scheduler {
class abstract_coordinator;
} // namespace caf::scheduler

/// A scheduler policy for CAF's coordinator (`actors.policy: lazy-sharing`).
namespace argus::actors {

/// CAF's work sharing (one queue that every scheduler thread takes from),
/// except when a sleeping scheduler thread is woken. CAF's policy wakes one
/// for every job queued. So an event that goes from the router to its
/// group's actor and on to the repository hopped between the two threads,
/// one futex wake-up and one context switch per hop, although the thread
/// that queued each job was about to be free to run it itself.
///
/// Here a job queued by a scheduler thread, from the actor it runs, wakes
/// another thread only when another job already waits: the first is left
/// for the thread that queued it, once its actor is done, and a second
/// one asks for help. A job from outside the scheduler (an HTTP thread,
/// the timer, a detached actor) wakes a sleeping thread as before, since
/// nobody else would take it. The price: when the queuing actor keeps its
/// thread busy for long, the one job it left waits for it, or for the
/// next job that arrives.
class lazy_sharing : public caf::policy::unprofiled {
public:
  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {
      // nop
    }

    std::deque<caf::resumable*> queue;
    std::mutex lock;
    std::condition_variable cv;
    /// Scheduler threads waiting on `cv`.
    size_t sleeping = 0;
    /// Of those, threads signalled that have not woken yet: each will
    /// take a job, so they are not woken twice.
    size_t called = 0;
    /// Sleeping threads woken so far (tests count them).
    size_t wakeups = 0;
  };

  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {
      // nop
    }
  };

  template <class Coordinator>
  void central_enqueue(Coordinator* self, caf::resumable* job) {
    push(d(self), job, from_outside);
  }

  template <class Worker>
  void external_enqueue(Worker* self, caf::resumable* job) {
    push(d(self->parent()), job, from_outside);
  }

  template <class Worker>
  void internal_enqueue(Worker* self, caf::resumable* job) {
    push(d(self->parent()), job, from_inside);
  }

  /// An actor that used up its turn goes to the back of the queue.
  template <class Worker>
  void resume_job_later(Worker* self, caf::resumable* job) {
    push(d(self->parent()), job, from_inside);
  }

  template <class Worker>
  caf::resumable* dequeue(Worker* self) {
    auto& data = d(self->parent());
    std::unique_lock<std::mutex> guard{data.lock};
    if (data.queue.empty()) {
      ++data.sleeping;
      do {
        data.cv.wait(guard);
        // Signalled or not (a spurious wake-up takes another's turn, which
        // costs at most one more signal later), this thread is up now.
        if (data.called > 0)
          --data.called;
      } while (data.queue.empty());
      --data.sleeping;
    }
    auto* job = data.queue.front();
    data.queue.pop_front();
    return job;
  }

  template <class Worker, class UnaryFunction>
  void foreach_resumable(Worker*, UnaryFunction) {
    // nop: no queue per thread
  }

  template <class Coordinator, class UnaryFunction>
  void foreach_central_resumable(Coordinator* self, UnaryFunction f) {
    auto& data = d(self);
    std::unique_lock<std::mutex> guard{data.lock};
    while (!data.queue.empty()) {
      auto* job = data.queue.front();
      data.queue.pop_front();
      f(job);
    }
  }

private:
  /// How many jobs must wait, counting the new one, before a sleeping
  /// thread is woken.
  static constexpr size_t from_outside = 1;
  static constexpr size_t from_inside = 2;

  static void push(coordinator_data& data, caf::resumable* job,
                   size_t wake_at) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> guard{data.lock};
      data.queue.push_back(job);
      wake = data.sleeping > data.called && data.queue.size() >= wake_at;
      if (wake) {
        ++data.called;
        ++data.wakeups;
      }
    }
    if (wake)
      data.cv.notify_one();
  }
};

} // namespace argus::actors
