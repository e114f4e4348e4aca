#include "actors/ownership.hpp"

#include "config/log.hpp"
#include "domain/cluster.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <random>
#include <set>

namespace argus::actors {

namespace {

using clock = std::chrono::steady_clock;

/// How long the front keeps retrying events whose owner is changing or out
/// of reach before it answers 503.
constexpr auto ingest_deadline = std::chrono::seconds{10};

/// How long a forwarded request waits for this node's gate.
constexpr auto forwarded_deadline = std::chrono::seconds{5};

/// How many forwarding ids a node remembers: far more than can be in
/// flight while a sender retries.
constexpr size_t remembered_forwards = 1 << 18;

/// Pause between attempts while the membership settles.
constexpr auto retry_pause = std::chrono::milliseconds{50};

std::string owner_of_event(const std::vector<std::string>& live,
                           const domain::event& e) {
  return domain::group_owner(live, e.event_manager_id, e.has_grouping_value,
                             e.grouping_value);
}

std::string owner_of_alert(const std::vector<std::string>& live,
                           const domain::alert& a) {
  return domain::group_owner(live, a.event_manager_id, a.has_grouping_value,
                             a.grouping_value);
}

std::vector<uint64_t> forward_ids_of(const std::vector<domain::event>& events) {
  std::vector<uint64_t> ids;
  ids.reserve(events.size());
  for (auto& e : events)
    ids.push_back(e.forward_id);
  return ids;
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

ownership::ownership(ownership_hooks hooks) : hooks_(std::move(hooks)) {
  worker_ = std::thread{[this] { run(); }};
}

ownership::~ownership() {
  stop();
}

void ownership::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_ && !worker_.joinable())
      return;
    stopping_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable())
    worker_.join();
}

void ownership::on_view(cluster_view view) {
  std::sort(view.live.begin(), view.live.end());
  {
    std::lock_guard<std::mutex> guard{mtx_};
    latest_ = std::move(view);
    ++latest_version_;
  }
  changed_.notify_all();
}

void ownership::on_handover(const std::string& from,
                            std::vector<std::string> live) {
  std::sort(live.begin(), live.end());
  {
    std::lock_guard<std::mutex> guard{mtx_};
    handovers_[from] = std::move(live);
  }
  changed_.notify_all();
}

std::vector<std::string> ownership::live() const {
  std::shared_lock<std::shared_mutex> lock{view_mtx_};
  return current_.live;
}

bool ownership::settled() const {
  std::shared_lock<std::shared_mutex> lock{view_mtx_};
  return ready_;
}

bool ownership::wait_ready(clock::time_point deadline) {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    {
      std::shared_lock<std::shared_mutex> view{view_mtx_};
      if (ready_)
        return true;
    }
    if (stopping_ ||
        changed_.wait_until(lock, deadline) == std::cv_status::timeout)
      return false;
  }
}

std::vector<size_t>
ownership::locate_groups(std::vector<domain::event>& events) {
  // An event without the grouping field (a resolve, typically) belongs to
  // the group that holds its dedupKey, wherever that is: one node finds it
  // in its dedupKey index, a cluster asks every node's. A trigger that got
  // its 202 is in its owner's router before the answer left, so a resolve
  // sent after it finds it there.
  std::vector<size_t> at;
  std::vector<std::string> managers;
  std::vector<std::string> dedups;
  for (size_t i = 0; i < events.size(); ++i)
    if (!events[i].has_grouping_value) {
      at.push_back(i);
      managers.push_back(events[i].event_manager_id);
      dedups.push_back(events[i].dedup_key);
    }
  if (at.empty() || !hooks_.locate_at)
    return {};
  std::vector<caf::actor> nodes;
  {
    std::shared_lock<std::shared_mutex> view{view_mtx_};
    for (auto& [id, handle] : current_.peers)
      nodes.push_back(handle);
  }
  if (hooks_.local)
    nodes.push_back(hooks_.local());
  std::vector<std::string> found(at.size());
  for (auto& answer : hooks_.locate_at(nodes, managers, dedups)) {
    if (!answer)
      continue; // out of reach: its groups are being taken over
    for (size_t k = 0; k < found.size() && k < answer->size(); ++k)
      if (!(*answer)[k].empty())
        found[k] = std::move((*answer)[k]);
  }
  std::vector<size_t> unfound;
  for (size_t k = 0; k < at.size(); ++k) {
    auto& e = events[at[k]];
    if (found[k].empty() && hooks_.stored) {
      // Groups being handed over are in no router for a moment; their
      // state is in the store.
      auto a = hooks_.stored(e.event_manager_id, e.dedup_key);
      if (a && a->has_grouping_value)
        found[k] = "=" + a->grouping_value;
    }
    if (found[k].size() > 1 && found[k][0] == '=') {
      e.has_grouping_value = true;
      e.grouping_value = found[k].substr(1);
    }
    if (found[k].empty())
      unfound.push_back(at[k]);
  }
  return unfound;
}

