#include "domain/acknowledge.hpp"

namespace argus::domain {

namespace {

void set_acknowledged(alert& a, time_point at, shared_text by,
                      time_point until) {
  a.acknowledged = true;
  a.acknowledged_at = at;
  a.acknowledged_by = std::move(by);
  a.acknowledged_until = until;
}

void clear_acknowledged(alert& a) {
  a.acknowledged = false;
  a.acknowledged_at = no_time;
  a.acknowledged_by.clear();
  a.acknowledged_until = no_time;
}

/// Calls `f` on each active child of `parent` (children of its current life
/// that have resolved are left alone: they are history).
template <class F>
void for_active_children(group_state& g, const alert& parent, F f) {
  for (auto& a : g.active)
    if (!a->is_parent() && a->parent_dedup_key == parent.dedup_key)
      f(a);
}

/// Brings `a` (and, for a parent, its active children) to the state the
/// event asks for, persisting each alert that changed.
void set_state(group_state& g, owned_alert& a, const event& e, time_point now,
               decision& out) {
  auto until = e.ack_timeout > duration{0} ? now + e.ack_timeout : no_time;
  auto change = [&](owned_alert& p, int64_t delta) {
    auto& x = mutable_alert(p);
    if (e.act == action::unacknowledge)
      clear_acknowledged(x);
    else if (x.acknowledged) // again: renew the timeout, keep who and when
      x.acknowledged_until = until;
    else
      set_acknowledged(x, now, e.actor, until);
    x.updated_at = now;
    out.writes.emplace_back(p, delta);
  };
  change(a, 1);
  if (a->is_parent())
    for_active_children(g, *a, [&](owned_alert& child) { change(child, 0); });
  if (until != no_time && e.act == action::acknowledge) {
    out.arm_ack = true;
    out.ack_until = until;
  }
}

} // namespace

void acknowledge(group_state& g, const event& e, time_point now,
                 decision& out) {
  auto* p = g.active.find(e.dedup_key, dedup_hash_of(e));
  if (p == nullptr) {
    out.ignored = true; // unknown or resolved: nothing to acknowledge
    return;
  }
  auto& a = mutable_alert(*p);
  bool newly = e.act == action::acknowledge && !a.acknowledged;
  ++a.event_count;
  a.last_seq = e.seq;
  // Shares `a` with the writes: no change in place after this.
  set_state(g, *p, e, now, out);
  if (newly && a.is_parent())
    add_notification(g, out, notification_kind::parent_acknowledged, *p, now,
                     e.seq);
}

void inherit_acknowledgement(alert& child, const alert& parent) {
  if (parent.acknowledged)
    set_acknowledged(child, parent.acknowledged_at, parent.acknowledged_by,
                     parent.acknowledged_until);
}

void expire_acknowledgements(group_state& g, time_point now, decision& out) {
  out.clear();
  for (auto& p : g.active)
    if (p->acknowledged && p->acknowledged_until != no_time &&
        p->acknowledged_until <= now) {
      auto& a = mutable_alert(p);
      clear_acknowledged(a);
      a.updated_at = now;
      out.writes.emplace_back(p, 0);
    }
  if (auto next = next_ack_deadline(g); next != no_time) {
    out.arm_ack = true;
    out.ack_until = next;
  }
}

time_point next_ack_deadline(const group_state& g) {
  auto next = no_time;
  for (auto& a : g.active)
    if (a->acknowledged && a->acknowledged_until != no_time &&
        (next == no_time || a->acknowledged_until < next))
      next = a->acknowledged_until;
  return next;
}

} // namespace argus::domain
