#include "actors/grouping.hpp"

#include "config/log.hpp"

namespace argus::actors {

namespace {

using self_ptr = grouping_actor::stateful_pointer<grouping_state>;

void arm_window(self_ptr self, domain::time_point until,
                domain::time_point now) {
  auto delay = until > now ? until - now : domain::duration{0};
  self->delayed_send(self, delay, atom::expire::value,
                     ++self->state.timer_token);
}

/// Carries out what the domain decided: persist, notify, keep the router's
/// index current, arm the timer.
void carry_out(self_ptr self, const domain::event& e, router_actor& router,
               repository_actor& repository, notifier_actor& notifier,
               const context& ctx, domain::time_point now) {
  auto& st = self->state;
  auto& d = st.scratch;
  if (d.reroute) {
    st.rerouted.insert(e.dedup_key);
    self->send(router, atom::reroute::value, st.key, e);
    return;
  }
  if (d.ignored) {
    ctx.stats->events_ignored.fetch_add(1, std::memory_order_relaxed);
    LOG_DEBUG("ignored " << to_string(e.act) << " for inactive dedupKey '"
                         << e.dedup_key << "' of manager '"
                         << e.event_manager_id << "'");
  }
  if (!d.writes.empty())
    self->send(repository, atom::write::value, d.writes);
  for (auto& n : d.notify)
    self->send(notifier, atom::notify::value, n);
  if (!d.deactivated.empty())
    self->send(router, atom::deactivate::value, st.key,
               st.group.event_manager_id, d.deactivated, st.received);
  if (d.reactivated)
    self->send(router, atom::reactivate::value, st.key,
               st.group.event_manager_id, e.dedup_key);
  if (d.arm_window)
    arm_window(self, d.window_until, now);
}

void report_if_idle(self_ptr self, router_actor& router) {
  if (domain::is_idle(self->state.group))
    self->send(router, atom::idle::value, self->state.key,
               self->state.received);
}

} // namespace

grouping_actor::behavior_type
grouping(grouping_actor::stateful_pointer<grouping_state> self, std::string key,
         domain::group_state initial, router_actor router,
         repository_actor repository, notifier_actor notifier,
         context_ptr ctx) {
  self->state.key = std::move(key);
  self->state.group = std::move(initial);
  if (!self->state.group.open_parent.empty())
    arm_window(self, self->state.group.window_ends_at, ctx->now());
  return {
      [=](atom::apply, const domain::event& e, bool fresh) mutable {
        auto& st = self->state;
        ++st.received;
        if (!st.rerouted.empty() && st.rerouted.count(e.dedup_key) > 0) {
          if (fresh || st.group.active.count(e.dedup_key) > 0) {
            st.rerouted.erase(e.dedup_key); // routed here afresh: ours again
          } else {
            self->send(router, atom::reroute::value, st.key, e);
            return;
          }
        }
        auto now = ctx->now();
        domain::apply(st.group, e, fresh, now, st.scratch);
        carry_out(self, e, router, repository, notifier, *ctx, now);
        if (!st.scratch.reroute)
          ctx->stats->events_applied.fetch_add(1, std::memory_order_relaxed);
        report_if_idle(self, router);
      },
      [=](atom::expire, uint64_t token) mutable {
        auto& st = self->state;
        if (token != st.timer_token || st.group.open_parent.empty())
          return; // stale: the window was re-armed or already closed
        auto now = ctx->now();
        // A timer may fire a hair before the wall clock agrees; wait it out.
        if (!domain::close_window(st.group, now))
          arm_window(self, st.group.window_ends_at, now);
        report_if_idle(self, router);
      },
      [=](atom::stop) { self->quit(); },
      [=](atom::drain) { return atom::ok::value; },
  };
}

} // namespace argus::actors
