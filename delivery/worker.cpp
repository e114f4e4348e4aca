#include "delivery/worker.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"
#include "http/silence_json.hpp"

#include <algorithm>
#include <random>
#include <utility>

namespace argus::delivery {

namespace {

domain::time_point system_now() {
  return domain::time_point{std::chrono::duration_cast<domain::duration>(
      std::chrono::system_clock::now().time_since_epoch())};
}

double random_jitter() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>{0.0, 1.0}(gen);
}

/// The group a notification belongs to, for ordering and rate caps.
std::string group_of(const domain::alert& parent) {
  return parent.has_grouping_value ? "v:" + parent.grouping_value
                                   : "k:" + parent.dedup_key;
}

bool same_row(const domain::delivery& a, const domain::delivery& b) {
  return a.notification_id == b.notification_id && a.receiver == b.receiver;
}

} // namespace

worker::worker(std::shared_ptr<outbox> store, worker_settings settings,
               lookup_fn lookup, clock_fn now, jitter_fn jitter,
               alert_access alerts)
    : store_(std::move(store)), settings_(std::move(settings)),
      lookup_(std::move(lookup)),
      now_(now ? std::move(now) : clock_fn{system_now}),
      jitter_(jitter ? std::move(jitter) : jitter_fn{random_jitter}),
      alerts_(std::move(alerts)) {
  sender::limits lim;
  lim.total = settings_.limits.total;
  lim.per_receiver = settings_.limits.per_receiver;
  sender_ = std::make_unique<sender>(
      lim, [this](uint64_t token, domain::attempt_result r) {
        std::lock_guard<std::mutex> guard{mtx_};
        done_.emplace_back(token, std::move(r));
        cv_.notify_one();
      });
  thread_ = std::thread{[this] { run(); }};
}

worker::~worker() {
  stop();
}

void worker::stop() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopping_)
      return;
    stopping_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable())
    thread_.join();
  // Abandoned sends stay pending in the outbox: the next start sends them
  // again, with the same notification id.
  sender_->stop();
}

void worker::poke() {
  std::lock_guard<std::mutex> guard{mtx_};
  dirty_ = true;
  cv_.notify_one();
}

void worker::stored(const std::vector<domain::alert_write>& writes) {
  if (!holding_.load(std::memory_order_relaxed))
    return;
  std::vector<domain::alert_ptr> resolved;
  for (auto& w : writes)
    if (w.snapshot && !w.snapshot->is_active())
      resolved.push_back(w.snapshot);
  if (resolved.empty())
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  auto room = max_resolved - std::min(max_resolved, resolved_.size());
  if (resolved.size() > room) {
    resolved_overflow_ = true;
    resolved.resize(room);
  }
  resolved_.insert(resolved_.end(), resolved.begin(), resolved.end());
  cv_.notify_one();
}

void worker::post(std::function<void(outbox&)> job) {
  std::lock_guard<std::mutex> guard{mtx_};
  jobs_.push_back(std::move(job));
  cv_.notify_one();
}

void worker::retry(std::string notification_id, std::string receiver,
                   std::function<void(caf::error)> done) {
  post([this, id = std::move(notification_id), receiver = std::move(receiver),
        done = std::move(done)](outbox& store) {
    auto err = store.revive(id, receiver, now_());
    if (!err) {
      std::lock_guard<std::mutex> guard{mtx_};
      dirty_ = true;
    }
    done(std::move(err));
  });
}

