// Alerts shared as immutable snapshots (issue 15): what a group persists is
// the alert it holds, shared, not a copy; a change to an alert someone else
// still holds copies it first, so a written snapshot never changes; an alert
// nobody else holds is changed in place; a write crosses the wire by value;
// a notification shares the snapshots its writes hold, and crosses the wire
// by value too; the memory store keeps an active alert's snapshot instead of
// a copy and lets go of it once the alert resolves.

#include "domain/grouping.hpp"
#include "storage/store.hpp"
#include "support/grouping_events.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::domain::action;
using argus::domain::alert;
using argus::domain::alert_status;
using argus::domain::alert_type;
using argus::domain::alert_write;
using argus::domain::decision;
using argus::domain::event;
using argus::domain::from_millis;
using argus::domain::group_state;
using argus::domain::time_point;

const time_point t0 = from_millis(1'700'000'000'000);

using argus::test::group_of;
using argus::test::resolve;

/// A trigger of group "db" whose alert says `summary`.
event trigger(const std::string& key, const std::string& summary) {
  auto e = argus::test::trigger(key);
  e.summary = summary;
  return e;
}

} // namespace

TEST_CASE("snapshots: a write shares the alert the group holds", "[unit]") {
  auto g = group_of();
  decision d;
  argus::domain::apply(g, trigger("p", "first"), true, t0, d);
  REQUIRE(d.writes.size() == 1);
  CHECK(d.writes[0].snapshot == g.active.at("p"));
  argus::domain::apply(g, trigger("c", "child"), true, t0 + 1s, d);
  REQUIRE(d.writes.size() == 2);
  CHECK(d.writes[0].snapshot == g.active.at("c"));
  CHECK(d.writes[1].snapshot == g.active.at("p"));
}

TEST_CASE("snapshots: a written snapshot never changes", "[unit]") {
  auto g = group_of();
  decision d;
  argus::domain::apply(g, trigger("p", "first"), true, t0, d);
  auto held = d.writes[0].snapshot; // as the outbox or a store holds it
  argus::domain::apply(g, trigger("p", "second"), false, t0 + 1s, d);
  REQUIRE(d.writes.size() == 1);
  CHECK(held->summary == "first");
  CHECK(held->event_count == 1);
  CHECK(held->updated_at == t0);
  CHECK(d.writes[0].snapshot != held);
  CHECK(d.writes[0].snapshot->summary == "second");
  CHECK(d.writes[0].snapshot->event_count == 2);
  CHECK(g.active.at("p") == d.writes[0].snapshot);

  SECTION("also when a child joins or resolves, or the parent resolves") {
    auto parent_before = d.writes[0].snapshot;
    argus::domain::apply(g, trigger("c", "child"), true, t0 + 2s, d);
    auto child_opened = d.writes[0].snapshot;
    CHECK(parent_before->child_count == 0);
    CHECK(d.writes[1].snapshot->child_count == 1);
    argus::domain::apply(g, resolve("c"), false, t0 + 3s, d);
    CHECK(child_opened->status == alert_status::active);
    CHECK(d.writes[0].snapshot->status == alert_status::resolved);
    auto parent_open = g.active.at("p");
    argus::domain::apply(g, resolve("p"), false, t0 + 4s, d);
    CHECK(parent_open->status == alert_status::active);
    CHECK(d.writes[0].snapshot->status == alert_status::resolved);
    CHECK(g.active.empty());
  }

  SECTION("also when an acknowledgement changes it") {
    auto before = g.active.at("p");
    auto ack = trigger("p", "");
    ack.act = action::acknowledge;
    ack.actor = "alice";
    argus::domain::apply(g, ack, false, t0 + 2s, d);
    CHECK_FALSE(before->acknowledged);
    CHECK(d.writes[0].snapshot->acknowledged);
    CHECK(d.writes[0].snapshot->acknowledged_by == "alice");
  }
}

TEST_CASE("snapshots: an alert nobody else holds changes in place", "[unit]") {
  auto g = group_of();
  decision d;
  argus::domain::apply(g, trigger("p", "first"), true, t0, d);
  d.clear(); // the writes were stored and let go of
  auto* address = g.active.at("p").get();
  argus::domain::apply(g, trigger("p", "second"), false, t0 + 1s, d);
  CHECK(g.active.at("p").get() == address);
  CHECK(d.writes[0].snapshot.get() == address);
  CHECK(address->summary == "second");
}

