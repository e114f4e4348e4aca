// Retention of resolved alerts: which alerts are past it, and how often the
// repository looks.

#include "domain/retention.hpp"

#include <catch2/catch.hpp>

#include <chrono>

using namespace std::chrono_literals;
using argus::domain::alert_status;
using argus::domain::drops_child;
using argus::domain::drops_notification;
using argus::domain::no_time;
using argus::domain::notification_facts;
using argus::domain::past_retention;
using argus::domain::retention;
using argus::domain::time_point;

namespace {

time_point at(std::chrono::seconds s) {
  return time_point{s};
}

} // namespace

TEST_CASE("retention: zero keeps every alert, anything else is enabled",
          "[unit]") {
  CHECK_FALSE(retention{}.enabled());
  CHECK(retention{1s}.enabled());
  CHECK(retention{1s}.cutoff(at(100s)) == at(99s));
}

TEST_CASE("retention: looks a tenth of the retention apart, between a second "
          "and an hour",
          "[unit]") {
  CHECK(retention{7 * 24h}.interval() == 1h);
  CHECK(retention{5h}.interval() == 30min);
  CHECK(retention{100s}.interval() == 10s);
  CHECK(retention{2s}.interval() == 1s);
}

TEST_CASE("retention: an outbox step looks at a quarter as many "
          "notifications as an alert step deletes alerts, at least one",
          "[unit]") {
  CHECK(retention::notifications_per_step(2000) == 500);
  CHECK(retention::notifications_per_step(3) == 1);
  CHECK(retention::notifications_per_step(0) == 1);
}

TEST_CASE("retention: only alerts resolved before the cutoff are past it",
          "[unit]") {
  auto cutoff = at(1000s);
  CHECK(past_retention(alert_status::resolved, at(999s), cutoff));
  CHECK_FALSE(past_retention(alert_status::resolved, at(1000s), cutoff));
  CHECK_FALSE(past_retention(alert_status::active, at(1s), cutoff));
  // A resolved alert without a time (not written by this build) stays.
  CHECK_FALSE(past_retention(alert_status::resolved, no_time, cutoff));
}

TEST_CASE("retention: a child goes with its parent, or without one", "[unit]") {
  CHECK(drops_child(false, false));
  CHECK(drops_child(true, true));
  CHECK_FALSE(drops_child(true, false));
}

TEST_CASE("retention: an old notification goes once its group closed and "
          "nothing is left to deliver",
          "[unit]") {
  notification_facts gone{true, false, true, false};
  CHECK(drops_notification(gone));
  auto kept = [](notification_facts n) { return !drops_notification(n); };
  auto recent = gone;
  recent.made_before_cutoff = false;
  CHECK(kept(recent));
  auto open = gone; // an open group, or a held opening's
  open.parent_active = true;
  CHECK(kept(open));
  auto not_fanned = gone;
  not_fanned.fanned_out = false;
  CHECK(kept(not_fanned));
  auto pending = gone;
  pending.delivery_pending = true;
  CHECK(kept(pending));
}

TEST_CASE("retention: the parent decides only for an old, fanned-out "
          "notification with nothing pending",
          "[unit]") {
  using argus::domain::parent_decides;
  notification_facts old{true, false, true, false};
  CHECK(parent_decides(old));
  old.parent_active = true; // whatever the parent is
  CHECK(parent_decides(old));
  auto recent = old;
  recent.made_before_cutoff = false;
  CHECK_FALSE(parent_decides(recent));
  auto not_fanned = old;
  not_fanned.fanned_out = false;
  CHECK_FALSE(parent_decides(not_fanned));
  auto pending = old;
  pending.delivery_pending = true;
  CHECK_FALSE(parent_decides(pending));
}
