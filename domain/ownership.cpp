#include "domain/ownership.hpp"

#include "domain/cluster.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace argus::domain {

namespace {

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

group_key group_of(const event& e) {
  return {e.event_manager_id, e.has_grouping_value, e.grouping_value};
}

group_key group_of(const alert& a) {
  return {a.event_manager_id, a.has_grouping_value, a.grouping_value};
}

// -- routing events -----------------------------------------------------------

bool takes_now(const ownership_view& v, const event& e) {
  return v.ready || (v.held && group_owner(*v.held, group_of(e)) == v.self_id);
}

route route_of(const ownership_view& v, const event& e) {
  auto owner = group_owner(v.live, group_of(e));
  if (owner != v.self_id)
    return {route::forward, std::move(owner)};
  return {takes_now(v, e) ? route::here : route::wait, {}};
}

ingest_plan plan_ingest(const ownership_view& v, std::vector<event> events,
                        const std::vector<size_t>& unplaced) {
  ingest_plan plan;
  std::vector<bool> held_back(events.size(), false);
  if (!v.ready)
    for (auto i : unplaced)
      if (i < events.size())
        held_back[i] = true;
  // Unplaced events first, in their order, as they wait longest.
  for (size_t i = 0; i < events.size(); ++i)
    if (held_back[i])
      plan.waiting.push_back(std::move(events[i]));
  for (size_t i = 0; i < events.size(); ++i) {
    if (held_back[i])
      continue;
    auto r = route_of(v, events[i]);
    switch (r.kind) {
    case route::here:
      plan.here.push_back(std::move(events[i]));
      break;
    case route::wait:
      plan.waiting.push_back(std::move(events[i]));
      break;
    case route::forward:
      plan.elsewhere[r.owner].push_back(std::move(events[i]));
      break;
    }
  }
  return plan;
}

forwarded_verdict judge_forwarded(const ownership_view& v,
                                  const std::vector<event>& events) {
  // Without a view yet, this node cannot tell what it owns.
  if (v.live.empty())
    return forwarded_verdict::wait;
  for (auto& e : events) {
    auto r = route_of(v, e);
    if (r.kind == route::forward)
      return forwarded_verdict::conflict;
    if (r.kind == route::wait)
      return forwarded_verdict::wait;
  }
  return forwarded_verdict::accept;
}

forward_outcome judge_forward(const caf::error& err) {
  if (!err)
    return forward_outcome::accepted;
  // `code_of` is `internal` for errors of other categories.
  if (code_of(err) == ec::unavailable)
    return forward_outcome::refused;
  return forward_outcome::retry;
}

std::vector<uint64_t> forward_ids_of(const std::vector<event>& events) {
  std::vector<uint64_t> ids;
  ids.reserve(events.size());
  for (auto& e : events)
    ids.push_back(e.forward_id);
  return ids;
}

forward_memory::forward_memory(size_t capacity) : capacity_(capacity) {}

void forward_memory::drop_seen(std::vector<event>& events) const {
  if (seen_.empty())
    return;
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](const event& e) {
                                return e.forward_id != 0 &&
                                       seen_.count(e.forward_id) > 0;
                              }),
               events.end());
}

void forward_memory::remember(const std::vector<uint64_t>& ids) {
  for (auto id : ids) {
    if (id == 0 || !seen_.insert(id).second)
      continue;
    order_.push_back(id);
    if (order_.size() > capacity_) {
      seen_.erase(order_.front());
      order_.pop_front();
    }
  }
}

bool forward_memory::seen(uint64_t id) const {
  return id != 0 && seen_.count(id) > 0;
}

bool forward_memory::claim(std::vector<event>& events) {
  drop_seen(events);
  for (auto& e : events)
    if (claimed_.count(e.forward_id) > 0)
      return false;
  for (auto& e : events)
    if (e.forward_id != 0)
      claimed_.insert(e.forward_id);
  return true;
}

void forward_memory::settle(const std::vector<uint64_t>& ids, bool journaled) {
  for (auto id : ids)
    claimed_.erase(id);
  if (journaled)
    remember(ids);
}

// -- locating value-less events ----------------------------------------------

valueless_events valueless(const std::vector<event>& events) {
  valueless_events out;
  for (size_t i = 0; i < events.size(); ++i)
    if (!events[i].has_grouping_value) {
      out.at.push_back(i);
      out.keys.push_back({events[i].event_manager_id, events[i].dedup_key});
    }
  return out;
}

void merge_locations(std::vector<alert_location>& found,
                     const std::vector<alert_location>& answer) {
  for (size_t k = 0; k < found.size() && k < answer.size(); ++k)
    if (answer[k].found)
      found[k] = answer[k];
}

alert_location stored_location(const alert& a) {
  if (!a.has_grouping_value)
    return {};
  return {true, group_of(a)};
}

