#include "actors/lean_actor.hpp"

#include "config/log.hpp"

#include <caf/detail/sync_request_bouncer.hpp>
#include <caf/execution_unit.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/sec.hpp>

#include <exception>
#include <utility>

namespace argus::actors {

namespace {

/// The lean actor this thread runs, and the unit running it; a worker
/// thread runs one job at a time.
thread_local lean_actor* current_actor = nullptr;
thread_local caf::execution_unit* current_unit = nullptr;

/// Sets both while an actor runs; restored on the way out, also by an
/// exception.
struct running_scope {
  lean_actor* outer_actor;
  caf::execution_unit* outer_unit;
  running_scope(lean_actor* self, caf::execution_unit* unit)
      : outer_actor(current_actor), outer_unit(current_unit) {
    current_actor = self;
    current_unit = unit;
  }
  ~running_scope() {
    current_actor = outer_actor;
    current_unit = outer_unit;
  }
  running_scope(const running_scope&) = delete;
  running_scope& operator=(const running_scope&) = delete;
};

} // namespace

lean_actor::lean_actor(caf::actor_config& cfg) : monitorable_actor(cfg) {
  // nop
}

caf::execution_unit* lean_actor::running_unit() {
  return current_unit;
}

lean_actor* lean_actor::running() {
  return current_actor;
}

void lean_actor::launch() {
  register_at_system();
  // Blocked while empty, so the first message schedules it. A message
  // already there (a timer armed by the constructor that fired at once)
  // needs a run now.
  if (!inbox_.try_block())
    schedule(nullptr);
}

void lean_actor::schedule(caf::execution_unit* unit) {
  // The scheduler holds a reference while the actor waits for its run.
  intrusive_ptr_add_ref(ctrl());
  if (unit != nullptr)
    unit->exec_later(this);
  else
    home_system().scheduler().enqueue(this);
}

void lean_actor::enqueue(caf::mailbox_element_ptr what,
                         caf::execution_unit* unit) {
  auto mid = what->mid;
  auto sender = what->sender;
  switch (inbox_.push_front(what.release())) {
  case caf::intrusive::inbox_result::unblocked_reader:
    schedule(unit);
    break;
  case caf::intrusive::inbox_result::queue_closed:
    // Terminated: a request still gets its answer, the exit reason.
    if (mid.is_request())
      caf::detail::sync_request_bouncer{fail_state()}(sender, mid);
    break;
  case caf::intrusive::inbox_result::success:
    break; // it runs already or is scheduled to
  }
}

caf::mailbox_element* lean_actor::next_message() {
  if (taken_ == nullptr) {
    // Reverse the stack the inbox hands over: the oldest comes first.
    auto* node = inbox_.take_head();
    caf::mailbox_element* oldest_first = nullptr;
    while (node != nullptr) {
      auto* next = static_cast<caf::mailbox_element*>(node->next);
      node->next = oldest_first;
      oldest_first = node;
      node = next;
    }
    taken_ = oldest_first;
  }
  auto* x = taken_;
  if (x != nullptr)
    taken_ = static_cast<caf::mailbox_element*>(x->next);
  return x;
}

caf::resumable::resume_result lean_actor::resume(caf::execution_unit* unit,
                                                 size_t max_throughput) {
  running_scope scope{this, unit};
  if (getf(is_cleaned_up_flag))
    return done;
  size_t handled = 0;
  while (handled < max_throughput) {
    caf::mailbox_element_ptr x{next_message()};
    if (!x) {
      // Blocking succeeds only on an empty inbox; otherwise a message
      // arrived since the look, so take it.
      if (inbox_.try_block())
        return awaiting_message;
      continue;
    }
    ++handled;
    if (!handle(*x, unit)) {
      cleanup(std::move(fail_state_), unit);
      return done;
    }
  }
  if (taken_ == nullptr && inbox_.try_block())
    return awaiting_message;
  return resume_later;
}

bool lean_actor::handle(caf::mailbox_element& x, caf::execution_unit* unit) {
  // Exit messages (and CAF's `sys` queries) as every actor handles them.
  if (handle_system_message(x, unit, false))
    return !getf(is_cleaned_up_flag);
  try {
    auto result = behavior()(x.content());
    if (!result) {
      LOG_ERROR(name() << " actor: unexpected message "
                       << x.content().stringify());
      if (x.mid.is_request())
        respond(
            x, caf::make_message(caf::make_error(caf::sec::unexpected_message)),
            unit);
    } else if (x.mid.is_request()) {
      respond(x, std::move(*result), unit);
    }
  } catch (const std::exception& e) {
    // As CAF's default exception handler: the actor fails, and its
    // monitors learn why.
    quit(caf::make_error(caf::sec::runtime_error, e.what()));
  } catch (...) {
    quit(caf::make_error(caf::sec::runtime_error, "unknown exception"));
  }
  return !getf(is_terminated_flag);
}

void lean_actor::respond(caf::mailbox_element& x, caf::message result,
                         caf::execution_unit* unit) {
  // The last stage of a forwarding chain answers, as in `unsafe_response`.
  auto stages = std::move(x.stages);
  caf::strong_actor_ptr next;
  if (stages.empty()) {
    next = x.sender;
  } else {
    next = std::move(stages.back());
    stages.pop_back();
  }
  if (next)
    next->enqueue(caf::make_mailbox_element(ctrl(), x.mid.response_id(),
                                            std::move(stages),
                                            std::move(result)),
                  unit);
}

void lean_actor::quit(caf::error reason) {
  fail_state_ = std::move(reason);
  setf(is_terminated_flag);
}

bool lean_actor::cleanup(caf::error&& reason, caf::execution_unit* unit) {
  if (getf(is_cleaned_up_flag))
    return false;
  unregister_from_system();
  // Every message not handled goes, its request answered with `reason`:
  // those taken from the inbox, then those still in it. Later ones are
  // dropped (requests answered) by `enqueue`.
  caf::detail::sync_request_bouncer bounce{reason};
  auto bounce_and_free = [&](caf::mailbox_element* x) {
    caf::mailbox_element_ptr owned{x};
    bounce(*owned);
  };
  for (auto* x = std::exchange(taken_, nullptr); x != nullptr;) {
    auto* next = static_cast<caf::mailbox_element*>(x->next);
    bounce_and_free(x);
    x = next;
  }
  inbox_.close(bounce_and_free);
  on_terminate(reason);
  return monitorable_actor::cleanup(std::move(reason), unit);
}

void lean_actor::on_destroy() {
  // The last handle went away while it ran: it cannot receive anything.
  if (!getf(is_cleaned_up_flag))
    cleanup(caf::exit_reason::unreachable, nullptr);
  monitorable_actor::on_destroy();
}

void lean_actor::intrusive_ptr_add_ref_impl() {
  intrusive_ptr_add_ref(ctrl());
}

void lean_actor::intrusive_ptr_release_impl() {
  intrusive_ptr_release(ctrl());
}

} // namespace argus::actors