TEST_CASE("snapshots: a write crosses the wire by value", "[unit]") {
  auto g = group_of();
  decision d;
  argus::domain::apply(g, trigger("p", "over the wire"), true, t0, d);
  std::vector<alert_write> sent = d.writes;
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(sent));
  std::vector<alert_write> received;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(received));
  REQUIRE(received.size() == 1);
  REQUIRE(received[0].snapshot != nullptr);
  CHECK(received[0].snapshot != sent[0].snapshot);
  CHECK(received[0].event_count_delta == 1);
  auto& a = *received[0].snapshot;
  auto& b = *sent[0].snapshot;
  CHECK(a.id == b.id);
  CHECK(a.dedup_key == "p");
  CHECK(a.summary == "over the wire");
  CHECK(a.details == b.details);
  CHECK(a.window_ends_at == b.window_ends_at);
  CHECK(a.created_at == t0);
}

TEST_CASE("snapshots: a notification shares the snapshots its writes hold",
          "[unit]") {
  auto g = group_of();
  g.child_notices = true; // a receiver asks for child_added
  decision d;
  argus::domain::apply(g, trigger("p", "first"), true, t0, d);
  REQUIRE(d.notify.size() == 1);
  auto opened = d.notify[0];
  CHECK(opened.parent.ptr() == d.writes[0].snapshot);
  CHECK(opened.child.ptr() == nullptr);
  CHECK(opened.child->dedup_key.empty()); // reads as the empty alert

  argus::domain::apply(g, trigger("c", "child"), true, t0 + 1s, d);
  REQUIRE(d.notify.size() == 1);
  REQUIRE(d.writes.size() == 2);
  CHECK(d.notify[0].child.ptr() == d.writes[0].snapshot);
  CHECK(d.notify[0].parent.ptr() == d.writes[1].snapshot);
  CHECK(d.notify[0].parent->child_count == 1);
  // The opening still tells of the parent as it opened.
  CHECK(opened.parent->child_count == 0);
  CHECK(opened.parent->summary == "first");

  argus::domain::apply(g, resolve("c"), false, t0 + 2s, d);
  argus::domain::apply(g, resolve("p"), false, t0 + 3s, d);
  REQUIRE(d.notify.size() == 1);
  CHECK(d.notify[0].parent.ptr() == d.writes[0].snapshot);
  CHECK(d.notify[0].parent->status == alert_status::resolved);
  CHECK(opened.parent->status == alert_status::active);
}

TEST_CASE("snapshots: a shared alert edits a copy of its own", "[unit]") {
  auto g = group_of();
  decision d;
  argus::domain::apply(g, trigger("p", "first"), true, t0, d);
  auto n = d.notify.at(0);
  n.parent.edit().summary = "changed";
  CHECK(n.parent->summary == "changed");
  CHECK(n.parent.ptr() != d.writes[0].snapshot);
  CHECK(d.writes[0].snapshot->summary == "first");
  CHECK(g.active.at("p")->summary == "first");
}

TEST_CASE("snapshots: a notification crosses the wire by value", "[unit]") {
  auto g = group_of();
  g.child_notices = true;
  decision d;
  argus::domain::apply(g, trigger("p", "parent"), true, t0, d);
  auto opened = d.notify.at(0);
  argus::domain::apply(g, trigger("c", "child"), true, t0 + 1s, d);
  std::vector<argus::domain::notification> sent{opened, d.notify.at(0)};
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(sent));
  std::vector<argus::domain::notification> received;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(received));
  REQUIRE(received.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(received[i].id == sent[i].id);
    CHECK(received[i].kind == sent[i].kind);
    CHECK(received[i].at == sent[i].at);
    CHECK(received[i].parent.ptr() != sent[i].parent.ptr());
    CHECK(received[i].parent->id == sent[i].parent->id);
    CHECK(received[i].parent->summary == "parent");
    CHECK(received[i].parent->child_count == sent[i].parent->child_count);
    CHECK(received[i].child->dedup_key == sent[i].child->dedup_key);
  }
  CHECK(received[0].child->dedup_key.empty());
  CHECK(received[1].child->summary == "child");
  CHECK(received[1].child->type == alert_type::child);
}

