#include "actors/ownership.hpp"

#include "config/log.hpp"
#include "domain/cluster.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <random>

namespace argus::actors {

namespace {

using clock = std::chrono::steady_clock;

/// How long the front keeps retrying events whose owner is changing or out
/// of reach before it answers 503.
constexpr auto ingest_deadline = std::chrono::seconds{10};

/// Pause between attempts while the membership settles.
constexpr auto retry_pause = std::chrono::milliseconds{50};

/// How often a long wait (hand-overs, a journal lock) is logged.
constexpr auto log_every = std::chrono::seconds{5};

using step = domain::ownership_step;

domain::membership membership_of(const cluster_view& v) {
  return {v.live, v.incarnations};
}

} // namespace

ownership::ownership(ownership_hooks hooks)
    : hooks_(std::move(hooks)),
      machine_(hooks_.self_id, hooks_.incarnation, hooks_.fence != nullptr) {
  view_.self_id = hooks_.self_id;
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
  {
    std::lock_guard<std::mutex> guard{mtx_};
    machine_.view(membership_of(view));
    latest_peers_ = std::move(view.peers);
  }
  changed_.notify_all();
}

void ownership::on_handover(const std::string& from,
                            std::vector<std::string> live) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    machine_.handover(from, std::move(live));
  }
  changed_.notify_all();
}

std::vector<std::string> ownership::live() const {
  std::shared_lock<std::shared_mutex> lock{view_mtx_};
  return view_.live;
}

bool ownership::settled() const {
  std::shared_lock<std::shared_mutex> lock{view_mtx_};
  return view_.ready;
}

bool ownership::stopped() {
  std::lock_guard<std::mutex> guard{mtx_};
  return stopping_;
}

bool ownership::wait_ready(clock::time_point deadline) {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    {
      std::shared_lock<std::shared_mutex> view{view_mtx_};
      if (view_.ready)
        return true;
    }
    if (stopping_ ||
        changed_.wait_until(lock, deadline) == std::cv_status::timeout)
      return false;
  }
}

// -- events
// ---------------------------------------------------------------------

std::vector<size_t>
ownership::locate_groups(std::vector<domain::event>& events) {
  // An event without the grouping field (a resolve, typically) belongs to
  // the group that holds its dedupKey, wherever that is: every node's
  // dedupKey index is asked. A trigger that got its 202 is in its owner's
  // router before the answer left, so a resolve sent after it finds it.
  auto asked = domain::valueless(events);
  if (asked.at.empty() || !hooks_.locate_at)
    return {};
  std::vector<caf::actor> nodes;
  {
    std::shared_lock<std::shared_mutex> view{view_mtx_};
    for (auto& [id, handle] : peers_)
      nodes.push_back(handle);
  }
  if (hooks_.local)
    nodes.push_back(hooks_.local());
  std::vector<domain::alert_location> found(asked.keys.size());
  for (auto& answer : hooks_.locate_at(nodes, asked.keys))
    if (answer) // out of reach otherwise: its groups are being taken over
      domain::merge_locations(found, *answer);
  // Groups being handed over are in no router for a moment; their state
  // is in the store.
  for (size_t k = 0; k < found.size() && hooks_.stored; ++k)
    if (!found[k].found)
      if (auto a = hooks_.stored(asked.keys[k]))
        found[k] = domain::stored_location(*a);
  return domain::place(events, asked.at, found);
}