bool ownership::takes_now(const domain::event& e) const {
  // Groups this node keeps through a transition flow on; only the ones it
  // gains wait until the previous owner handed them over.
  return ready_ || (held_ && owner_of_event(*held_, e) == hooks_.self_id);
}

caf::error ownership::ingest(std::vector<domain::event> events) {
  auto deadline = clock::now() + ingest_deadline;
  caf::error last_failure;
  size_t refused = 0;
  auto retry = [&](std::vector<domain::event>& share) {
    events.insert(events.end(), std::make_move_iterator(share.begin()),
                  std::make_move_iterator(share.end()));
  };
  while (!events.empty()) {
    std::map<std::string, std::vector<domain::event>> elsewhere;
    std::map<std::string, caf::actor> handles;
    std::vector<domain::event> waiting;
    // While groups move, the one holding a dedupKey may be in no router
    // and not yet stored (its old owner is draining it): such events wait
    // for the move to finish rather than go to the group without a value.
    auto unfound = locate_groups(events);
    if (!unfound.empty() && !settled()) {
      for (auto i : unfound)
        waiting.push_back(std::move(events[i]));
      for (auto i = unfound.rbegin(); i != unfound.rend(); ++i)
        events.erase(events.begin() + static_cast<std::ptrdiff_t>(*i));
    }
    {
      std::shared_lock<std::shared_mutex> view{view_mtx_};
      std::vector<domain::event> mine;
      for (auto& e : events) {
        auto owner = owner_of_event(current_.live, e);
        if (owner != hooks_.self_id)
          elsewhere[owner].push_back(std::move(e));
        else if (takes_now(e))
          mine.push_back(std::move(e));
        else
          waiting.push_back(std::move(e));
      }
      events.clear();
      // An event that went out to a peer before and comes back here (its
      // group moved to this node) may be one this node adopted from that
      // peer's journal: the same check as for a forward.
      drop_seen_forwards(mine);
      // Journaled under the shared lock: a transition cannot switch views
      // until these are in the routers, so its drain covers them.
      if (!mine.empty())
        if (auto err = hooks_.accept(std::move(mine)))
          return err;
      for (auto& [owner, _] : elsewhere) {
        auto it = current_.peers.find(owner);
        if (it != current_.peers.end())
          handles[owner] = it->second;
      }
    }
    // One forward per owner, all under way at once.
    std::vector<forward_share> shares;
    std::vector<std::vector<domain::event>*> sent;
    for (auto& [owner, share] : elsewhere) {
      auto it = handles.find(owner);
      if (it == handles.end()) {
        last_failure =
            make_error(ec::unavailable,
                       owner.empty() ? std::string{"no live cluster member"}
                                     : "no connection to member " + owner);
        retry(share); // out of reach now: a newer view may reach it
        continue;
      }
      // One id per event, kept across retries to any node.
      thread_local std::mt19937_64 ids{std::random_device{}()};
      for (auto& e : share)
        while (e.forward_id == 0)
          e.forward_id = ids();
      shares.push_back({it->second, &share});
      sent.push_back(&share);
    }
    auto results =
        shares.empty() ? std::vector<caf::error>{} : hooks_.forward(shares);
    for (size_t i = 0; i < sent.size(); ++i) {
      auto& err = results[i];
      if (!err)
        continue;
      last_failure = err;
      if (err.category() == caf::atom("argus") &&
          code_of(err) == ec::unavailable) {
        // The owner is behind (or still taking over after waiting): its
        // back-pressure reaches the client as a 503, not as a longer wait.
        refused += sent[i]->size();
        continue;
      }
      // Its owner moved or is out of reach: try again with a newer view.
      retry(*sent[i]);
    }
    events.insert(events.end(), std::make_move_iterator(waiting.begin()),
                  std::make_move_iterator(waiting.end()));
    if (events.empty() || clock::now() >= deadline)
      break;
    if (!wait_ready(std::min(deadline, clock::now() + retry_pause)) &&
        stopped())
      break;
  }
  if (events.empty() && refused == 0)
    return {};
  auto why = last_failure ? message_of(last_failure)
                          : std::string{"the cluster is changing membership"};
  return make_error(ec::unavailable,
                    std::to_string(events.size() + refused) +
                        " events were not accepted by their owner node (" +
                        why +
                        "); the others were: re-sending them all is safe");
}

