#include "actors/grouping.hpp"

#include "config/log.hpp"
#include "domain/acknowledge.hpp"

#include <algorithm>
#include <cassert>

namespace argus::actors {

namespace {

using self_ptr = grouping_impl*;

/// The decision of the event being handled. One per worker thread, not one
/// per group: a handler runs to its end on one thread, and a million idle
/// groups would otherwise each keep a decision's capacity (an alert write
/// and a notification with two alerts, about 1.3 KB).
domain::decision& scratch() {
  thread_local domain::decision d;
  return d;
}

using peers = grouping_peers;

/// Arms the acknowledgement timer; only the latest one counts.
void arm_ack(self_ptr self, domain::time_point until, domain::time_point now) {
  auto delay = until > now ? until - now : domain::duration{0};
  self->delayed_send(self->handle(), delay, atom::expire::value,
                     atom::acknowledge::value, ++self->state.ack_token);
}

/// Adds changes to the outbox, coalescing by alert, and makes sure a flush
/// follows once the messages already queued are handled.
void schedule_flush(self_ptr self) {
  auto& st = self->state;
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self->handle(), atom::flush::value);
  }
}

/// Whether the group keeps the alert `a` of a write just decided. The last
/// write of an alert in a decision is active exactly when the group holds
/// that snapshot (an alert leaves the group only as it resolves; the unit
/// tests check this of every decision), so its status tells without a
/// lookup. An earlier, stale write of the same alert is replaced in the
/// outbox by the last; a later decision's change, by the flush taking the
/// group's latest.
bool held_by_group(const domain::alert& a) {
  return a.is_active();
}

/// The changes the next flush sends, made when the first arrives.
grouping_state::pending_changes& outbox_of(grouping_state& st) {
  if (!st.outbox)
    st.outbox = std::make_unique<grouping_state::pending_changes>();
  return *st.outbox;
}

void stage_writes(self_ptr self, std::vector<domain::alert_write>& writes) {
  auto& st = self->state;
  auto& out = outbox_of(st);
  // The outbox leaves with each flush: size the new one like the last.
  if (out.writes.capacity() == 0)
    st.outbox_hint.reserve(out.writes, writes.size());
  for (auto& w : writes) {
    auto& staged =
        out.writes[out.writes.place_or_append(w.snapshot->dedup_key)];
    staged.write.event_count_delta += w.event_count_delta;
    if (held_by_group(*w.snapshot)) {
      staged.held = w.snapshot;
      staged.write.snapshot = nullptr;
      w.snapshot.reset(); // no second owner left behind in the decision
    } else {
      staged.held.reset();
      staged.write.snapshot = std::move(w.snapshot);
    }
  }
  schedule_flush(self);
}

/// The outbox's writes in order, each held alert as the group holds it now.
std::vector<domain::alert_write> take_writes(grouping_state& st) {
  auto& out = *st.outbox;
  std::vector<domain::alert_write> writes(out.writes.size());
  for (size_t i = 0; i < out.writes.size(); ++i) {
    auto& staged = out.writes[i];
    auto& w = writes[i];
    w.event_count_delta = staged.write.event_count_delta;
    // Hashed once here for the set and for the memory store's rows.
    w.dedup_hash = domain::text_hash(staged.dedup_key);
    if (staged.write.snapshot) {
      w.snapshot = std::move(staged.write.snapshot);
    } else if (auto* a = st.group.active.find(staged.dedup_key, w.dedup_hash)) {
      w.snapshot = *a; // its latest state, copied or not since
    } else {
      // Each change that drops an alert from the group stages a strong
      // reference, so this is only a safety net.
      w.snapshot = staged.held.lock();
    }
  }
  // The repository reads the alert of every write it gets.
  writes.erase(std::remove_if(writes.begin(), writes.end(),
                              [&](const domain::alert_write& w) {
                                if (w.snapshot)
                                  return false;
                                LOG_ERROR("grouping actor of '"
                                          << st.key.event_manager_id
                                          << "': a staged change lost its "
                                             "alert");
                                return true;
                              }),
               writes.end());
  return writes;
}