void worker::run() {
  auto next_poll = std::chrono::steady_clock::now();
  auto next_review = next_poll;
  auto last_review = next_poll - settings_.poll_interval;
  // What muted alerts at the last look at the held openings.
  std::shared_ptr<const void> looked_at_muting;
  for (;;) {
    std::vector<std::pair<uint64_t, domain::attempt_result>> finished;
    std::vector<domain::alert_ptr> resolved;
    bool reread = false;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      if (stopping_)
        return;
      finished.swap(done_);
      resolved.swap(resolved_);
      if (std::exchange(resolved_overflow_, false) && !held_.empty())
        source_resolved_ = true;
      // With more on disk than the last read took, read again as soon as
      // the ones in memory run low, not at the next poll.
      reread = dirty_ || std::chrono::steady_clock::now() >= next_poll ||
               more_to_read();
      dirty_ = false;
    }
    run_jobs();
    auto now = now_();
    for (auto& [token, result] : finished)
      complete(token, result, now);
    if (reread) {
      fan_out(now);
      reload();
      next_poll = std::chrono::steady_clock::now() + settings_.poll_interval;
    }
    note_resolved(resolved);
    // Held openings are looked at on a pace set by what a look costs. A new
    // catalog, the end of a silence that holds one, or the resolution of an
    // alert that may be an inhibition source (as the repository stores it)
    // brings the look forward, to at most one per poll interval.
    auto started = std::chrono::steady_clock::now();
    auto earliest_early_look = last_review + settings_.poll_interval;
    auto muting = alerts_.muting ? alerts_.muting() : nullptr;
    bool cause_to_look =
        muting != looked_at_muting || now >= held_until_ || source_resolved_;
    if (started >= next_review ||
        (cause_to_look && started >= earliest_early_look)) {
      looked_at_muting = std::move(muting);
      last_review = started;
      review(now);
      auto finished = std::chrono::steady_clock::now();
      next_review = finished + domain::review_pause(finished - started,
                                                    settings_.poll_interval);
    }
    holding_.store(!held_.empty(), std::memory_order_relaxed);
    expire_waiting(now);
    dispatch(now);
    // Sleep until the next due delivery, the next poll, or a poke, a job
    // or an answer wakes us.
    auto wake = next_poll;
    auto steady_at = [this](domain::time_point at) {
      auto in = std::max(domain::duration{0}, at - now_());
      return std::chrono::steady_clock::now() +
             std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                 in);
    };
    auto due = domain::next_wakeup(dispatch_, pending_);
    if (due != domain::no_time)
      wake = std::min(wake, steady_at(due));
    if (held_until_ != never)
      wake = std::min(wake, std::max(steady_at(held_until_),
                                     last_review + settings_.poll_interval));
    // A backlog is read on at once, not at the next poll: when none of it
    // makes a delivery (no receiver wants it, or it is muted), nothing else
    // wakes the worker, and a burst drained one batch per poll interval.
    if (more_to_read())
      continue;
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait_until(guard, wake, [this] {
      return stopping_ || dirty_ || !jobs_.empty() || !done_.empty() ||
             !resolved_.empty() || resolved_overflow_;
    });
  }
}

bool worker::more_to_read() const {
  return backlog_ && pending_.size() < settings_.batch / 2;
}

void worker::run_jobs() {
  std::vector<std::function<void(outbox&)>> jobs;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    jobs.swap(jobs_);
  }
  for (auto& job : jobs)
    job(*store_);
}

void worker::note_resolved(const std::vector<domain::alert_ptr>& resolved) {
  if (held_.empty())
    return;
  // Mostly one manager's: its rules are looked up once per run of them.
  const domain::shared_text* viewed = nullptr;
  std::optional<manager_view> view;
  for (auto& a : resolved) {
    if (source_resolved_)
      return;
    if (viewed == nullptr || *viewed != a->event_manager_id) {
      view = lookup_(a->event_manager_id.str());
      viewed = &a->event_manager_id;
    }
    if (view && http::active_alerts::may_inhibit(view->inhibit_rules, *a))
      source_resolved_ = true;
  }
}

