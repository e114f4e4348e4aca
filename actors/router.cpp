#include "actors/router.hpp"

#include "actors/grouping.hpp"
#include "config/log.hpp"
#include "domain/cluster.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <map>
#include <unordered_set>

namespace argus::actors {

domain::group_key group_key(std::string_view manager_id, bool has_value,
                            std::string_view value) {
  return {manager_id, has_value, has_value ? value : std::string_view{}};
}

namespace {

using self_ptr = router_actor::stateful_pointer<router_state>;

domain::alert_key alert_of(const domain::event& e) {
  return {e.event_manager_id, e.dedup_key};
}

/// A group as logs name it.
std::string describe(const domain::group_key_ref& key) {
  std::string out = "'" + std::string{key.event_manager_id} + "'";
  if (key.has_value)
    out.append(" = '").append(key.value).append("'");
  else
    out += " (no value)";
  return out;
}

struct router_env {
  repository_actor repository;
  context_ptr ctx;
};

using entry_ptr = router_state::entry_ptr;

/// Manager `id` as a shared text: consecutive new groups of one manager
/// share one block.
const domain::shared_text& manager_text(router_state& st, std::string_view id) {
  if (st.last_manager != id)
    st.last_manager = domain::shared_text{id};
  return st.last_manager;
}

/// The live group of `key`, spawned (with `make_initial(its key)`'s state)
/// if there is none. The state is only built when a group is spawned.
/// The reference is valid until the group map next changes.
template <class MakeInitial>
const entry_ptr& group_for(self_ptr self, const router_env& env,
                           domain::group_key_ref key,
                           MakeInitial make_initial) {
  auto& groups = self->state.groups;
  // Hashed once for the lookup and, for a new group, the insert: the key's
  // two texts were hashed twice per new group.
  auto hash = std::hash<domain::group_key_ref>{}(key);
  if (auto* found = groups.find(key, hash))
    return found->value;
  auto entry = std::make_shared<router_state::group_entry>();
  entry->key = {manager_text(self->state, key.event_manager_id), key.has_value,
                domain::shared_text{key.value}};
  auto initial = make_initial(entry->key);
  auto router = caf::actor_cast<router_actor>(self);
  entry->handle = spawn_grouping(self->system(), entry->key, std::move(initial),
                                 router, env.repository, env.ctx);
  env.ctx->stats->groups_live.fetch_add(1, std::memory_order_relaxed);
  // Keyed by views of the entry's own key, not of `key`'s texts.
  domain::group_key_ref own_key{entry->key}; // equal to `key`: same hash
  auto* added = groups.try_emplace(own_key, hash).first;
  added->value = std::move(entry);
  return added->value;
}

using group_slot = decltype(router_state::groups)::entry;

/// Marks a stopped, failed or released group gone: index entries that
/// still point to it route afresh.
void mark_gone(router_state::group_entry& entry) {
  entry.live = false;
  entry.outbox = {};
}

/// Forgets group `slot` (stopped, failed or released).
void drop_group(self_ptr self, group_slot* slot) {
  mark_gone(*slot->value);
  self->state.groups.erase(slot);
}

/// Stages an event for its group; one flush per burst sends each group its
/// events as one message.
void forward(self_ptr self, const entry_ptr& entry,
             router_state::index_entry& index, domain::event& e, bool fresh) {
  index.last_forwarded = ++entry->sent;
  auto& st = self->state;
  if (entry->outbox.empty()) {
    st.staged_groups.push_back(entry);
    entry->outbox_hint.reserve(entry->outbox);
  }
  entry->outbox.emplace_back(std::move(e), fresh);
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, atom::flush::value);
  }
}

void flush_staged(self_ptr self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  for (auto& entry : st.staged_groups) {
    if (!entry->live || entry->outbox.empty())
      continue;
    entry->outbox_hint.remember(entry->outbox.size());
    self->send(entry->handle, atom::apply::value, std::move(entry->outbox));
    entry->outbox = {};
  }
  st.staged_groups.clear();
}

/// Routes a trigger with no active alert by its grouping value; `index` is
/// its (new) dedupKey index entry.
void route_fresh(self_ptr self, const router_env& env,
                 router_state::index_entry& index, domain::event& e) {
  domain::group_key_ref key{e.event_manager_id, e.has_grouping_value,
                            e.grouping_value};
  auto& entry = group_for(self, env, key, [](const domain::group_key& own) {
    // The group's state shares the key's texts, and so do its alerts.
    domain::group_state initial;
    initial.event_manager_id = own.event_manager_id;
    initial.has_value = own.has_value;
    initial.grouping_value = own.value;
    return initial;
  });
  index.group = entry;
  forward(self, entry, index, e, true);
}

/// Tells the repository a journaled event needs no further work.
void complete(self_ptr self, const router_env& env, uint64_t seq) {
  if (seq != 0)
    self->send(env.repository, atom::write::value,
               std::vector<domain::alert_write>{},
               std::vector<domain::notification>{}, std::vector<uint64_t>{seq});
}

