#include "actors/notifier.hpp"

#include "config/log.hpp"

namespace argus::actors {

notifier_actor::behavior_type
notifier(notifier_actor::stateful_pointer<notifier_state> self, size_t keep,
         context_ptr ctx) {
  self->state.keep = keep;
  return {
      [=](atom::notify, domain::notification& n) {
        auto& st = self->state;
        n.seq = st.next_seq++;
        ctx->stats->notifications.fetch_add(1, std::memory_order_relaxed);
        // Kept for /v1/notifications; delivery outcomes come with delivery.
        ctx->registry->notification(to_string(n.kind), "recorded");
        LOG_INFO("notification #" << n.seq << " " << to_string(n.kind)
                                  << " manager=" << n.parent.event_manager_id
                                  << " dedupKey=" << n.parent.dedup_key
                                  << " children=" << n.parent.child_count
                                  << " summary=\"" << n.parent.summary << "\"");
        st.recent.push_back(std::move(n));
        if (st.recent.size() > st.keep)
          st.recent.pop_front();
      },
      [=](atom::list, uint64_t limit) {
        auto& recent = self->state.recent;
        std::vector<domain::notification> out;
        for (auto it = recent.rbegin();
             it != recent.rend() && out.size() < limit; ++it)
          out.push_back(*it);
        return out;
      },
  };
}

} // namespace argus::actors