void worker::fan_out(domain::time_point now) {
  auto entries = store_->unfanned(settings_.batch);
  if (!entries) {
    LOG_ERROR("delivery: reading the outbox failed, will retry: "
              << message_of(entries.error()));
    backlog_ = false; // at the next poll, not in a loop of failures
    return;
  }
  backlog_ = entries->size() >= settings_.batch;
  forget_past_streaks();
  if (entries->empty())
    return;
  std::vector<std::string> ids;
  std::vector<domain::delivery> rows;
  active_round active;
  active.sources_only = true;
  // Managers whose entries wait for a check: their later ones wait too,
  // so that nothing of theirs overtakes what waits. Others go on.
  std::set<std::string> waiting;
  // A batch is mostly one manager's: its view (receivers, silences) is
  // looked up once per run of its entries, not copied for each.
  const std::string* viewed = nullptr;
  std::optional<manager_view> view;
  for (auto& shared : *entries) {
    auto& entry = *shared;
    if (waiting.count(entry.event_manager_id) > 0)
      continue;
    ids.push_back(entry.env.notification_id);
    if (viewed == nullptr || *viewed != entry.event_manager_id) {
      view = lookup_(entry.event_manager_id);
      viewed = &entry.event_manager_id;
    }
    if (!view)
      continue; // the manager is gone: nobody to tell
    if (entry.env.kind == domain::notification_kind::parent_opened)
      // A newer opening of the parent replaces one still held.
      held_.erase(
          held_key{entry.event_manager_id, entry.env.parent->dedup_key.str()});
    if (view->receivers.empty())
      continue; // nobody to tell: no silences to look up
    auto group = group_of(*entry.env.parent);
    // Checked once, at fan-out: a silence that starts later does not
    // recall what is already on its way.
    std::vector<std::string> inhibitors;
    bool unchecked = false;
    auto silences =
        muted_by(*view, *entry.env.parent, active, inhibitors, unchecked);
    // A silenced one is held anyway, and its release checks inhibition.
    if (unchecked && silences.empty() &&
        wait_unchecked(entry.event_manager_id)) {
      ids.pop_back(); // stays in the outbox for a later fan-out
      waiting.insert(entry.event_manager_id);
      continue;
    }
    auto muted = !silences.empty() || !inhibitors.empty();
    for (auto& r : view->receivers) {
      if (!r.wants(entry.env.kind))
        continue;
      if (entry.env.kind == domain::notification_kind::child_added &&
          !domain::admit(child_rates_[r.name + '\n' + entry.event_manager_id +
                                      '\n' + group],
                         r.child_added_per_minute, now))
        continue;
      auto row = domain::make_delivery(entry.env.notification_id, r.name,
                                       entry.event_manager_id, group,
                                       entry.env.kind, now);
      row.seq = entry.seq;
      if (muted) {
        domain::suppress(row, silences, inhibitors);
        if (entry.env.kind == domain::notification_kind::parent_opened) {
          held_[held_key{entry.event_manager_id,
                         entry.env.parent->dedup_key.str()}] =
              held_opening{entry.env.notification_id, entry.env.parent->id};
          note_held_until(*view, silences, inhibitors, now);
        }
      }
      rows.push_back(std::move(row));
    }
  }
  if (ids.empty()) {
    // Every entry read waits: read again at the next poll, not in a loop.
    // (While some went out, a full batch still reads the next at once.)
    backlog_ = false;
    return;
  }
  if (auto err = store_->fan_out(ids, rows)) {
    LOG_ERROR(
        "delivery: storing deliveries failed, will retry: " << message_of(err));
    backlog_ = false; // at the next poll, not in a loop of failures
  }
}

void worker::note_held_until(const manager_view& view,
                             const std::vector<std::string>& silences,
                             const std::vector<std::string>& inhibitors,
                             domain::time_point now) {
  if (silences.empty() || !inhibitors.empty() || !view.silenced_until)
    return;
  auto until = view.silenced_until(silences);
  if (until > now) // a silence the view no longer knows gives no time
    held_until_ = std::min(held_until_, until);
}

std::vector<std::string> worker::muted_by(const manager_view& view,
                                          const domain::alert& parent,
                                          active_round& active,
                                          std::vector<std::string>& inhibitors,
                                          bool& unchecked) {
  auto silences =
      view.silenced_by ? view.silenced_by(parent) : std::vector<std::string>{};
  inhibitors.clear();
  if (!alerts_.active ||
      !http::active_alerts::may_be_inhibited(view.inhibit_rules, parent))
    return silences;
  if (auto* alerts = active_of(parent.event_manager_id.str(), view, active))
    inhibitors = alerts->inhibitors_of(parent);
  else
    unchecked = true;
  return silences;
}

void worker::forget_past_streaks() {
  auto now = unchecked_streak::clock::now();
  auto quiet = std::max<std::chrono::milliseconds>(settings_.unchecked_wait,
                                                   2 * settings_.poll_interval);
  for (auto it = unchecked_.begin(); it != unchecked_.end();)
    it = now - it->second.last_failure > quiet ? unchecked_.erase(it)
                                               : std::next(it);
}

bool worker::wait_unchecked(const std::string& manager) {
  auto& streak = unchecked_[manager]; // made by the failed read
  auto now = unchecked_streak::clock::now();
  if (now - streak.since < settings_.unchecked_wait)
    return true;
  if (!streak.told) {
    streak.told = true;
    LOG_ERROR("delivery: the inhibition sources of "
              << manager << " could not be read for "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                     now - streak.since)
                     .count()
              << " ms; its notifications go out unchecked until they can");
  }
  return false;
}