/// Records that a journaled event is fully applied here; the repository
/// learns it together with the event's changes.
void stage_completion(self_ptr self, uint64_t seq) {
  if (seq == 0)
    return;
  outbox_of(self->state).seqs.push_back(seq);
  schedule_flush(self);
}

void flush_outbox(self_ptr self, const peers& to) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (!st.outbox)
    return;
  auto& out = *st.outbox;
  to.ctx->stats->writes_queued.fetch_add(out.writes.size(),
                                         std::memory_order_relaxed);
  st.outbox_hint.remember(out.writes.size());
  self->send(to.repository, atom::write::value, take_writes(st),
             std::move(out.notes), std::move(out.seqs));
  st.outbox.reset();
}

/// Counts applied events as processed, unless their changes still wait in
/// the outbox: then the flush counts them, after handing the changes on.
/// Called last in a handler, after everything it sends.
void count_processed(self_ptr self, const peers& to, uint64_t applied) {
  auto& st = self->state;
  st.applied_unflushed += applied;
  if (st.flush_scheduled || st.applied_unflushed == 0)
    return;
  // Release: whoever sees the count sees the writes already sent.
  to.ctx->stats->events_applied.fetch_add(st.applied_unflushed,
                                          std::memory_order_release);
  st.applied_unflushed = 0;
}

/// Carries out what the domain decided that every decision may hold:
/// persist, notify, keep the router's index current.
void carry_out_effects(self_ptr self, const peers& to) {
  auto& st = self->state;
  auto& d = scratch();
  if (!d.writes.empty())
    stage_writes(self, d.writes);
  if (!d.notify.empty()) {
    // Stored with the changes that caused them, in one transaction.
    auto& notes = outbox_of(st).notes;
    for (auto& n : d.notify)
      notes.push_back(std::move(n));
    schedule_flush(self);
  }
  if (!d.deactivated.empty())
    self->send(to.router, atom::deactivate::value, st.key, d.deactivated,
               st.received);
}

/// Arms the timer for the earliest alert deadline, unless one is armed for
/// it or earlier: an early timer finds nothing due and re-arms, which keeps
/// re-triggers (each moves an auto-resolve time later) from arming a timer
/// apiece.
void arm_expiry(self_ptr self, domain::time_point now) {
  auto& st = self->state;
  // The group's deadline floor, when known, saves a look at every active
  // alert; it may be early (its alert resolved), and an early timer re-arms.
  auto next = st.group.deadline_floor;
  if (next == domain::no_time)
    next = domain::next_expiry(st.group);
  else if (next == domain::time_point::max())
    next = domain::no_time;
  if (next == domain::no_time ||
      (st.expiry_armed != domain::no_time && st.expiry_armed <= next))
    return;
  st.expiry_armed = next;
  auto delay = next > now ? next - now : domain::duration{0};
  self->delayed_send(self->handle(), delay, atom::lapse::value,
                     ++st.expiry_token);
}

/// Carries out what the domain decided for event `e`.
void carry_out(self_ptr self, const domain::event& e, const peers& to,
               const context& ctx, domain::time_point now) {
  auto& st = self->state;
  auto& d = scratch();
  // Ends that passed before `e` were applied first, also when `e` itself
  // goes back to the router.
  carry_out_effects(self, to);
  if (d.reroute) {
    if (!st.rerouted)
      st.rerouted = std::make_unique<
          std::unordered_set<std::string, domain::text_hasher>>();
    st.rerouted->insert(e.dedup_key);
    self->send(to.router, atom::reroute::value, st.key, e);
    return;
  }
  if (d.ignored) {
    ctx.stats->events_ignored.fetch_add(1, std::memory_order_relaxed);
    LOG_DEBUG("ignored " << to_string(e.act) << " for inactive dedupKey '"
                         << e.dedup_key << "' of manager '"
                         << e.event_manager_id << "'");
  }
  if (d.reactivated)
    self->send(to.router, atom::reactivate::value, st.key, e.dedup_key);
  if (e.expires_at != domain::no_time ||
      e.auto_resolve_after > domain::duration{0} || !d.deactivated.empty())
    arm_expiry(self, now);
  // Re-arming cancels the armed timer, so arm for the group's earliest
  // deadline, not only this event's.
  if (d.arm_ack)
    arm_ack(self, domain::next_ack_deadline(st.group), now);
}