std::vector<size_t> place(std::vector<event>& events,
                          const std::vector<size_t>& at,
                          const std::vector<alert_location>& found) {
  std::vector<size_t> unplaced;
  for (size_t k = 0; k < at.size(); ++k) {
    if (k >= found.size() || !found[k].found) {
      unplaced.push_back(at[k]);
      continue;
    }
    auto& g = found[k].group;
    if (g.has_value) {
      events[at[k]].has_grouping_value = true;
      events[at[k]].grouping_value = g.value;
    }
  }
  return unplaced;
}

// -- transitions --------------------------------------------------------------

journal_share::journal_share(std::vector<std::string> live, std::string self_id)
    : live_(std::move(live)), self_id_(std::move(self_id)) {}

void journal_share::take(event& e, bool done) {
  if (group_owner(live_, group_of(e)) != self_id_)
    return;
  if (done)
    applied.push_back(e.forward_id);
  else
    adopt.push_back(std::move(e));
}

void journal_share::recall(const event& e) {
  if (e.forward_id != 0 && group_owner(live_, group_of(e)) == self_id_)
    applied.push_back(e.forward_id);
}

ownership_machine::ownership_machine(std::string self_id,
                                     std::string incarnation, bool durable)
    : self_id_(std::move(self_id)), incarnation_(std::move(incarnation)),
      durable_(durable) {
  routing_.self_id = self_id_;
}

void ownership_machine::view(membership m) {
  std::sort(m.live.begin(), m.live.end());
  latest_ = std::move(m);
  ++version_;
}

void ownership_machine::handover(const std::string& from,
                                 std::vector<std::string> live) {
  std::sort(live.begin(), live.end());
  handovers_[from] = std::move(live);
}

bool ownership_machine::outdated() const {
  return version_ != t_.version;
}

bool ownership_machine::handed_over_to(
    const std::string& peer, const std::vector<std::string>& live) const {
  auto h = handovers_.find(peer);
  return h != handovers_.end() && h->second == live;
}

std::vector<std::string> ownership_machine::awaited() const {
  std::vector<std::string> out;
  if (phase_ != phase::handovers)
    return out;
  for (auto& p : t_.awaited)
    if (!handed_over_to(p, t_.target.live))
      out.push_back(p);
  return out;
}

ownership_step ownership_machine::next(mono_time now) {
  ownership_step wait;
  switch (phase_) {
  case phase::busy:
    return wait;
  case phase::idle:
    // A failed transition leaves `done_version_` behind: it starts over.
    if (latest_ && version_ != done_version_)
      return begin();
    return wait;
  case phase::paused:
    if (now < until_) {
      wait.until = until_;
      return wait;
    }
    phase_ = phase::idle;
    return next(now);
  case phase::handovers:
    if (outdated())
      return fail(now);
    if (awaited().empty())
      return after_handovers();
    return wait;
  case phase::fence_wait:
    if (outdated())
      return fail(now);
    if (now < until_) {
      wait.until = until_;
      return wait;
    }
    return next_lock();
  }
  return wait;
}

ownership_step ownership_machine::busy(ownership_step s) {
  phase_ = phase::busy;
  return s;
}

ownership_step ownership_machine::begin() {
  t_ = transition{};
  t_.version = version_;
  t_.target = *latest_;
  t_.before = routing_.held;
  routing_.live = t_.target.live;
  routing_.ready = false;
  ownership_step s;
  s.publish = routing_;
  s.what = ownership_step::drain;
  return busy(std::move(s));
}

ownership_step ownership_machine::fail(mono_time now) {
  ownership_step s;
  s.unlock = std::exchange(t_.held, {});
  phase_ = phase::paused;
  until_ = now + retry_pause;
  s.until = until_;
  return s;
}

std::vector<std::string> ownership_machine::abandon() {
  phase_ = phase::idle;
  return std::exchange(t_.held, {});
}

ownership_step ownership_machine::drained(const caf::error& err,
                                          mono_time now) {
  if (err)
    return fail(now);
  ownership_step s;
  s.what = ownership_step::hand_over;
  s.live = t_.target.live;
  return busy(std::move(s));
}

ownership_step ownership_machine::handed_over(const caf::error& err,
                                              mono_time now) {
  if (err)
    return fail(now);
  // Who held the groups before: the old view, or for a node that just
  // joined, the others' (the new one without it).
  auto previous = t_.before ? *t_.before : t_.target.live;
  for (auto& p : previous) {
    if (p == self_id_)
      continue;
    if (contains(t_.target.live, p)) {
      t_.awaited.push_back(p);
      auto inc = t_.target.incarnations.find(p);
      if (durable_ && inc != t_.target.incarnations.end())
        t_.recall.push_back(inc->second);
      continue;
    }
    if (handed_over_to(p, t_.target.live))
      continue; // it left cleanly, after handing over
    auto inc = t_.target.incarnations.find(p);
    if (durable_ && inc != t_.target.incarnations.end())
      t_.gone.push_back(inc->second);
  }
  phase_ = phase::handovers;
  return next(now);
}