caf::error ownership::accept_forwarded(std::vector<domain::event> events) {
  auto deadline = clock::now() + forwarded_deadline;
  for (;;) {
    {
      std::shared_lock<std::shared_mutex> view{view_mtx_};
      // Without a view yet, this node cannot tell what it owns: wait.
      bool all_now = !current_.live.empty();
      for (size_t i = 0; all_now && i < events.size(); ++i) {
        if (owner_of_event(current_.live, events[i]) != hooks_.self_id)
          return make_error(ec::conflict, "member " + hooks_.self_id +
                                              " does not own this group now");
        all_now = takes_now(events[i]);
      }
      if (all_now) {
        drop_seen_forwards(events);
        if (events.empty())
          return {};
        if (hooks_.overloaded && hooks_.overloaded(events.size()))
          return make_error(ec::unavailable,
                            "member " + hooks_.self_id +
                                " is behind on ingestion; retry later");
        auto ids = forward_ids_of(events);
        if (auto err = hooks_.accept(std::move(events)))
          return err;
        remember_forwards(ids);
        return {};
      }
    }
    if (clock::now() >= deadline || stopped())
      return make_error(ec::unavailable,
                        "member " + hooks_.self_id + " is taking over groups");
    wait_ready(std::min(deadline, clock::now() + retry_pause));
  }
}

void ownership::drop_seen_forwards(std::vector<domain::event>& events) {
  // Events the front journals first-hand have no id: nothing to look up.
  if (std::none_of(events.begin(), events.end(),
                   [](const domain::event& e) { return e.forward_id != 0; }))
    return;
  std::lock_guard<std::mutex> guard{forwards_mtx_};
  if (seen_forwards_.empty())
    return;
  events.erase(std::remove_if(events.begin(), events.end(),
                              [&](const domain::event& e) {
                                return seen_forwards_.count(e.forward_id) > 0;
                              }),
               events.end());
}

void ownership::remember_forwards(const std::vector<uint64_t>& ids) {
  std::lock_guard<std::mutex> guard{forwards_mtx_};
  for (auto id : ids) {
    if (id == 0 || !seen_forwards_.insert(id).second)
      continue;
    forward_order_.push_back(id);
    if (forward_order_.size() > remembered_forwards) {
      seen_forwards_.erase(forward_order_.front());
      forward_order_.pop_front();
    }
  }
}