/// An idle group may be stopped right after it reports, so its outbox must
/// be empty by then.
void report_if_idle(self_ptr self, const peers& to) {
  if (!domain::is_idle(self->state.group))
    return;
  flush_outbox(self, to);
  self->send(to.router, atom::idle::value, self->state.key,
             self->state.received);
}

/// Whether `e` is for a dedupKey whose trigger went back to the router, in
/// which case it must follow that trigger (sent back too) to keep its order.
bool follows_reroute(self_ptr self, const domain::event& e, bool fresh) {
  auto& st = self->state;
  if (!st.rerouted || st.rerouted->count(e.dedup_key) == 0)
    return false;
  if (fresh ||
      st.group.active.find(e.dedup_key, domain::dedup_hash_of(e)) != nullptr) {
    st.rerouted->erase(e.dedup_key); // routed here afresh: ours again
    if (st.rerouted->empty())
      st.rerouted.reset();
    return false;
  }
  return true;
}

/// One `apply` message's run through its events.
struct batch_run {
  const peers& to;
  /// Read once per batch: the clock is a call through `context`, and the
  /// events of one message are applied within microseconds.
  domain::time_point now;
  uint64_t applied = 0;
  int notices = -1; // whether the manager wants child notices; not asked yet
};

/// Applies one event; counts it in `run.applied` unless it went back to the
/// router.
void apply_one(self_ptr self, domain::event& e, bool fresh, batch_run& run) {
  auto& st = self->state;
  ++st.received;
  if (follows_reroute(self, e, fresh)) {
    self->send(run.to.router, atom::reroute::value, st.key, e);
    return;
  }
  // Decisions use the acceptance time, so a replay decides as the first
  // run did; events from in-process callers may leave it unset.
  auto now = e.received_at != domain::no_time ? e.received_at : run.now;
  // Only a trigger into an open window can join: ask the catalog then.
  // Asked once per batch: the answer is the manager's, and asking reads
  // the shared catalog.
  auto wants = [&] {
    if (run.notices < 0)
      run.notices = run.to.ctx->child_notices &&
                    run.to.ctx->child_notices(e.event_manager_id);
    return run.notices > 0;
  };
  st.group.child_notices = e.act == domain::action::trigger &&
                           domain::window_open(st.group, now) && wants();
  // The event ends here: its texts move into the alert instead of copies.
  domain::apply_taking_texts(st.group, e, fresh, now, scratch());
  carry_out(self, e, run.to, *run.to.ctx, run.now);
  if (!scratch().reroute) {
    stage_completion(self, e.seq);
    ++run.applied;
  }
}