ownership_step ownership_machine::after_handovers() {
  ownership_step s;
  s.what = durable_ ? ownership_step::list_writers : ownership_step::read_work;
  return busy(std::move(s));
}

ownership_step ownership_machine::listed(
    const caf::expected<std::vector<std::string>>& writers, mono_time now) {
  if (!writers)
    return fail(now);
  std::set<std::string> live_incarnations{incarnation_};
  for (auto& id : t_.target.live) {
    auto inc = t_.target.incarnations.find(id);
    if (inc != t_.target.incarnations.end())
      live_incarnations.insert(inc->second);
  }
  // Every dead writer with records may hold events this node now owns:
  // lock them all before reading the store, so nothing they wrote is
  // missed. The set's order is the same on every node.
  std::set<std::string> dead{t_.gone.begin(), t_.gone.end()};
  for (auto& w : *writers)
    if (live_incarnations.count(w) == 0)
      dead.insert(w);
  t_.locks.assign(dead.begin(), dead.end());
  return next_lock();
}

ownership_step ownership_machine::next_lock() {
  ownership_step s;
  if (t_.held.size() < t_.locks.size()) {
    s.what = ownership_step::fence;
    s.incarnation = t_.locks[t_.held.size()];
  } else {
    s.what = ownership_step::read_work;
  }
  return busy(std::move(s));
}

ownership_step ownership_machine::fenced(const caf::expected<bool>& got,
                                         mono_time now) {
  if (got && *got) {
    t_.held.push_back(t_.locks[t_.held.size()]);
    return next_lock();
  }
  // Still locked (its process may be hung, not dead) or unreadable: its
  // groups wait, unless a newer view ends the wait.
  if (outdated())
    return fail(now);
  phase_ = phase::fence_wait;
  until_ = now + fence_pause;
  ownership_step s;
  s.until = until_;
  return s;
}

ownership_step ownership_machine::worked(caf::expected<std::vector<alert>> work,
                                         mono_time now) {
  if (!work)
    return fail(now);
  ownership_step s;
  s.what = ownership_step::restore;
  for (auto& a : *work) {
    auto g = group_of(a);
    // Groups kept through the change stay as the routers hold them (their
    // events never stopped; the store may lag behind them).
    if (group_owner(t_.target.live, g) == self_id_ &&
        !(t_.before && group_owner(*t_.before, g) == self_id_))
      s.alerts.push_back(std::move(a));
  }
  return busy(std::move(s));
}

ownership_step ownership_machine::restored(const caf::error& err,
                                           mono_time now) {
  if (err)
    return fail(now);
  t_.next_read = 0;
  return next_journal(now);
}

ownership_step ownership_machine::next_journal(mono_time now) {
  ownership_step s;
  s.share = journal_share{t_.target.live, self_id_};
  if (t_.next_read < t_.recall.size()) {
    s.what = ownership_step::recall_forwards;
    s.incarnation = t_.recall[t_.next_read];
    return busy(std::move(s));
  }
  if (t_.next_held() >= t_.held.size())
    return settle(now);
  s.what = ownership_step::read_journal;
  s.incarnation = t_.held[t_.next_held()];
  return busy(std::move(s));
}

ownership_step ownership_machine::journal_read(const caf::error& err,
                                               journal_share share,
                                               mono_time now) {
  if (err)
    return fail(now);
  // Both kinds are journaled here from now on: a sender's retry of one is
  // recognised before the adopted records are even delivered.
  auto remember = std::move(share.applied);
  auto ids = forward_ids_of(share.adopt);
  remember.insert(remember.end(), ids.begin(), ids.end());
  ownership_step s;
  if (share.adopt.empty()) {
    ++t_.next_read;
    s = next_journal(now);
  } else {
    s.what = ownership_step::adopt;
    s.incarnation = t_.held[t_.next_held()];
    s.events = std::move(share.adopt);
    s = busy(std::move(s));
  }
  s.remember = std::move(remember);
  return s;
}

ownership_step ownership_machine::adopted(const caf::error& err,
                                          mono_time now) {
  if (err)
    return fail(now);
  ++t_.next_read;
  return next_journal(now);
}

ownership_step ownership_machine::settle(mono_time now) {
  ownership_step s;
  s.unlock = std::exchange(t_.held, {});
  routing_.held = t_.target.live;
  done_version_ = t_.version;
  // A newer view arrived meanwhile: this one is in effect for the routers,
  // and the next transition follows at once, with the gate still closed.
  routing_.ready = !outdated();
  s.publish = routing_;
  phase_ = phase::idle;
  s.until = now;
  return s;
}

} // namespace argus::domain
