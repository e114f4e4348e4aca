// storage.retention over HTTP: a resolved alert older than the retention is
// deleted with its group and then its notifications, while active alerts,
// the children of an active parent and the open group's notifications
// stay, and the deletions are counted on /metrics.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

#include <httplib.h>

namespace {

using namespace argus::test;
using namespace std::chrono_literals;

/// The value of an unlabelled counter on /metrics (-1 if absent).
double counter(server& s, const std::string& name) {
  httplib::Client raw{"127.0.0.1", s.port()};
  auto r = raw.Get("/metrics");
  if (!r || r->status != 200)
    return -1;
  auto at = r->body.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(r->body.substr(at + name.size() + 2));
}

} // namespace

TEST_CASE("resolved alerts past storage.retention are deleted, open groups "
          "stay whole",
          "[integration]") {
  server_options opts;
  opts.storage_yaml = "  retention: 2\n"; // looked at every second
  server s{opts};
  auto manager = s.fresh_manager("class");
  // A group that resolves: parent and child.
  s.trigger(manager, "done-1", {{"class", "done"}});
  s.trigger(manager, "done-2", {{"class", "done"}});
  REQUIRE(s.await_alert(manager, "done-2", [](const json& a) {
             return a["type"] == "child";
           }).is_object());
  // A group that stays open, with a resolved child.
  s.trigger(manager, "open-1", {{"class", "open"}});
  s.trigger(manager, "open-2", {{"class", "open"}});
  REQUIRE(s.await_alert(manager, "open-2", [](const json& a) {
             return a["type"] == "child";
           }).is_object());
  s.resolve(manager, "done-2");
  s.resolve(manager, "done-1");
  s.resolve(manager, "open-2");
  REQUIRE(s.await_alert(manager, "done-1", [](const json& a) {
             return a["status"] == "resolved";
           }).is_object());
  REQUIRE(s.await_alert(manager, "open-2", [](const json& a) {
             return a["status"] == "resolved";
           }).is_object());
  // The outbox has the resolved group's opening and resolution, and the
  // open group's opening (no receiver: fanned out to none).
  auto notes_of = [&](const std::string& key) {
    size_t n = 0;
    for (auto& note : s.notifications_of(manager))
      n += note["alert"]["dedupKey"] == key ? 1 : 0;
    return n;
  };
  REQUIRE(eventually([&] { return notes_of("done-1") == 2; }, 10s));
  REQUIRE(notes_of("open-1") == 1);
  // Two seconds after they resolved, within a second more, the resolved
  // group is gone.
  CHECK(eventually(
      [&] {
        return s.alert(manager, "done-1").is_null() &&
               s.alert(manager, "done-2").is_null();
      },
      10s));
  CHECK(counter(s, "argus_alerts_dropped_total") >= 2);
  // Its notifications follow it out of the outbox; the open group's stays.
  CHECK(eventually([&] { return notes_of("done-1") == 0; }, 10s));
  CHECK(notes_of("open-1") == 1);
  CHECK(counter(s, "argus_notifications_dropped_total") >= 2);
  // The open group is whole: its resolved child stays with its parent.
  auto open = s.alert(manager, "open-1");
  REQUIRE(open.is_object());
  CHECK(open["status"] == "active");
  auto child = s.alert(manager, "open-2");
  REQUIRE(child.is_object());
  CHECK(child["status"] == "resolved");
  // A deleted alert that triggers again starts afresh.
  s.trigger(manager, "done-1", {{"class", "done"}});
  auto again = s.await_alert(manager, "done-1");
  REQUIRE(again.is_object());
  CHECK(again["status"] == "active");
  CHECK(again["event_count"] == 1);
}