void ownership::run() {
  uint64_t done_version = 0;
  for (;;) {
    cluster_view target;
    uint64_t version = 0;
    {
      std::unique_lock<std::mutex> lock{mtx_};
      changed_.wait(lock, [&] {
        return stopping_ || (latest_ && latest_version_ != done_version);
      });
      if (stopping_)
        return;
      target = *latest_;
      version = latest_version_;
    }
    if (transition(target))
      done_version = version;
    else
      std::this_thread::sleep_for(retry_pause); // a newer view, or a failure
  }
}

bool ownership::stopped() {
  std::lock_guard<std::mutex> guard{mtx_};
  return stopping_;
}

bool ownership::outdated(uint64_t version) const {
  return stopping_ || latest_version_ != version;
}

bool ownership::pause(uint64_t version, std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock{mtx_};
  changed_.wait_for(lock, d, [&] { return outdated(version); });
  return !outdated(version);
}

bool ownership::transition(const cluster_view& target) {
  uint64_t version = 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    version = latest_version_;
  }
  std::optional<std::vector<std::string>> before;
  {
    std::unique_lock<std::shared_mutex> lock{view_mtx_};
    before = held_;
    current_ = target;
    ready_ = false;
  }
  LOG_INFO("cluster: taking the view with " << target.live.size()
                                            << " live members");
  auto fail = [&](const char* step, const caf::error& err) {
    LOG_WARNING("cluster: " << step
                            << " failed, retrying: " << message_of(err));
    return false;
  };
  // What this node held under the old view is applied and stored; what it
  // no longer owns leaves its memory.
  if (auto err = hooks_.drain())
    return fail("draining", err);
  if (auto err = hooks_.release(target.live))
    return fail("releasing groups", err);
  hooks_.announce(target.live);
  // Who held the groups before: the old view, or for a node that just
  // joined, the others' (the new one without it).
  auto previous = before ? *before : target.live;
  if (!before)
    previous.erase(
        std::remove(previous.begin(), previous.end(), hooks_.self_id),
        previous.end());
  std::vector<std::string> waiting_for;
  std::vector<std::string> to_fence;
  for (auto& p : previous) {
    if (p == hooks_.self_id)
      continue;
    if (contains(target.live, p)) {
      waiting_for.push_back(p);
      continue;
    }
    {
      std::lock_guard<std::mutex> guard{mtx_};
      auto h = handovers_.find(p);
      if (h != handovers_.end() && h->second == target.live)
        continue; // it left cleanly, after handing over
    }
    auto inc = target.incarnations.find(p);
    if (hooks_.fence && inc != target.incarnations.end())
      to_fence.push_back(inc->second);
  }
  if (!wait_handovers(target, waiting_for, version))
    return false;
  std::vector<std::string> held;
  auto release_held = [&] {
    for (auto& inc : held)
      if (auto err = hooks_.fence->release(inc))
        LOG_WARNING("cluster: unlocking journal " << inc << ": "
                                                  << message_of(err));
    held.clear();
  };
  // A member that went away without handing over may only be hung: take
  // its groups only once its process is gone. The same for every dead
  // writer with journal records, which this node may have to adopt: lock
  // them all before reading the store, so nothing they wrote is missed.
  if (!fence_dead(target, to_fence, version, held)) {
    release_held();
    return false;
  }
  if (auto err = restore_gained(target, before)) {
    release_held();
    return fail("rebuilding gained groups", err);
  }
  auto err = adopt_records(target, held);
  release_held();
  if (err)
    return fail("adopting journal records", err);
  {
    std::lock_guard<std::mutex> guard{mtx_};
    std::unique_lock<std::shared_mutex> lock{view_mtx_};
    held_ = target.live;
    if (outdated(version))
      return true; // in effect for the routers; the next one follows
    ready_ = true;
  }
  changed_.notify_all();
  LOG_INFO("cluster: view in effect, " << target.live.size()
                                       << " live members");
  return true;
}

