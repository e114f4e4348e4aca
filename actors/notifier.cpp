#include "actors/notifier.hpp"

#include "config/log.hpp"

namespace argus::actors {

namespace {

void log_stored(const domain::notification& n) {
  LOG_INFO("notification " << n.id << " " << to_string(n.kind)
                           << " manager=" << n.parent->event_manager_id
                           << " dedupKey=" << n.parent->dedup_key
                           << " children=" << n.parent->child_count
                           << " summary=\"" << n.parent->summary << "\"");
}

} // namespace

void notifications_stored(const context& ctx, delivery::worker* worker,
                          const std::vector<domain::notification>& stored) {
  ctx.stats->notifications.fetch_add(stored.size(), std::memory_order_relaxed);
  auto now = ctx.now();
  for (auto& n : stored) {
    ctx.registry->notification(to_string(n.kind), "stored");
    // `at` is the acceptance time of the event that made it (or the
    // timer's): how long the node took to turn it into something to
    // deliver.
    if (n.at != domain::time_point{} && now >= n.at)
      ctx.registry->notification_lag(
          std::chrono::duration<double>(now - n.at).count());
    log_stored(n);
  }
  if (worker)
    worker->poke();
}

notifier_actor::behavior_type
notifier(notifier_actor::stateful_pointer<notifier_state> self,
         std::shared_ptr<delivery::outbox> outbox,
         std::shared_ptr<delivery::worker> worker, context_ptr ctx) {
  self->state.outbox = std::move(outbox);
  self->state.worker = std::move(worker);
  return {
      [=](atom::list, const domain::notification_filter& filter)
          -> caf::result<std::vector<domain::notification_record>> {
        auto found = self->state.outbox->recent(filter);
        if (!found)
          return std::move(found.error());
        std::vector<domain::notification_record> out;
        out.reserve(found->size());
        for (auto& x : *found)
          out.push_back(delivery::record_of(x));
        return out;
      },
      [=](atom::retry, const std::string& id,
          const std::string& receiver) -> caf::result<atom::ok> {
        if (auto err = self->state.outbox->revive(id, receiver, ctx->now()))
          return err;
        LOG_INFO("notification " << id << ": manual retry"
                                 << (receiver.empty() ? "" : " to ")
                                 << receiver);
        if (self->state.worker)
          self->state.worker->poke();
        return atom::ok::value;
      },
  };
}

} // namespace argus::actors