TEST_CASE("snapshots: the memory store keeps an active alert's snapshot, "
          "not a copy",
          "[unit]") {
  auto store = argus::storage::make_memory_store();
  auto g = group_of();
  decision d;
  argus::domain::apply(g, trigger("p", "first"), true, t0, d);
  REQUIRE_FALSE(store->write(d.writes));
  auto held = g.active.at("p");
  d.clear();
  // The group, `held` and the store.
  CHECK(held.use_count() == 3);
  // A change copies it (the store still reads the old one) and the store
  // then takes the new one.
  argus::domain::apply(g, trigger("p", "second"), false, t0 + 1s, d);
  REQUIRE_FALSE(store->write(d.writes));
  d.clear();
  CHECK(held.use_count() == 1);
  CHECK(g.active.at("p").use_count() == 2);
  auto read = store->by_dedup_key("m1", "p");
  REQUIRE(read);
  REQUIRE(read->size() == 1);
  CHECK(read->front().summary == "second");
  CHECK(read->front().event_count == 2);
  CHECK(read->front().created_at == t0);
  CHECK(read->front().id == held->id);
  // Resolved, the group lets go of it and so does the store (it keeps a
  // compact copy of its own).
  argus::domain::apply(g, resolve("p"), false, t0 + 2s, d);
  REQUIRE_FALSE(store->write(d.writes));
  auto resolved = d.writes[0].snapshot;
  d.clear();
  CHECK(resolved.use_count() == 1);
  read = store->by_dedup_key("m1", "p");
  REQUIRE(read);
  REQUIRE(read->size() == 1);
  CHECK(read->front().status == alert_status::resolved);
  CHECK(read->front().summary == "second");
  CHECK(read->front().event_count == 3);
  CHECK(read->front().type == alert_type::parent);
  CHECK(read->front().resolved_at == t0 + 2s);
}

TEST_CASE("snapshots: the memory store's keys outlive the snapshots they "
          "were first written with",
          "[unit]") {
  // The store's rows are keyed by views of the dedupKey the row holds: its
  // snapshot's while active, its packed copy's once resolved. Each step
  // below lets go of every other holder and reuses the freed memory before
  // reading, so a key left viewing a dead snapshot would not be found.
  auto store = argus::storage::make_memory_store();
  const std::string parent = "parent-0000000000001"; // not kept inline
  const std::string child = "child-00000000000001";
  auto g = group_of();
  decision d;
  auto step = [&](const event& e, time_point at) {
    argus::domain::apply(g, e, true, at, d);
    REQUIRE_FALSE(store->write(d.writes));
    d.clear();
    // Same-sized blocks over whatever was freed.
    std::vector<std::shared_ptr<alert>> junk;
    for (int i = 0; i < 64; ++i) {
      auto a = std::make_shared<alert>();
      a->dedup_key = std::string(parent.size(), 'x');
      junk.push_back(a);
    }
  };
  auto read_status = [&](const std::string& key) {
    auto read = store->by_dedup_key("m1", key);
    REQUIRE(read);
    REQUIRE(read->size() == 1);
    CHECK(read->front().dedup_key == key);
    return read->front().status;
  };
  step(trigger(parent, "first"), t0);
  step(trigger(child, "child"), t0 + 1s);
  step(trigger(parent, "second"), t0 + 2s); // a new snapshot of the parent
  CHECK(read_status(parent) == alert_status::active);
  step(resolve(child), t0 + 3s); // packed
  CHECK(read_status(child) == alert_status::resolved);
  step(resolve(parent), t0 + 4s);
  CHECK(read_status(parent) == alert_status::resolved);
  g = group_of();                         // the group lets go of everything
  step(trigger(child, "again"), t0 + 5s); // shared again, a new parent
  CHECK(read_status(child) == alert_status::active);
  auto children = store->children("m1", parent);
  REQUIRE(children);
  REQUIRE(children->size() == 0); // it left for its new life as a parent
  auto all = store->list({});
  REQUIRE(all);
  CHECK(all->size() == 2);
  auto active = store->list([] {
    argus::domain::alert_filter f;
    f.status = "active";
    return f;
  }());
  REQUIRE(active);
  REQUIRE(active->size() == 1);
  CHECK(active->front().dedup_key == child);
}