/// The one behavior of all grouping actors: each handler acts on the actor
/// handling the message.
grouping_actor::behavior_type shared_behavior() {
  return {
      [](atom::apply, std::vector<routed_event>& batch) {
        self_ptr self = &grouping_impl::handling();
        auto& to = self->state.to;
        batch_run run{to, to.ctx->now()};
        for (auto& routed : batch)
          apply_one(self, routed.e, routed.fresh, run);
        // Counted once per batch: the counters are shared by every group.
        if (run.applied > 0)
          to.ctx->registry->event_processed(self->state.key.event_manager_id,
                                            run.applied);
        report_if_idle(self, to);
        count_processed(self, to, run.applied);
      },
      [](atom::expire, atom::acknowledge, uint64_t token) {
        self_ptr self = &grouping_impl::handling();
        auto& to = self->state.to;
        auto& st = self->state;
        if (token != st.ack_token)
          return; // stale: a later acknowledgement re-armed it
        auto now = to.ctx->now();
        domain::expire_acknowledgements(st.group, now, scratch());
        carry_out_effects(self, to);
        if (scratch().arm_ack)
          arm_ack(self, scratch().ack_until, now);
      },
      [](atom::lapse, uint64_t token) {
        self_ptr self = &grouping_impl::handling();
        auto& to = self->state.to;
        auto& st = self->state;
        if (token != st.expiry_token)
          return; // stale: re-armed for an earlier end
        st.expiry_armed = domain::no_time;
        auto now = to.ctx->now();
        if (domain::expire(st.group, now, scratch()))
          carry_out_effects(self, to);
        arm_expiry(self, now);
        report_if_idle(self, to);
      },
      [](atom::flush) {
        self_ptr self = &grouping_impl::handling();
        flush_outbox(self, self->state.to);
        count_processed(self, self->state.to, 0);
      },
      [](atom::stop) {
        self_ptr self = &grouping_impl::handling();
        flush_outbox(self, self->state.to);
        count_processed(self, self->state.to, 0);
        self->quit(); // no reason: the router, which asked, need not hear
      },
      [](atom::drain) {
        self_ptr self = &grouping_impl::handling();
        flush_outbox(self, self->state.to);
        count_processed(self, self->state.to, 0);
        return atom::ok::value;
      },
  };
}

} // namespace

grouping_impl::grouping_impl(caf::actor_config& cfg, domain::group_key key,
                             domain::group_state initial, router_actor router,
                             repository_actor repository, context_ptr ctx)
    : lean_actor(cfg) {
  new (&state) grouping_state();
  state.key = std::move(key);
  state.group = std::move(initial);
  state.to = {std::move(router), std::move(repository), std::move(ctx)};
}

grouping_impl::~grouping_impl() {
  // The state went in `on_terminate`.
}

const char* grouping_impl::name() const {
  return grouping_state::name;
}

grouping_impl& grouping_impl::handling() {
  // Only this actor's handlers ask, and only a grouping actor runs them.
  assert(lean_actor::running() != nullptr);
  return static_cast<grouping_impl&>(*lean_actor::running());
}

grouping_actor grouping_impl::handle() {
  return caf::actor_cast<grouping_actor>(this);
}

caf::behavior& grouping_impl::behavior() {
  // Made once; its handlers are checked against `grouping_actor`.
  static caf::behavior shared =
      grouping_actor::behavior_type{shared_behavior()}.unbox();
  return shared;
}

void grouping_impl::on_terminate(const caf::error& reason) {
  // The router learns of a group it did not stop from the group itself,
  // not by monitoring each of a million groups (48 bytes and a lock apiece).
  // Only its `stop` ends a group without a reason (a failure, a kill or an
  // exit from outside has one).
  if (reason)
    send(state.to.router, atom::failed::value, state.key, reason);
  state.~grouping_state();
}

grouping_actor spawn_grouping(caf::actor_system& sys, domain::group_key key,
                              domain::group_state initial, router_actor router,
                              repository_actor repository, context_ptr ctx) {
  caf::actor_config cfg;
  auto hdl = caf::make_actor<grouping_impl, grouping_actor>(
      sys.next_actor_id(), sys.node(), &sys, cfg, std::move(key),
      std::move(initial), std::move(router), std::move(repository),
      std::move(ctx));
  auto* self =
      static_cast<grouping_impl*>(caf::actor_cast<caf::abstract_actor*>(hdl));
  // No timer closes the window: the domain compares each trigger's
  // acceptance time with its end, so a trigger accepted inside it joins
  // however late it arrives (a queue, a replay after a restart). A
  // restored group's alerts may have ends and acknowledgement deadlines.
  auto now = self->state.to.ctx->now();
  arm_expiry(self, now);
  if (auto until = domain::next_ack_deadline(self->state.group);
      until != domain::no_time)
    arm_ack(self, until, now);
  self->launch();
  return hdl;
}

} // namespace argus::actors