/// Whether a replayed event was applied before the crash.
bool applied_before(self_ptr self, const domain::event& e) {
  auto& guard = self->state.replay_guard;
  if (e.seq == 0 || guard.empty())
    return false;
  auto it = guard.find(alert_of(e));
  return it != guard.end() && e.seq <= it->second;
}

void route(self_ptr self, const router_env& env, domain::event& e) {
  auto& st = self->state;
  if (applied_before(self, e)) {
    env.ctx->stats->events_applied.fetch_add(1, std::memory_order_relaxed);
    complete(self, env, e.seq);
    return;
  }
  // Hashed once here (or a few events ahead, by the batch's prefetch) for
  // the index below and the group's set of alerts.
  e.dedup_hash = domain::dedup_hash_of(e);
  // One lookup for both outcomes: most events are fresh triggers, which
  // need the entry inserted anyway.
  auto [idx, added] =
      st.active.try_emplace(e.event_manager_id, e.dedup_key, e.dedup_hash);
  if (!added && idx->value.group && idx->value.group->live) {
    forward(self, idx->value.group, idx->value, e, false);
    return;
  }
  // New, or its group is gone (crashed): a trigger starts afresh.
  if (e.act == domain::action::trigger) {
    idx->value = {};
    route_fresh(self, env, idx->value, e);
    return;
  }
  // Only a trigger opens an alert; a resolve or (un)acknowledge for a
  // dedupKey no group holds has nothing to act on.
  st.active.erase(e.event_manager_id, idx);
  env.ctx->stats->events_ignored.fetch_add(1, std::memory_order_relaxed);
  env.ctx->stats->events_applied.fetch_add(1, std::memory_order_relaxed);
  complete(self, env, e.seq);
  LOG_INFO(to_string(e.act)
           << " for unknown or resolved dedupKey '" << e.dedup_key
           << "' of manager '" << e.event_manager_id << "' ignored");
}

/// Spawns the groups that persisted open work implies.
void restore(self_ptr self, const router_env& env,
             const std::vector<domain::alert>& alerts) {
  std::map<domain::group_key, std::vector<domain::alert>> by_group;
  for (auto& a : alerts)
    by_group[group_key(a.event_manager_id, a.has_grouping_value,
                       a.grouping_value)]
        .push_back(a);
  for (auto& [key, members] : by_group) {
    auto g = domain::restore_group(key.event_manager_id, key.has_value,
                                   key.value, members);
    if (domain::is_idle(g))
      continue;
    // Copies, not the alerts' blocks: see alert_key_map.
    std::vector<domain::shared_text> dedups;
    dedups.reserve(g.active.size());
    for (auto& a : g.active)
      dedups.emplace_back(a->dedup_key.view());
    auto& entry =
        group_for(self, env, key, [&g](auto&) { return std::move(g); });
    for (auto& dedup : dedups)
      self->state.active.try_emplace(key.event_manager_id, dedup)
          .first->value.group = entry;
  }
}

/// Stops the groups `self_id` does not own among `live` and forgets their
/// dedupKeys. They were drained first, so the store holds their state.
void release(self_ptr self, const context& ctx,
             const std::vector<std::string>& live, const std::string& self_id) {
  auto& st = self->state;
  size_t gone = 0;
  st.groups.erase_if([&](group_slot& slot) {
    auto& entry = *slot.value;
    auto& key = entry.key;
    if (domain::group_owner(live, key.event_manager_id, key.has_value,
                            key.value) == self_id)
      return false;
    self->send(entry.handle, atom::stop::value);
    mark_gone(entry);
    ++gone;
    return true;
  });
  if (gone == 0)
    return;
  ctx.stats->groups_live.fetch_sub(static_cast<int64_t>(gone),
                                   std::memory_order_relaxed);
  st.active.erase_if(
      [](auto& e) { return !e.value.group || !e.value.group->live; });
  LOG_INFO("cluster: released " << gone << " groups to their new owners");
}

/// One drain of every group the router had when it was asked.
struct drain_run {
  std::vector<grouping_actor> groups;
  size_t next = 0;
  size_t in_flight = 0;
  caf::typed_response_promise<atom::ok> rp;
};

/// Asks the next groups of `run` to drain, at most `drain_in_flight` at a
/// time, and answers once every group has. Bounded because CAF 0.17 keeps
/// an actor's pending requests in a flat vector: a request to each of
/// 100,000 groups at once made every answer an O(n) erase, and a node's
/// shutdown drain took seconds.
void drain_next(self_ptr self, const std::shared_ptr<drain_run>& run) {
  while (run->next < run->groups.size() && run->in_flight < drain_in_flight) {
    auto& group = run->groups[run->next++];
    ++run->in_flight;
    auto done = [self, run] {
      --run->in_flight;
      drain_next(self, run);
    };
    self->request(group, std::chrono::seconds{30}, atom::drain::value)
        .then([done](atom::ok) { done(); },
              // A group that died has nothing left to drain.
              [done](caf::error&) { done(); });
  }
  if (run->in_flight == 0 && run->next == run->groups.size() &&
      run->rp.pending())
    run->rp.deliver(atom::ok::value);
}

} // namespace

