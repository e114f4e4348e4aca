#pragma once

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/behavior.hpp>
#include <caf/intrusive/lifo_inbox.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/monitorable_actor.hpp>
#include <caf/policy/normal_messages.hpp>
#include <caf/resumable.hpp>
#include <caf/send.hpp>

#include <chrono>

namespace argus::actors {

/// A CAF actor without `scheduled_actor`'s machinery, for an actor that
/// exists once per open group: a million of them must fit in memory.
///
/// CAF 0.17's event-based actor is 960 bytes before its state (its mailbox
/// alone is 400: five queues for stream and urgent messages), and heaptrack
/// put it at 1,280 of the 2,225 bytes an open group took. This one is a
/// `monitorable_actor` like any other (an address, monitors, links, exit
/// messages, a place in the system's count of running actors) with an
/// 8-byte mailbox, about 140 bytes before its state.
///
/// It handles every message with one behavior and answers requests with
/// the handler's result. It has what a grouping actor uses and no more: no
/// streams, no requests of its own (their responses need
/// `scheduled_actor`'s bookkeeping), no behavior stack, no receive
/// timeouts, and no message priorities (an urgent message keeps its place).
class lean_actor : public caf::monitorable_actor, public caf::resumable {
public:
  explicit lean_actor(caf::actor_config& cfg);

  /// Counts it as running and starts it: its first run comes with its
  /// first message, like `lazy_init`. Call once, after the constructor.
  void launch();

  /// Sends `dest` a message from this actor; the receiver's interface is
  /// checked at compile time, as for any typed send.
  template <class Dest, class... Ts>
  void send(const Dest& dest, Ts&&... xs) {
    static_assert(accepts<Dest, Ts...>,
                  "receiver does not accept given message");
    if (dest)
      dest->eq_impl(caf::make_message_id(), ctrl(), running_unit(),
                    std::forward<Ts>(xs)...);
  }

  /// Sends `dest` a message from this actor once `delay` passed.
  template <class Dest, class Rep, class Period, class... Ts>
  void delayed_send(const Dest& dest, std::chrono::duration<Rep, Period> delay,
                    Ts&&... xs) {
    static_assert(accepts<Dest, Ts...>,
                  "receiver does not accept given message");
    if (!dest)
      return;
    auto& clock = home_system().clock();
    clock.schedule_message(
        clock.now() + delay, caf::actor_cast<caf::strong_actor_ptr>(dest),
        caf::make_mailbox_element(ctrl(), caf::make_message_id(),
                                  caf::no_stages, std::forward<Ts>(xs)...));
  }

  /// Terminates it once the message being handled is done.
  void quit(caf::error reason = caf::error{});

  // -- the parts CAF calls ---------------------------------------------------

  void enqueue(caf::mailbox_element_ptr what,
               caf::execution_unit* unit) override;
  resume_result resume(caf::execution_unit* unit,
                       size_t max_throughput) override;
  void intrusive_ptr_add_ref_impl() override;
  void intrusive_ptr_release_impl() override;
  bool cleanup(caf::error&& reason, caf::execution_unit* unit) override;
  void on_destroy() override;

protected:
  /// The behavior for every message but CAF's system messages.
  virtual caf::behavior& behavior() = 0;

  /// Runs once as it terminates for `reason`, before its monitors learn of
  /// it: the place to release its state and the actor handles in it.
  virtual void on_terminate(const caf::error& reason) = 0;

  /// The lean actor whose message this thread is handling, if any.
  static lean_actor* running();

  /// The scheduler's unit running this thread's lean actor, if any: sends
  /// pass it on, so a receiver becomes that worker's next job.
  static caf::execution_unit* running_unit();

private:
  /// Whether `Dest`'s interface takes a message of `Ts`, as a typed send
  /// checks.
  template <class Dest, class... Ts>
  static constexpr bool accepts = caf::response_type_unbox<
      caf::signatures_of_t<Dest>,
      caf::detail::type_list<caf::detail::strip_and_convert_t<Ts>...>>::valid;

  /// The oldest message not handled yet, or null.
  caf::mailbox_element* next_message();
  /// Handles `x`; false once the actor is to terminate.
  bool handle(caf::mailbox_element& x, caf::execution_unit* unit);
  /// Sends the handler's result back, as `scheduled_actor` does.
  void respond(caf::mailbox_element& x, caf::message result,
               caf::execution_unit* unit);
  /// Puts it on the scheduler, holding a reference for it.
  void schedule(caf::execution_unit* unit);

  caf::intrusive::lifo_inbox<caf::policy::normal_messages> inbox_;
  /// Messages taken from the inbox, which stacks them newest first, in
  /// arrival order.
  caf::mailbox_element* taken_ = nullptr;
};

} // namespace argus::actors
