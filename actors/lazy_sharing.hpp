#pragma once

#include <caf/policy/unprofiled.hpp>
#include <caf/resumable.hpp>

#include <semaphore.h>

#include <cerrno>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

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
///
/// Each sleeping thread waits on a semaphore of its own, and the one that
/// queues a job takes the sleeper off the list as it wakes it: a thread is
/// never woken twice for one job, and waking never blocks. (With one
/// condition variable for all, glibc's signal at times waited for earlier
/// waiters to leave: an HTTP thread that queued an event then slept.)
class lazy_sharing : public caf::policy::unprofiled {
public:
  /// A scheduler thread's own wake-up.
  struct worker_data {
    explicit worker_data(caf::scheduler::abstract_coordinator*) {
      sem_init(&wake, 0, 0);
    }

    /// CAF builds each thread's data as a copy of one initial value: each
    /// copy is a semaphore of its own.
    worker_data(const worker_data&) : worker_data(nullptr) {
      // nop
    }

    worker_data& operator=(const worker_data&) = delete;

    ~worker_data() { sem_destroy(&wake); }

    sem_t wake;
  };

  struct coordinator_data {
    explicit coordinator_data(caf::scheduler::abstract_coordinator*) {
      // nop
    }

    std::deque<caf::resumable*> queue;
    std::mutex lock;
    /// Threads asleep and not yet woken, the most recent last (the one
    /// whose caches are warmest is woken first).
    std::vector<worker_data*> idle;
    /// Sleeping threads woken so far (tests count them).
    size_t wakeups = 0;
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
    auto& mine = d(self);
    std::unique_lock<std::mutex> guard{data.lock};
    // Woken for a job another thread took first: sleep again.
    while (data.queue.empty()) {
      data.idle.push_back(&mine);
      guard.unlock();
      while (sem_wait(&mine.wake) != 0 && errno == EINTR) {
        // a signal interrupted the wait: wait on
      }
      guard.lock();
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
    worker_data* sleeper = nullptr;
    {
      std::lock_guard<std::mutex> guard{data.lock};
      data.queue.push_back(job);
      if (!data.idle.empty() && data.queue.size() >= wake_at) {
        sleeper = data.idle.back();
        data.idle.pop_back();
        ++data.wakeups;
      }
    }
    if (sleeper != nullptr)
      sem_post(&sleeper->wake);
  }
};

} // namespace argus::actors
