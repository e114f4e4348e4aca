#include "actors/repository.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"
#include "domain/group_list.hpp"
#include "domain/inhibition.hpp"
#include "http/active_alerts.hpp"
#include "http/silence_json.hpp"

#include <algorithm>

namespace argus::actors {

namespace {

using self_ptr = repository_actor::stateful_pointer<repository_state>;
using alerts = std::vector<domain::alert>;

/// Whether anything received is not written yet.
bool has_unflushed(const repository_state& st) {
  return !st.pending.empty() || !st.notes.empty() || !st.completed.empty() ||
         st.applied_through != st.persisted_through;
}

/// Writes what is pending in one transaction. On failure the changes stay
/// pending and are retried: accepted data is never dropped.
caf::error flush_now(self_ptr self, const context& ctx) {
  auto& st = self->state;
  if (!has_unflushed(st))
    return {};
  auto start = std::chrono::steady_clock::now();
  auto err =
      st.settings.journal_id.empty()
          ? st.store->write(st.pending, st.notes, st.applied_through)
          : st.store->write_completing(st.pending, st.notes,
                                       st.settings.journal_id, st.completed);
  ctx.registry->store_write(
      st.pending.size(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  st.last_flush_end = self->clock().now();
  if (err) {
    ctx.stats->store_errors.fetch_add(1, std::memory_order_relaxed);
    LOG_ERROR("writing " << st.pending.size()
                         << " alert changes failed, will retry: "
                         << message_of(err));
    return err;
  }
  ctx.stats->writes_stored.fetch_add(st.pending.size(),
                                     std::memory_order_relaxed);
  if (st.settings.on_stored)
    st.settings.on_stored(st.pending);
  st.pending.clear();
  st.completed.clear();
  if (!st.notes.empty()) {
    auto notes = std::move(st.notes);
    st.notes = {};
    if (st.settings.on_notified)
      st.settings.on_notified(std::move(notes));
  }
  if (st.applied_through != st.persisted_through) {
    st.persisted_through = st.applied_through;
    if (st.settings.on_persisted)
      st.settings.on_persisted(st.store->durable_through(st.persisted_through));
  }
  return {};
}

/// Advances the high-water mark over the contiguous applied events.
void mark_applied(self_ptr self, const std::vector<uint64_t>& seqs) {
  auto& st = self->state;
  for (auto seq : seqs)
    if (seq > st.applied_through)
      st.applied_above.insert(seq);
  auto it = st.applied_above.begin();
  while (it != st.applied_above.end() && *it == st.applied_through + 1) {
    ++st.applied_through;
    it = st.applied_above.erase(it);
  }
}

/// How long pending changes wait: what is left of the flush interval since
/// the last write ended (nothing, when it ended longer ago than that). Timed
/// from the end, not the start, so a busy node's transactions stay as large
/// as with a plain timer: with the start, durable single events on SQLite
/// lost about a fifth of their rate to more, smaller transactions.
/// Notifications do not wait: a page is what a user waits for, while alert
/// changes alone only wait for company. Most events open or resolve no
/// parent, so the batches of a busy node stay as large; while every event
/// opens a group, transactions are as small as the store's pace allows.
domain::duration wait_before_flush(self_ptr self) {
  auto& st = self->state;
  if (!st.last_flush_end || !st.notes.empty())
    return domain::duration::zero();
  auto since = self->clock().now() - *st.last_flush_end;
  if (since >= st.settings.flush_interval)
    return domain::duration::zero();
  return std::chrono::duration_cast<domain::duration>(
      st.settings.flush_interval - since);
}

/// Arms the flush timer unless one fires sooner. A later tick is made
/// stale by the new token.
void arm_timer(self_ptr self, domain::duration delay) {
  auto& st = self->state;
  auto due = self->clock().now() + delay;
  if (st.timer_due && *st.timer_due <= due)
    return;
  st.timer_due = due;
  // A zero delay still goes through the mailbox: the tick queues behind
  // the writes that are already there, and they share its transaction.
  if (delay == domain::duration::zero())
    self->send(self, atom::tick::value, ++st.timer_token);
  else
    self->delayed_send(self, delay, atom::tick::value, ++st.timer_token);
}

/// Runs a read after flushing, so it sees every change received so far.
template <class Query>
auto read(self_ptr self, const context& ctx, Query query)
    -> caf::result<typename decltype(query(*self->state.store))::value_type> {
  if (auto err = flush_now(self, ctx))
    return err;
  auto result = query(*self->state.store);
  if (!result)
    return std::move(result.error());
  return std::move(*result);
}

/// Writes what is pending; on failure backs off (the writes are retried
/// after a pause, notifications or not). Whether it was written.
bool flush_or_back_off(self_ptr self, const context& ctx) {
  auto& st = self->state;
  st.backing_off = static_cast<bool>(flush_now(self, ctx));
  if (st.backing_off)
    arm_timer(self, std::chrono::milliseconds{500});
  return !st.backing_off;
}

/// One step of a retention pass over the alerts: whether the pass goes on
/// (with the outbox, once the alerts are done).
bool drop_alerts_past_retention(self_ptr self, const context& ctx,
                                domain::time_point cutoff) {
  auto& st = self->state;
  auto dropped = st.store->drop_resolved(cutoff, st.settings.batch_size);
  if (!dropped) {
    ctx.stats->store_errors.fetch_add(1, std::memory_order_relaxed);
    LOG_WARNING("deleting resolved alerts past retention failed, will retry: "
                << message_of(dropped.error()));
    return false;
  }
  if (dropped->alerts > 0) {
    ctx.registry->alerts_dropped(dropped->alerts);
    LOG_INFO("deleted " << dropped->alerts << " alerts resolved before "
                        << domain::to_rfc3339(cutoff));
  }
  if (!dropped->more)
    st.outbox_after = 0;
  return true;
}

/// One step of a retention pass over the outbox: whether it goes on.
bool drop_notifications_past_retention(self_ptr self, const context& ctx,
                                       domain::time_point cutoff) {
  auto& st = self->state;
  auto dropped = st.store->drop_notifications(
      cutoff, *st.outbox_after,
      domain::retention::notifications_per_step(st.settings.batch_size));
  if (!dropped) {
    ctx.stats->store_errors.fetch_add(1, std::memory_order_relaxed);
    LOG_WARNING("deleting notifications past retention failed, will retry: "
                << message_of(dropped.error()));
    st.outbox_after.reset();
    return false;
  }
  if (dropped->notifications > 0) {
    ctx.registry->notifications_dropped(dropped->notifications);
    LOG_INFO("deleted " << dropped->notifications
                        << " notifications of alerts past retention");
  }
  if (!dropped->more) {
    st.outbox_after.reset();
    return false;
  }
  st.outbox_after = dropped->last_seq;
  return true;
}

/// Deletes one step of what is past retention, after writing what is
/// pending (a re-trigger queued for an old resolved alert makes it active,
/// and so keeps it): the resolved alerts first, then the notifications of
/// the parents deleted. When the next step is due.
domain::duration drop_past_retention(self_ptr self, const context& ctx) {
  auto& st = self->state;
  auto next = st.settings.retention.interval();
  // A failing store is left to its back-off; deleting can wait a round.
  if (st.backing_off)
    return next;
  if (!flush_or_back_off(self, ctx))
    return next;
  if (!st.retention_cutoff)
    st.retention_cutoff = st.settings.retention.cutoff(ctx.now());
  auto cutoff = *st.retention_cutoff;
  auto more = st.outbox_after
                  ? drop_notifications_past_retention(self, ctx, cutoff)
                  : drop_alerts_past_retention(self, ctx, cutoff);
  // More left: the next step right after the writes queued meanwhile.
  if (more)
    return domain::duration::zero();
  st.retention_cutoff.reset();
  return next;
}

void schedule_retention(self_ptr self, domain::duration delay) {
  if (delay == domain::duration::zero())
    self->send(self, atom::expire::value);
  else
    self->delayed_send(self, delay, atom::expire::value);
}

caf::result<atom::ok> done(caf::error err) {
  if (err)
    return err;
  return atom::ok::value;
}

} // namespace

repository_actor::behavior_type
repository(repository_actor::stateful_pointer<repository_state> self,
           std::shared_ptr<storage::store> store, repository_settings settings,
           context_ptr ctx) {
  self->state.store = std::move(store);
  self->state.settings = settings;
  self->state.applied_through = settings.applied_through;
  self->state.persisted_through = settings.applied_through;
  // The first look soon after a start, so a node restarted more often
  // than the interval still deletes.
  if (settings.retention.enabled())
    schedule_retention(self,
                       std::min<domain::duration>(settings.retention.interval(),
                                                  std::chrono::minutes{1}));
  return {
      [=](atom::write, std::vector<domain::alert_write>& writes,
          std::vector<domain::notification>& notes,
          const std::vector<uint64_t>& seqs) {
        auto& st = self->state;
        st.notes.insert(st.notes.end(), std::make_move_iterator(notes.begin()),
                        std::make_move_iterator(notes.end()));
        if (st.settings.journal_id.empty())
          mark_applied(self, seqs);
        else
          st.completed.insert(st.completed.end(), seqs.begin(), seqs.end());
        if (st.pending.empty())
          st.pending = std::move(writes);
        else
          st.pending.insert(st.pending.end(),
                            std::make_move_iterator(writes.begin()),
                            std::make_move_iterator(writes.end()));
        if (st.pending.size() >= st.settings.batch_size)
          flush_now(self, *ctx);
        if (has_unflushed(st) && !st.backing_off)
          arm_timer(self, wait_before_flush(self));
      },
      [=](atom::tick, uint64_t token) {
        auto& st = self->state;
        if (token != st.timer_token)
          return;
        st.timer_due.reset();
        if (flush_or_back_off(self, *ctx) && has_unflushed(st))
          arm_timer(self, wait_before_flush(self));
      },
      [=](atom::expire) {
        schedule_retention(self, drop_past_retention(self, *ctx));
      },
      [=](atom::flush) { return done(flush_now(self, *ctx)); },
      [=](atom::list,
          const domain::alert_filter& filter) -> caf::result<alerts> {
        return read(self, *ctx,
                    [&](storage::store& db) { return db.list(filter); });
      },
      [=](atom::list, const std::string& manager_id,
          const std::vector<domain::inhibit_rule>& rules)
          -> caf::result<alerts> {
        return read(self, *ctx, [&](storage::store& db) {
          return db.active_where(manager_id, domain::source_filter(rules),
                                 [&](const domain::alert& a) {
                                   return http::active_alerts::may_inhibit(
                                       rules, a);
                                 });
        });
      },
      [=](atom::list, const domain::group_query& q,
          const std::map<std::string, domain::silence>& silences,
          domain::time_point now) -> caf::result<domain::alert_page> {
        domain::group_filter selects{q, [&](const domain::alert& parent) {
                                       return http::is_silenced(silences,
                                                                parent, now);
                                     }};
        domain::alert_filter parents{q.event_manager_id, "active", "parent",
                                     q.limit, q.offset};
        // A selection of every open group is read as a page and a count:
        // no other parent is read.
        auto keep = selects.narrows() ? storage::store::alert_check{selects}
                                      : storage::store::alert_check{};
        return read(self, *ctx, [&](storage::store& db) {
          return db.list_where(parents, keep, domain::max_open_groups_read);
        });
      },
      [=](atom::peek,
          const domain::alert_filter& filter) -> caf::result<alerts> {
        auto result = self->state.store->list(filter);
        if (!result)
          return std::move(result.error());
        return std::move(*result);
      },
      [=](atom::get, const std::string& manager,
          const std::string& dedup) -> caf::result<alerts> {
        return read(self, *ctx, [&](storage::store& db) {
          return db.by_dedup_key(manager, dedup);
        });
      },
      [=](atom::children, const std::string& manager,
          const std::string& parent) -> caf::result<alerts> {
        return read(self, *ctx, [&](storage::store& db) {
          return db.children(manager, parent);
        });
      },
      [=](atom::children, atom::count, const std::string& manager,
          const std::vector<std::string>& parents)
          -> caf::result<std::vector<int64_t>> {
        return read(self, *ctx, [&](storage::store& db) {
          return db.active_children_counts(manager, parents);
        });
      },
      [=](atom::count) -> caf::result<int64_t, int64_t> {
        if (auto err = flush_now(self, *ctx))
          return err;
        auto result = self->state.store->count_by_status();
        if (!result)
          return std::move(result.error());
        return {result->first, result->second};
      },
      [=](atom::restore) -> caf::result<alerts> {
        return read(self, *ctx,
                    [&](storage::store& db) { return db.open_work(); });
      },
      [=](atom::put, const domain::grouping_rule& rule) {
        return done(self->state.store->put(rule));
      },
      [=](atom::put, const domain::event_manager& manager) {
        return done(self->state.store->put(manager));
      },
      [=](atom::put, const domain::silence& silence) {
        return done(self->state.store->put(silence));
      },
      [=](atom::erase, atom::rule, const std::string& id) {
        return done(self->state.store->erase_rule(id));
      },
      [=](atom::erase, atom::manager, const std::string& id) {
        return done(self->state.store->erase_manager(id));
      },
      [=](atom::put, const domain::api_key& key) {
        return done(self->state.store->put(key));
      },
      [=](atom::audit, const domain::audit_entry& entry) {
        // The change it records already happened; losing its entry must
        // not undo or fail it, but must not pass unnoticed either.
        if (auto err = self->state.store->append(entry)) {
          ctx->stats->store_errors.fetch_add(1, std::memory_order_relaxed);
          LOG_ERROR("cannot append to the audit log: " << message_of(err));
        }
      },
      [=](atom::audit, const domain::audit_filter& filter)
          -> caf::result<std::vector<domain::audit_entry>> {
        auto result = self->state.store->audit(filter);
        if (!result)
          return std::move(result.error());
        return std::move(*result);
      },
  };
}

} // namespace argus::actors