bool ownership::wait_handovers(const cluster_view& target,
                               const std::vector<std::string>& from,
                               uint64_t version) {
  std::unique_lock<std::mutex> lock{mtx_};
  auto logged = clock::now();
  for (;;) {
    if (outdated(version))
      return false;
    bool all = std::all_of(from.begin(), from.end(), [&](auto& p) {
      auto h = handovers_.find(p);
      return h != handovers_.end() && h->second == target.live;
    });
    if (all)
      return true;
    if (clock::now() - logged > std::chrono::seconds{5}) {
      logged = clock::now();
      LOG_WARNING("cluster: still waiting for peers to hand over groups");
    }
    changed_.wait_for(lock, std::chrono::milliseconds{200});
  }
}

bool ownership::fence_all(const std::vector<std::string>& incarnations,
                          uint64_t version, std::vector<std::string>& held) {
  auto logged = clock::now();
  for (auto& inc : incarnations) {
    for (;;) {
      auto got = hooks_.fence->try_fence(inc);
      if (got && *got) {
        held.push_back(inc);
        break;
      }
      if (clock::now() - logged > std::chrono::seconds{5}) {
        logged = clock::now();
        LOG_WARNING("cluster: journal "
                    << inc
                    << " is still locked: its node may be hung, not dead; "
                       "its groups wait");
      }
      if (!pause(version, std::chrono::milliseconds{100}))
        return false;
    }
  }
  return true;
}

caf::error ownership::restore_gained(
    const cluster_view& target,
    const std::optional<std::vector<std::string>>& before) {
  auto work = hooks_.open_work();
  if (!work)
    return std::move(work.error());
  std::vector<domain::alert> gained;
  for (auto& a : *work)
    // Groups kept through the change stay as the routers hold them (their
    // events never stopped; the store may lag behind them).
    if (owner_of_alert(target.live, a) == hooks_.self_id &&
        !(before && owner_of_alert(*before, a) == hooks_.self_id))
      gained.push_back(std::move(a));
  return hooks_.restore(std::move(gained));
}

bool ownership::fence_dead(const cluster_view& target,
                           std::vector<std::string> previous, uint64_t version,
                           std::vector<std::string>& held) {
  if (!hooks_.fence)
    return true;
  auto writers = hooks_.fence->writers();
  if (!writers) {
    LOG_WARNING("cluster: listing journal writers failed: "
                << message_of(writers.error()));
    return false;
  }
  std::set<std::string> live_incarnations{hooks_.incarnation};
  for (auto& id : target.live) {
    auto inc = target.incarnations.find(id);
    if (inc != target.incarnations.end())
      live_incarnations.insert(inc->second);
  }
  std::set<std::string> dead{previous.begin(), previous.end()};
  for (auto& w : *writers)
    if (live_incarnations.count(w) == 0)
      dead.insert(w);
  // In one order on every node (the set's), so that two nodes taking over
  // from the same dead writers never hold one lock each and wait for the
  // other's. Another node adopting holds a lock for a moment; a hung node
  // holds its own until it dies or comes back (a newer view).
  return fence_all({dead.begin(), dead.end()}, version, held);
}

caf::error ownership::adopt_records(const cluster_view& target,
                                    const std::vector<std::string>& held) {
  if (!hooks_.adopt)
    return {};
  for (auto& w : held) {
    std::vector<domain::event> mine;
    std::vector<uint64_t> applied_forwards;
    auto err = hooks_.fence->read(w, [&](domain::event& e, bool done) {
      if (owner_of_event(target.live, e) != hooks_.self_id)
        return;
      if (done)
        applied_forwards.push_back(e.forward_id);
      else
        mine.push_back(std::move(e));
    });
    if (err)
      return err;
    remember_forwards(applied_forwards);
    if (mine.empty())
      continue;
    LOG_INFO("cluster: adopting " << mine.size() << " journaled events of "
                                  << w);
    remember_forwards(forward_ids_of(mine));
    if (auto adopted = hooks_.adopt(std::move(mine), w))
      return adopted;
  }
  return {};
}

} // namespace argus::actors