const http::active_alerts* worker::active_of(const std::string& manager,
                                             const manager_view& view,
                                             active_round& round) {
  if (auto it = round.managers.find(manager); it != round.managers.end())
    return it->second.get();
  if (round.failed.count(manager) > 0)
    return nullptr;
  // A fan-out's streak of failures: read again a poll interval after the
  // last failed read ended.
  auto streak =
      round.sources_only ? unchecked_.find(manager) : unchecked_.end();
  if (streak != unchecked_.end() &&
      unchecked_streak::clock::now() - streak->second.last_failure <
          settings_.poll_interval) {
    round.failed.insert(manager);
    return nullptr;
  }
  auto found = round.sources_only && alerts_.sources
                   ? alerts_.sources(manager, view.inhibit_rules)
                   : alerts_.active(manager);
  if (!found) {
    round.failed.insert(manager);
    if (!round.sources_only) {
      LOG_WARNING("delivery: reading the active alerts of "
                  << manager
                  << " failed, will retry: " << message_of(found.error()));
      return nullptr;
    }
    auto ended = unchecked_streak::clock::now();
    if (streak == unchecked_.end()) {
      LOG_WARNING("delivery: reading the inhibition sources of "
                  << manager << " failed (tried again each poll interval): "
                  << message_of(found.error()));
      streak = unchecked_.emplace(manager, unchecked_streak{ended}).first;
    }
    streak->second.last_failure = ended;
    return nullptr;
  }
  if (streak != unchecked_.end())
    unchecked_.erase(streak);
  auto made = std::make_unique<const http::active_alerts>(view.inhibit_rules,
                                                          std::move(*found));
  return round.managers.emplace(manager, std::move(made)).first->second.get();
}

void worker::load_held() {
  if (held_loaded_)
    return;
  auto held = store_->held_openings();
  if (!held) {
    LOG_WARNING("delivery: reading held openings failed, will retry: "
                << message_of(held.error()));
    return;
  }
  held_loaded_ = true;
  // Newest first: a parent's newest held opening is the one kept.
  for (auto& entry : *held)
    held_.try_emplace(
        held_key{entry.event_manager_id, entry.env.parent->dedup_key.str()},
        held_opening{entry.env.notification_id, entry.env.parent->id});
}

void worker::review(domain::time_point now) {
  // This look finds what holds the openings now.
  held_until_ = never;
  source_resolved_ = false;
  if (!alerts_.active || !alerts_.add)
    return;
  load_held();
  active_round active;
  // Held openings are in manager order: each manager is looked up once.
  std::string viewed;
  std::optional<manager_view> view;
  for (auto it = held_.begin(); it != held_.end();) {
    auto& [manager, dedup_key] = it->first;
    auto& h = it->second;
    if (!view || viewed != manager) {
      view = lookup_(manager);
      viewed = manager;
    }
    if (!view) {
      it = held_.erase(it); // the manager is gone: nobody to tell
      continue;
    }
    auto* alerts = active_of(manager, *view, active);
    if (alerts == nullptr)
      return; // the next review tries again
    auto* current = alerts->find(dedup_key);
    if (current == nullptr || current->id != h.alert_id) {
      // Resolved while muted: its opening is never sent (its resolution
      // went through fan-out like any other notification).
      it = held_.erase(it);
      continue;
    }
    std::vector<std::string> inhibitors;
    // Cannot be set here (the manager's alerts were read just above), but
    // an unchecked opening would stay held.
    bool unchecked = false;
    auto silences = muted_by(*view, *current, active, inhibitors, unchecked);
    if (unchecked || !silences.empty() || !inhibitors.empty()) {
      note_held_until(*view, silences, inhibitors, now);
      ++it;
      continue;
    }
    auto released = released_id(h.notification_id);
    auto stored = store_->entry(released);
    if (!stored && code_of(stored.error()) != ec::not_found) {
      ++it; // the store failed: try again at the next review
      continue;
    }
    if (!stored) {
      domain::notification n;
      n.id = released;
      n.kind = domain::notification_kind::parent_opened;
      n.parent = *current;
      n.at = now;
      n.active_children = alerts->active_children(dedup_key);
      LOG_INFO("delivery: " << manager << "/" << dedup_key
                            << " is no longer muted: its opening goes out as "
                            << released);
      alerts_.add(std::move(n));
    }
    it = held_.erase(it);
  }
}