caf::error
ownership::route(std::vector<domain::event>& events,
                 std::vector<domain::event>& again,
                 std::map<std::string, std::vector<domain::event>>& away,
                 std::map<std::string, caf::actor>& handles) {
  auto unplaced = locate_groups(events);
  std::shared_lock<std::shared_mutex> view{view_mtx_};
  auto plan = domain::plan_ingest(view_, std::move(events), unplaced);
  events.clear();
  again = std::move(plan.waiting);
  away = std::move(plan.elsewhere);
  // An event that went out to a peer before and comes back here (its
  // group moved to this node) may be one this node adopted from that
  // peer's journal: the same check as for a forward.
  {
    std::lock_guard<std::mutex> guard{forwards_mtx_};
    forwards_.drop_seen(plan.here);
  }
  // Journaled under the shared lock: a transition cannot publish a new
  // view until these are in the routers, so its drain covers them.
  if (!plan.here.empty())
    if (auto err = hooks_.accept(std::move(plan.here)))
      return err;
  for (auto& [owner, _] : away) {
    auto it = peers_.find(owner);
    if (it != peers_.end())
      handles[owner] = it->second;
  }
  return {};
}

void ownership::forward(std::map<std::string, std::vector<domain::event>>& away,
                        const std::map<std::string, caf::actor>& handles,
                        std::vector<domain::event>& again,
                        ingest_tally& tally) {
  auto retry = [&](std::vector<domain::event>& share) {
    again.insert(again.end(), std::make_move_iterator(share.begin()),
                 std::make_move_iterator(share.end()));
  };
  std::vector<forward_share> shares;
  std::vector<std::vector<domain::event>*> sent;
  for (auto& [owner, share] : away) {
    auto it = handles.find(owner);
    if (it == handles.end()) {
      tally.last_failure = make_error(
          ec::unavailable, owner.empty() ? std::string{"no live cluster member"}
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
  if (shares.empty())
    return;
  // One forward per owner, all under way at once.
  auto results = hooks_.forward(shares);
  for (size_t i = 0; i < sent.size(); ++i) {
    switch (domain::judge_forward(results[i])) {
    case domain::forward_outcome::accepted:
      break;
    case domain::forward_outcome::refused:
      tally.last_failure = results[i];
      tally.refused += sent[i]->size();
      break;
    case domain::forward_outcome::retry:
      tally.last_failure = results[i];
      retry(*sent[i]);
      break;
    }
  }
}

caf::error ownership::ingest(std::vector<domain::event> events) {
  auto deadline = clock::now() + ingest_deadline;
  ingest_tally tally;
  while (!events.empty()) {
    std::vector<domain::event> waiting;
    std::map<std::string, std::vector<domain::event>> away;
    std::map<std::string, caf::actor> handles;
    if (auto err = route(events, waiting, away, handles))
      return err;
    forward(away, handles, events, tally);
    events.insert(events.end(), std::make_move_iterator(waiting.begin()),
                  std::make_move_iterator(waiting.end()));
    if (events.empty() || clock::now() >= deadline)
      break;
    if (!wait_ready(std::min(deadline, clock::now() + retry_pause)) &&
        stopped())
      break;
  }
  if (events.empty() && tally.refused == 0)
    return {};
  auto why = tally.last_failure
                 ? message_of(tally.last_failure)
                 : std::string{"the cluster is changing membership"};
  return make_error(ec::unavailable,
                    std::to_string(events.size() + tally.refused) +
                        " events were not accepted by their owner node (" +
                        why +
                        "); the others were: re-sending them all is safe");
}

caf::error ownership::accept_forwarded(std::vector<domain::event> events) {
  auto deadline = clock::now() + forwarded_wait;
  for (;;) {
    {
      std::shared_lock<std::shared_mutex> view{view_mtx_};
      auto verdict = domain::judge_forwarded(view_, events);
      if (verdict == domain::forwarded_verdict::conflict)
        return make_error(ec::conflict, "member " + hooks_.self_id +
                                            " does not own this group now");
      if (verdict == domain::forwarded_verdict::accept) {
        if (!claim_forwarded(events, deadline))
          return make_error(ec::unavailable,
                            "member " + hooks_.self_id +
                                " is still journaling an earlier copy of "
                                "these events");
        if (events.empty())
          return {};
        auto ids = domain::forward_ids_of(events);
        caf::error err;
        if (hooks_.overloaded && hooks_.overloaded(events.size()))
          err = make_error(ec::unavailable,
                           "member " + hooks_.self_id +
                               " is behind on ingestion; retry later");
        else
          err = hooks_.accept(std::move(events));
        settle_forwarded(ids, !err);
        return err;
      }
    }
    if (clock::now() >= deadline || stopped())
      return make_error(ec::unavailable,
                        "member " + hooks_.self_id + " is taking over groups");
    wait_ready(std::min(deadline, clock::now() + retry_pause));
  }
}

bool ownership::claim_forwarded(std::vector<domain::event>& events,
                                clock::time_point deadline) {
  std::unique_lock<std::mutex> guard{forwards_mtx_};
  return forwards_settled_.wait_until(guard, deadline,
                                      [&] { return forwards_.claim(events); });
}

void ownership::settle_forwarded(const std::vector<uint64_t>& ids,
                                 bool journaled) {
  {
    std::lock_guard<std::mutex> guard{forwards_mtx_};
    forwards_.settle(ids, journaled);
  }
  forwards_settled_.notify_all();
}

// -- transitions
// ----------------------------------------------------------------

void ownership::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  auto s = machine_.next(clock::now());
  for (;;) {
    if (stopping_) {
      auto held = machine_.abandon();
      lock.unlock();
      unlock(held);
      return;
    }
    bool idle = s.what == step::wait && s.unlock.empty() && !s.publish &&
                s.remember.empty();
    // Due, the check comes before any step: a node resumed after a pause
    // learns it was fenced before it writes on a peer's behalf.
    if (hooks_.fence && clock::now() >= next_keep_) {
      lock.unlock();
      keep_lock();
      lock.lock();
      next_keep_ = clock::now() + hooks_.keep_every;
      // A view that came during the check was announced to no waiter.
      if (idle)
        s = machine_.next(clock::now());
      continue;
    }
    if (!idle) {
      s = carry_out(std::move(s), lock);
      continue;
    }
    auto wake = s.until ? *s.until : clock::now() + log_every;
    if (hooks_.fence)
      wake = std::min(wake, next_keep_);
    changed_.wait_until(lock, wake);
    if (!s.until && clock::now() - logged_ >= log_every &&
        !machine_.awaited().empty()) {
      logged_ = clock::now();
      LOG_WARNING("cluster: still waiting for peers to hand over groups");
    }
    s = machine_.next(clock::now());
  }
}

step ownership::carry_out(step s, std::unique_lock<std::mutex>& lock) {
  // A drain step starts a transition to the latest view: route by its
  // peers from now on.
  std::map<std::string, caf::actor> peers;
  bool began = s.what == step::drain && s.publish;
  if (began)
    peers = latest_peers_;
  lock.unlock();
  if (began)
    LOG_INFO("cluster: taking the view with " << s.publish->live.size()
                                              << " live members");
  apply_effects(s, std::move(peers), began);
  auto fail = [](const char* what, const caf::error& err) {
    if (err)
      LOG_WARNING("cluster: " << what
                              << " failed, retrying: " << message_of(err));
    return err;
  };
  switch (s.what) {
  case step::wait: {
    lock.lock();
    return machine_.next(clock::now());
  }
  case step::drain: {
    auto err = fail("draining", hooks_.drain());
    lock.lock();
    return machine_.drained(err, clock::now());
  }
  case step::hand_over: {
    auto err = fail("releasing groups", hooks_.release(s.live));
    if (!err)
      hooks_.announce(s.live);
    lock.lock();
    return machine_.handed_over(err, clock::now());
  }
  case step::list_writers: {
    auto writers = hooks_.fence->writers();
    if (!writers)
      fail("listing journal writers", writers.error());
    lock.lock();
    return machine_.listed(writers, clock::now());
  }
  case step::fence: {
    auto got = try_fence(s.incarnation);
    lock.lock();
    return machine_.fenced(got, clock::now());
  }
  case step::read_work: {
    auto work = hooks_.open_work();
    if (!work)
      fail("rebuilding gained groups", work.error());
    lock.lock();
    return machine_.worked(std::move(work), clock::now());
  }
  case step::restore: {
    auto err =
        fail("rebuilding gained groups", hooks_.restore(std::move(s.alerts)));
    lock.lock();
    return machine_.restored(err, clock::now());
  }
  case step::read_journal: {
    auto err = fail("adopting journal records", read_journal(s));
    lock.lock();
    return machine_.journal_read(err, std::move(s.share), clock::now());
  }
  case step::recall_forwards: {
    auto err =
        fail("reading a previous owner's forwarding ids",
             hooks_.fence->read(s.incarnation, [&](domain::event& e, bool) {
               s.share.recall(e);
             }));
    lock.lock();
    return machine_.journal_read(err, std::move(s.share), clock::now());
  }
  case step::adopt: {
    LOG_INFO("cluster: adopting " << s.events.size() << " journaled events of "
                                  << s.incarnation);
    auto err =
        fail("adopting journal records",
             hooks_.adopt ? hooks_.adopt(std::move(s.events), s.incarnation)
                          : caf::error{});
    lock.lock();
    return machine_.adopted(err, clock::now());
  }
  }
  lock.lock();
  return machine_.next(clock::now());
}

void ownership::apply_effects(step& s, std::map<std::string, caf::actor> peers,
                              bool began) {
  unlock(s.unlock);
  // Before the view: a retry that the published view lets in must find
  // the ids it repeats.
  if (!s.remember.empty()) {
    std::lock_guard<std::mutex> guard{forwards_mtx_};
    forwards_.remember(s.remember);
  }
  if (s.publish) {
    bool ready = false;
    {
      std::unique_lock<std::shared_mutex> view{view_mtx_};
      view_ = std::move(*s.publish);
      if (began)
        peers_ = std::move(peers);
      ready = view_.ready;
    }
    // Through `mtx_`, so that a waiter between its check and its wait
    // cannot miss the change.
    { std::lock_guard<std::mutex> guard{mtx_}; }
    changed_.notify_all();
    if (ready)
      LOG_INFO("cluster: view in effect, " << view_.live.size()
                                           << " live members");
  }
  s.unlock.clear();
  s.publish.reset();
  s.remember.clear();
}

caf::expected<bool> ownership::try_fence(const std::string& incarnation) {
  auto got = hooks_.fence->try_fence(incarnation);
  if ((!got || !*got) && clock::now() - logged_ > log_every) {
    logged_ = clock::now();
    LOG_WARNING("cluster: journal "
                << incarnation
                << " is still locked: its node may be hung, not dead; "
                   "its groups wait");
  }
  return got;
}

void ownership::keep_lock() {
  auto kept = hooks_.fence->keep();
  if (kept && !*kept) {
    LOG_ERROR("cluster: a peer fenced this node: it took this node for dead "
              "(paused, or cut off from PostgreSQL or its peers) and took "
              "its groups and journal over; stopping at once");
    if (hooks_.fenced)
      hooks_.fenced();
    return;
  }
  if (!kept && clock::now() - keep_logged_ >= log_every) {
    keep_logged_ = clock::now();
    LOG_WARNING("cluster: cannot check this node's journal lock, retrying: "
                << message_of(kept.error()));
  }
}

caf::error ownership::read_journal(step& s) {
  auto err =
      hooks_.fence->read(s.incarnation, [&](domain::event& e, bool done) {
        s.share.take(e, done);
      });
  // The first survivor to read a dead node's journal delivers what it owed.
  if (!err)
    err = hooks_.fence->take_outbox(s.incarnation, hooks_.incarnation);
  return err;
}

void ownership::unlock(const std::vector<std::string>& incarnations) {
  for (auto& inc : incarnations)
    if (auto err = hooks_.fence->release(inc))
      LOG_WARNING("cluster: unlocking journal " << inc << ": "
                                                << message_of(err));
}

} // namespace argus::actors