router_actor::behavior_type
router(router_actor::stateful_pointer<router_state> self,
       repository_actor repository, context_ptr ctx) {
  router_env env{std::move(repository), ctx};
  // Groups are not linked to their router (a failing group must not take
  // the router down), so the router stops them when it is told to exit.
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& slot : self->state.groups)
      self->send_exit(slot.value->handle, em.reason);
    self->state.groups.clear();
    self->quit(em.reason);
  });
  return {
      [=](atom::apply, domain::event& e) { route(self, env, e); },
      [=](atom::apply, std::vector<domain::event>& events) {
        auto& active = self->state.active;
        for (size_t i = 0; i < events.size(); ++i) {
          if (i + domain::prefetch_distance < events.size()) {
            auto& ahead = events[i + domain::prefetch_distance];
            ahead.dedup_hash = domain::text_hash(ahead.dedup_key);
            active.prefetch_hash(ahead.event_manager_id, ahead.dedup_hash);
          }
          route(self, env, events[i]);
        }
      },
      [=](atom::flush) { flush_staged(self); },
      [=](atom::deactivate, const domain::group_key& key,
          const std::vector<std::string>& dedup_keys, uint64_t received) {
        auto& active = self->state.active;
        for (auto& dedup : dedup_keys) {
          auto* it = active.find(key.event_manager_id, dedup);
          if (it != nullptr && it->value.group && it->value.group->key == key &&
              it->value.last_forwarded <= received)
            active.erase(key.event_manager_id, it);
        }
      },
      [=](atom::reactivate, const domain::group_key& key,
          const std::string& dedup) {
        auto& st = self->state;
        domain::alert_key akey{key.event_manager_id, dedup};
        if (auto* g = st.groups.find(key))
          st.active[akey].group = g->value;
        else
          st.active.erase(akey); // its group is gone: routes afresh
      },
      [=](atom::reroute, const domain::group_key& key, domain::event& e) {
        // The sender does not hold the key: never send it back there.
        auto& active = self->state.active;
        auto* it = active.find(e.event_manager_id, e.dedup_key,
                               domain::dedup_hash_of(e));
        if (it != nullptr && it->value.group && it->value.group->key == key)
          active.erase(e.event_manager_id, it);
        route(self, env, e);
      },
      [=](atom::idle, const domain::group_key& key, uint64_t received) {
        auto* it = self->state.groups.find(key);
        if (it == nullptr || it->value->sent != received)
          return; // events are still in flight to it; it will report again
        self->send(it->value->handle, atom::stop::value);
        drop_group(self, it);
        ctx->stats->groups_live.fetch_sub(1, std::memory_order_relaxed);
      },
      [=](atom::failed, const domain::group_key& key,
          const caf::error& reason) {
        auto* it = self->state.groups.find(key);
        // Gone already, or the key has a newer group (the failed one was
        // retired as idle first).
        if (it == nullptr || caf::actor_cast<caf::strong_actor_ptr>(
                                 it->value->handle) != self->current_sender())
          return;
        LOG_ERROR("grouping actor of " << describe(it->key)
                                       << " ended: " << to_string(reason));
        drop_group(self, it);
        ctx->stats->groups_live.fetch_sub(1, std::memory_order_relaxed);
      },
      [=](atom::restore, const std::vector<domain::alert>& alerts,
          const std::vector<domain::alert>& recent) {
        restore(self, env, alerts);
        for (auto& a : recent)
          self->state.replay_guard[domain::alert_key{a.event_manager_id,
                                                     a.dedup_key}] = a.last_seq;
        return atom::ok::value;
      },
      [=](atom::get, const std::vector<domain::alert_key>& keys) {
        std::vector<domain::alert_location> out(keys.size());
        auto& st = self->state;
        for (size_t i = 0; i < keys.size(); ++i) {
          auto* idx = st.active.find(keys[i]);
          if (idx == nullptr)
            continue;
          if (auto& g = idx->value.group; g && g->live)
            out[i] = {true, g->key};
        }
        return out;
      },
      [=](atom::release, const std::vector<std::string>& live,
          const std::string& self_id) {
        flush_staged(self);
        release(self, *ctx, live, self_id);
        return atom::ok::value;
      },
      [=](atom::replayed) {
        self->state.replay_guard = {}; // frees its memory too
      },
      [=](atom::drain) -> caf::typed_response_promise<atom::ok> {
        flush_staged(self); // staged events go ahead of the drain request
        auto run = std::make_shared<drain_run>();
        run->rp = self->make_response_promise<atom::ok>();
        run->groups.reserve(self->state.groups.size());
        for (auto& slot : self->state.groups)
          run->groups.push_back(slot.value->handle);
        drain_next(self, run);
        return run->rp;
      },
      [=](atom::count) {
        return static_cast<uint64_t>(self->state.groups.size());
      },
  };
}

} // namespace argus::actors
