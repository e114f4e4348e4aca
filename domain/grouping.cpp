#include "domain/grouping.hpp"

#include "domain/acknowledge.hpp"
#include "domain/delivery.hpp"
#include "domain/text_hash.hpp"

#include <algorithm>
#include <tuple>
#include <type_traits>
#include <utility>

namespace argus::domain {

std::string_view to_string(notification_kind x) {
  switch (x) {
  case notification_kind::parent_opened:
    return "parent_opened";
  case notification_kind::parent_resolved:
    return "parent_resolved";
  case notification_kind::child_added:
    return "child_added";
  case notification_kind::parent_acknowledged:
    return "parent_acknowledged";
  }
  return "unknown";
}

void add_notification(group_state& g, decision& out, notification_kind kind,
                      alert_ptr parent, time_point now, uint64_t seq,
                      alert_ptr child, int64_t active_children) {
  // A change a timer made has no event sequence: a count per group tells
  // its notifications apart instead. The child's id is hashed as its text
  // (written on the stack: `alert_id::with_text`).
  auto id_with_child = [&](std::string_view child_id) {
    if (seq != 0)
      return notification_id_for(parent->id, kind, now, seq, child_id);
    auto numbered =
        std::string{child_id} + '#' + std::to_string(++g.unsequenced_notices);
    return notification_id_for(parent->id, kind, now, seq, numbered);
  };
  auto& n = out.notify.emplace_back();
  n.id = child ? child->id.with_text(id_with_child) : id_with_child("");
  n.kind = kind;
  n.parent = std::move(parent);
  n.at = now;
  n.child = std::move(child);
  n.active_children = active_children;
}

void decision::clear() {
  writes.clear();
  arm_ack = false;
  ack_until = no_time;
  notify.clear();
  deactivated.clear();
  reroute = false;
  reactivated = false;
  ignored = false;
}

bool belongs_to(const group_state& g, const event& e) {
  return g.event_manager_id == e.event_manager_id &&
         g.has_value == e.has_grouping_value &&
         (!g.has_value || g.grouping_value == e.grouping_value);
}

namespace {

/// Shares the alert's current state with the writes: `a` must not change
/// in place after this (`mutable_alert` copies it first).
void persist(decision& out, const owned_alert& a, int64_t event_count_delta) {
  out.writes.emplace_back(a, event_count_delta);
}

/// When an alert last triggered by `e` (applied at `now`) resolves for
/// want of another trigger; `no_time` when the event's limit is off.
time_point auto_resolve_at(const event& e, time_point now) {
  return e.auto_resolve_after > duration{0} ? now + e.auto_resolve_after
                                            : no_time;
}

/// Sets `to` from a text field of the event: a copy, or, when the caller
/// passed the event as mutable (`apply_taking_texts`), the text itself.
void take_text(std::string& to, const std::string& from) {
  to = from;
}
void take_text(std::string& to, std::string& from) {
  to = std::move(from);
}

/// `text` as a text the group already holds when it is one (no block of
/// its own), else as a new one that the group keeps for the next alert.
template <class Text>
shared_text shared_in(const shared_text& held, const Text& text) {
  return held == text ? held : shared_text{text};
}

/// The event's class as a text its alerts share: the grouping value when
/// the class is what the group is keyed by, else the class seen last.
template <class Text>
shared_text class_text(group_state& g, const Text& class_name) {
  if (g.grouping_value == class_name)
    return g.grouping_value;
  g.last_class = shared_in(g.last_class, class_name);
  return g.last_class;
}

/// A new alert of `g` for `e`, which belongs to `g` (`belongs_to`): its
/// manager and grouping value are the group's, taken without comparing.
template <class Event>
owned_alert new_alert(group_state& g, Event& e, time_point now) {
  auto result = std::make_shared<alert>();
  auto& a = *result;
  a.id = alert_id_for(e.event_manager_id, e.dedup_key);
  a.id_is_derived = true;
  a.dedup_key = e.dedup_key;
  a.event_manager_id = g.event_manager_id;
  take_text(a.summary, e.summary);
  a.sev = e.sev;
  a.class_name = class_text(g, e.class_name);
  a.has_grouping_value = e.has_grouping_value;
  if (g.has_value)
    a.grouping_value = g.grouping_value;
  else // the value-less group: whatever the event says (normally nothing)
    a.grouping_value = shared_in(g.grouping_value, e.grouping_value);
  take_text(a.details, e.details);
  a.event_count = 1;
  a.last_seq = e.seq;
  a.expires_at = e.expires_at;
  a.auto_resolve_at = auto_resolve_at(e, now);
  a.created_at = now;
  a.updated_at = now;
  return result;
}

/// Marks a parent resolved for `cause`, tells the world, and forgets it.
void resolve_parent(group_state& g, owned_alert& p, int64_t delta, uint64_t seq,
                    resolution cause, time_point now, decision& out) {
  auto& parent = mutable_alert(p);
  parent.status = alert_status::resolved;
  parent.resolve_requested = false;
  parent.resolved_by = cause;
  parent.resolved_at = now;
  parent.updated_at = now;
  persist(out, p, delta);
  add_notification(g, out, notification_kind::parent_resolved, p, now, seq);
  out.deactivated.push_back(parent.dedup_key.str());
  // A resolved parent closes its group: the next trigger opens a new one.
  if (g.open_parent == parent.dedup_key)
    g.open_parent.clear();
  g.links.erase(parent.dedup_key);
  g.active.erase(parent.dedup_key); // the write keeps `parent` alive
}

/// A trigger for a dedupKey that is active here: no new alert.
template <class Event>
void retrigger(group_state& g, owned_alert& p, Event& e, time_point now,
               decision& out) {
  auto& a = mutable_alert(p);
  take_text(a.summary, e.summary);
  a.sev = e.sev;
  if (a.class_name != e.class_name)
    a.class_name = class_text(g, e.class_name);
  take_text(a.details, e.details);
  a.updated_at = now;
  ++a.event_count;
  a.last_seq = e.seq;
  // A re-send moves the end (or, from a sender without one, clears it).
  a.expires_at = e.expires_at;
  a.auto_resolve_at = auto_resolve_at(e, now);
  // The problem is back: a pending resolve of the parent no longer holds.
  a.resolve_requested = false;
  a.resolved_by = resolution::none;
  persist(out, p, 1);
}

/// Opens an alert for `e`, whose dedupKey hashes to `hash`.
template <class Event>
void open_or_join(group_state& g, Event& e, size_t hash, time_point now,
                  decision& out) {
  auto p = new_alert(g, e, now);
  auto& a = *p;
  auto* parent =
      window_open(g, now) ? g.active.find(g.open_parent.view()) : nullptr;
  if (parent != nullptr) {
    auto& parent_alert = mutable_alert(*parent);
    a.type = alert_type::child;
    a.parent_dedup_key = g.open_parent;
    // Joining a group someone works on pages nobody.
    inherit_acknowledgement(a, parent_alert);
    auto& links = g.links[parent_alert.dedup_key];
    if (links.resolved_children.erase(a.dedup_key) == 0)
      ++parent_alert.child_count; // a new child, not one rejoining
    ++links.active_children;
    parent_alert.updated_at = now;
    persist(out, p, 1);
    persist(out, *parent, 0);
    // Someone is on it: a child joining an acknowledged group pages nobody.
    if (g.child_notices && !parent_alert.acknowledged)
      add_notification(g, out, notification_kind::child_added, *parent, now,
                       e.seq, p, links.active_children);
  } else {
    a.type = alert_type::parent;
    if (g.has_value) {
      a.window_ends_at = now + e.window;
      g.open_parent = a.dedup_key; // shared: children share it too
      g.window_ends_at = a.window_ends_at;
    }
    persist(out, p, 1);
    add_notification(g, out, notification_kind::parent_opened, p, now, e.seq);
  }
  g.active.insert(std::move(p), hash);
}

/// Resolves active alert `p` (held by `g.active`) for `cause`: an event
/// (`delta` 1, its `seq`) or a deadline passing (`delta` 0, `seq` 0).
void resolve_active(group_state& g, owned_alert& p, int64_t delta, uint64_t seq,
                    resolution cause, time_point now, decision& out) {
  auto& a = mutable_alert(p);
  a.event_count += delta;
  if (delta > 0)
    a.last_seq = seq;
  if (a.is_parent()) {
    auto* links = g.links.find(a.dedup_key);
    if (links != nullptr && links->active_children > 0) {
      a.resolve_requested = true;
      // Remembered so the parent says why once its last child resolves.
      a.resolved_by = cause;
      // Resolving is asked for: its deadlines have nothing left to do.
      a.expires_at = no_time;
      a.auto_resolve_at = no_time;
      a.updated_at = now;
      persist(out, p, delta);
    } else {
      resolve_parent(g, p, delta, seq, cause, now, out);
    }
    return;
  }
  a.status = alert_status::resolved;
  a.resolved_by = cause;
  a.resolved_at = now;
  a.updated_at = now;
  persist(out, p, delta);
  out.deactivated.push_back(a.dedup_key.str());
  auto parent_key = a.parent_dedup_key;
  g.active.erase(a.dedup_key); // the write keeps `a` alive
  auto* parent = g.active.find(parent_key.view());
  if (parent == nullptr)
    return;
  auto& links = g.links[parent_key];
  --links.active_children;
  links.resolved_children.insert(a.dedup_key);
  if (links.active_children == 0 && (*parent)->resolve_requested)
    resolve_parent(g, *parent, 0, seq, (*parent)->resolved_by, now, out);
}

void resolve(group_state& g, const event& e, time_point now, decision& out) {
  auto* p = g.active.find(e.dedup_key, dedup_hash_of(e));
  if (p == nullptr) {
    out.ignored = true; // unknown or already resolved: nothing to do
    return;
  }
  resolve_active(g, *p, 1, e.seq, resolution::event, now, out);
}

/// The earlier of an alert's deadlines and what passing it means; `no_time`
/// when it has none. An end the sender set wins a tie.
std::pair<time_point, resolution> next_deadline(const alert& a) {
  if (a.auto_resolve_at != no_time &&
      (a.expires_at == no_time || a.auto_resolve_at < a.expires_at))
    return {a.auto_resolve_at, resolution::automatic};
  return {a.expires_at, resolution::expired};
}

/// Resolves every alert whose end or auto-resolve time is at or before
/// `now`, earliest first (ties by dedupKey, so a replay orders alike), each
/// at its deadline: as a resolve sent at that moment would have.
void expire_due(group_state& g, time_point now, decision& out) {
  struct due_alert {
    time_point at;
    shared_text key;
    resolution cause;
    bool operator<(const due_alert& x) const {
      return std::tie(at, key) < std::tie(x.at, x.key);
    }
  };
  if (g.deadline_floor != no_time && now < g.deadline_floor)
    return; // nothing is due yet
  std::vector<due_alert> due;
  auto floor = time_point::max(); // the earliest deadline not due yet
  for (auto& a : g.active) {
    auto [at, cause] = next_deadline(*a);
    if (at == no_time)
      continue;
    if (at <= now)
      due.push_back({at, a->dedup_key, cause});
    else
      floor = std::min(floor, at);
  }
  g.deadline_floor = floor;
  std::sort(due.begin(), due.end());
  for (auto& d : due)
    if (auto* p = g.active.find(d.key))
      resolve_active(g, *p, 0, 0, d.cause, d.at, out);
}

/// `apply` for an event the alert may take its texts from (`Event` is
/// `event`) or must copy them from (`const event`).
template <class Event>
void apply_event(group_state& g, Event& e, bool fresh, time_point now,
                 decision& out) {
  out.clear();
  // Ends that passed before this event count first, whether or not a timer
  // fired for them yet: live runs and journal replays decide alike.
  expire_due(g, now, out);
  // A trigger sets its alert's deadlines from the event alone.
  if (e.act == action::trigger && g.deadline_floor != no_time)
    for (auto at : {e.expires_at, auto_resolve_at(e, now)})
      if (at != no_time && at < g.deadline_floor)
        g.deadline_floor = at;
  if (e.act == action::resolve) {
    resolve(g, e, now, out);
    return;
  }
  if (e.act == action::acknowledge || e.act == action::unacknowledge) {
    acknowledge(g, e, now, out);
    return;
  }
  auto hash = dedup_hash_of(e);
  if (auto* p = g.active.find(e.dedup_key, hash)) {
    retrigger(g, *p, e, now, out);
    return;
  }
  if (!belongs_to(g, e)) {
    out.reroute = true;
    return;
  }
  out.reactivated = !fresh;
  open_or_join(g, e, hash, now, out);
}

/// Makes the restored alerts of `g` share its texts as the alerts `apply`
/// makes do, instead of each holding the copies it was loaded with.
void share_texts(group_state& g) {
  // A child's parent key shares its active parent's own dedupKey block.
  std::unordered_map<std::string_view, shared_text, text_hasher> parent_keys;
  for (auto& a : g.active)
    if (a->is_parent())
      parent_keys.try_emplace(a->dedup_key.view(), a->dedup_key);
  for (auto& a : g.active) {
    a->event_manager_id = shared_in(g.event_manager_id, a->event_manager_id);
    a->grouping_value = shared_in(g.grouping_value, a->grouping_value);
    a->class_name = class_text(g, a->class_name);
    if (a->parent_dedup_key.empty())
      continue;
    auto [key, added] = parent_keys.try_emplace(a->parent_dedup_key.view(),
                                                a->parent_dedup_key);
    a->parent_dedup_key = key->second;
  }
}

} // namespace

void apply(group_state& g, const event& e, bool fresh, time_point now,
           decision& out) {
  apply_event(g, e, fresh, now, out);
}

void apply_taking_texts(group_state& g, event& e, bool fresh, time_point now,
                        decision& out) {
  apply_event(g, e, fresh, now, out);
}

bool expire(group_state& g, time_point now, decision& out) {
  out.clear();
  expire_due(g, now, out);
  return !out.writes.empty();
}

time_point next_expiry(const group_state& g) {
  time_point next = no_time;
  for (auto& a : g.active)
    if (auto at = next_deadline(*a).first;
        at != no_time && (next == no_time || at < next))
      next = at;
  return next;
}

bool is_idle(const group_state& g) {
  return g.active.empty();
}

bool window_open(const group_state& g, time_point now) {
  return g.has_value && !g.open_parent.empty() && now < g.window_ends_at;
}

group_state restore_group(shared_text event_manager_id, bool has_value,
                          shared_text grouping_value,
                          const std::vector<alert>& alerts) {
  group_state g;
  g.event_manager_id = std::move(event_manager_id);
  g.has_value = has_value;
  g.grouping_value = std::move(grouping_value);
  for (auto& a : alerts)
    if (a.is_active())
      g.active.insert(std::make_shared<alert>(a));
  share_texts(g);
  // The store links a parent to the children of all its lives; only those
  // of its current life count. Active children are all of this life. Of the
  // resolved ones, this life's resolved after every child of an earlier life
  // (a parent resolves only after its children), so they are the most
  // recently updated, and child_count says how many there are.
  std::unordered_map<std::string_view, std::vector<const alert*>, text_hasher>
      resolved;
  for (auto& a : alerts) {
    if (a.is_parent() || !g.active.count(a.parent_dedup_key.view()))
      continue;
    if (!a.is_active()) {
      resolved[a.parent_dedup_key.view()].push_back(&a);
      continue;
    }
    ++g.links[a.parent_dedup_key].active_children;
  }
  for (auto& [parent_key, children] : resolved) {
    auto& links = g.links[parent_key];
    auto wanted = g.active.at(parent_key)->child_count - links.active_children;
    std::sort(children.begin(), children.end(),
              [](const alert* x, const alert* y) {
                return x->updated_at > y->updated_at;
              });
    for (auto* child : children) {
      if (wanted <= 0)
        break;
      if (links.resolved_children.insert(child->dedup_key).second)
        --wanted;
    }
  }
  // The latest window comes back even if it has ended by the restart's
  // clock: events accepted before its end, replayed from the journal, join
  // it as they would have without the restart.
  if (g.has_value)
    for (auto& a : g.active)
      if (a->is_parent() && a->window_ends_at > g.window_ends_at) {
        g.open_parent = a->dedup_key;
        g.window_ends_at = a->window_ends_at;
      }
  return g;
}

} // namespace argus::domain