void worker::reload() {
  auto rows = store_->pending(settings_.batch);
  if (!rows) {
    LOG_ERROR("delivery: reading pending deliveries failed, will retry: "
              << message_of(rows.error()));
    return;
  }
  backlog_ = backlog_ || rows->size() >= settings_.batch;
  pending_ = std::move(*rows);
}

void worker::expire_waiting(domain::time_point now) {
  auto busy = dispatch_.busy;
  for (auto& d : pending_) {
    if (busy.count(domain::lane_of(d)) > 0)
      continue;
    if (domain::expire(d, settings_.retry, now)) {
      failed_.fetch_add(1);
      LOG_WARNING("delivery: notification " << d.notification_id << " to "
                                            << d.receiver
                                            << " failed: " << d.last_error);
      store_row(d);
      settled(d);
    }
  }
}

void worker::dispatch(domain::time_point now) {
  for (auto i : domain::pick(dispatch_, pending_, settings_.limits, now))
    send(pending_[i], now);
  pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                [](auto& d) {
                                  return d.state !=
                                         domain::delivery_state::pending;
                                }),
                 pending_.end());
}

std::optional<domain::receiver> worker::receiver_of(const domain::delivery& d,
                                                    std::string& manager_name) {
  auto view = lookup_(d.event_manager_id);
  if (!view)
    return std::nullopt;
  manager_name = view->name;
  for (auto& r : view->receivers)
    if (r.name == d.receiver)
      return r;
  return std::nullopt;
}

void worker::send(const domain::delivery& d, domain::time_point now) {
  std::string manager_name;
  auto r = receiver_of(d, manager_name);
  auto entry = store_->entry(d.notification_id);
  if (!entry && code_of(entry.error()) != ec::not_found) {
    // The store failed (e.g. busy): count it as a failed attempt, so the
    // delivery is tried again after a backoff instead of being dropped.
    auto token = next_token_++;
    in_flight_.emplace(token, in_flight{d, 0});
    domain::attempt_result failed;
    failed.error = message_of(entry.error());
    complete(token, failed, now);
    return;
  }
  if (!r || !entry) {
    // The receiver (or its manager, or the notification) is gone: nobody
    // to send to. That is final, and said so in the dead letter.
    auto row = d;
    row.state = domain::delivery_state::failed;
    row.last_error = !r ? "receiver removed from its event manager"
                        : message_of(entry.error());
    row.updated_at = now;
    domain::finish(dispatch_, row, domain::verdict::permanent,
                   settings_.breaker, now);
    failed_.fetch_add(1);
    store_row(row);
    settled(row);
    return;
  }
  auto env = std::move(entry->env);
  env.manager_name = manager_name;
  env.external_url = settings_.external_url;
  auto unix_now =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch())
          .count();
  auto req = make_request(*r, env, unix_now);
  req.token = next_token_++;
  in_flight_.emplace(req.token, in_flight{d, r->timeout_ms});
  attempts_.fetch_add(1);
  sender_->submit(std::move(req));
}

void worker::complete(uint64_t token, const domain::attempt_result& r,
                      domain::time_point now) {
  auto it = in_flight_.find(token);
  if (it == in_flight_.end())
    return;
  auto row = std::move(it->second.row);
  auto timeout_ms = it->second.timeout_ms;
  in_flight_.erase(it);
  auto v = domain::record_attempt(row, r, timeout_ms, settings_.retry,
                                  jitter_(), now);
  domain::finish(dispatch_, row, v, settings_.breaker, now);
  if (row.state == domain::delivery_state::delivered)
    delivered_.fetch_add(1);
  else if (row.state == domain::delivery_state::failed) {
    failed_.fetch_add(1);
    LOG_WARNING("delivery: notification " << row.notification_id << " to "
                                          << row.receiver
                                          << " failed: " << row.last_error);
  }
  store_row(row);
  if (row.state != domain::delivery_state::pending)
    settled(row);
}

void worker::settled(const domain::delivery& d) {
  if (settings_.on_settled)
    settings_.on_settled(d);
}

void worker::store_row(const domain::delivery& d) {
  if (auto err = store_->update({d}))
    LOG_ERROR("delivery: storing the outcome of "
              << d.notification_id << " failed: " << message_of(err));
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](auto& p) { return same_row(p, d); });
  if (it != pending_.end())
    *it = d;
  else if (d.state == domain::delivery_state::pending)
    pending_.push_back(d);
}

} // namespace argus::delivery
