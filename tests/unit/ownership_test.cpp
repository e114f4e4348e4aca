// Cluster ownership as a pure state machine (`domain/ownership.*`): the
// routing of events, the transitions between views, fencing and adoption,
// driven step by step with explicit inputs and times. A few tests at the end
// run the thin carrier (`actors/ownership.*`) with recording hooks.

#include "actors/journal.hpp"
#include "actors/ownership.hpp"

#include "domain/alert.hpp"
#include "domain/cluster.hpp"
#include "domain/error.hpp"
#include "domain/event.hpp"
#include "domain/ownership.hpp"

#include <caf/sec.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using argus::domain::alert;
using argus::domain::alert_key;
using argus::domain::alert_location;
using argus::domain::event;
using argus::domain::forward_memory;
using argus::domain::forward_outcome;
using argus::domain::forwarded_verdict;
using argus::domain::journal_share;
using argus::domain::membership;
using argus::domain::mono_time;
using argus::domain::ownership_machine;
using argus::domain::ownership_step;
using argus::domain::ownership_view;
using std::chrono::milliseconds;
using strings = std::vector<std::string>;

constexpr const char* manager = "m";

/// A fixed start time: the machine never reads a clock.
const mono_time t0 = mono_time{} + std::chrono::hours{1};

std::string owner_of(const strings& live, const event& e) {
  return argus::domain::group_owner(live, argus::domain::group_of(e));
}

/// `n` events whose groups `node` owns among `live` (found by trying
/// grouping values), with distinct dedupKeys starting at `tag`.
std::vector<event> owned_by(const strings& live, const std::string& node,
                            size_t n, const std::string& tag = "e") {
  std::vector<event> out;
  for (int i = 0; out.size() < n; ++i) {
    event e;
    e.event_manager_id = manager;
    e.dedup_key = tag + "-" + std::to_string(out.size());
    e.has_grouping_value = true;
    e.grouping_value = "host-" + std::to_string(i);
    if (owner_of(live, e) == node)
      out.push_back(std::move(e));
  }
  return out;
}

alert alert_of(const event& e) {
  alert a;
  a.event_manager_id = e.event_manager_id;
  a.dedup_key = e.dedup_key;
  a.has_grouping_value = e.has_grouping_value;
  a.grouping_value = e.grouping_value;
  return a;
}

strings keys_of(const std::vector<event>& xs) {
  strings out;
  for (auto& e : xs)
    out.push_back(e.dedup_key);
  std::sort(out.begin(), out.end());
  return out;
}

strings keys_of(const std::vector<alert>& xs) {
  strings out;
  for (auto& a : xs)
    out.push_back(a.dedup_key.str());
  std::sort(out.begin(), out.end());
  return out;
}

/// A membership of `live`, with incarnations "inc-<id>" for `live` and
/// `members` (live or not).
membership view_of(const strings& live, const strings& members = {}) {
  membership m;
  m.live = live;
  for (auto& id : live)
    m.incarnations[id] = "inc-" + id;
  for (auto& id : members)
    m.incarnations[id] = "inc-" + id;
  return m;
}

ownership_view ready_view(const std::string& self, const strings& live) {
  return {self, live, live, true};
}

/// Drives `m` from a fresh `view` to its hand-over wait (or further): the
/// steps drain and hand over, answered with success.
ownership_step begin(ownership_machine& m, membership view,
                     mono_time now = t0) {
  m.view(std::move(view));
  auto s = m.next(now);
  REQUIRE(s.what == ownership_step::drain);
  REQUIRE(s.publish);
  CHECK_FALSE(s.publish->ready);
  s = m.drained({}, now);
  REQUIRE(s.what == ownership_step::hand_over);
  return m.handed_over({}, now);
}

/// Answers the recalls of live previous owners' forwarding ids from `s` on
/// with none: the step after them.
ownership_step recalled(ownership_machine& m, ownership_step s) {
  while (s.what == ownership_step::recall_forwards)
    s = m.journal_read({}, std::move(s.share), t0);
  return s;
}

/// Answers read_work with `work` and restore with success, then the recall
/// of live previous owners' forwarding ids with none: the step after (a
/// dead writer's journal to read, or the view in effect).
ownership_step rebuild(ownership_machine& m, ownership_step s,
                       std::vector<alert> work = {},
                       std::vector<alert>* restored = nullptr) {
  REQUIRE(s.what == ownership_step::read_work);
  s = m.worked(std::move(work), t0);
  REQUIRE(s.what == ownership_step::restore);
  if (restored)
    *restored = s.alerts;
  return recalled(m, m.restored({}, t0));
}

/// Takes `m` (node "a", not durable) to the view {a, b} in effect, with
/// b's hand-over in.
void settle_two(ownership_machine& m) {
  m.handover("b", {"a", "b"});
  auto s = rebuild(m, begin(m, view_of({"a", "b"})));
  REQUIRE(s.publish);
  REQUIRE(s.publish->ready);
}

/// Takes a durable node "a" to {a, b} in effect.
void settle_two_durable(ownership_machine& m) {
  m.handover("b", {"a", "b"});
  auto s = begin(m, view_of({"a", "b"}));
  REQUIRE(s.what == ownership_step::list_writers);
  s = rebuild(m, m.listed(strings{}, t0));
  REQUIRE(s.publish);
  REQUIRE(s.publish->ready);
}

} // namespace

// -- routing ------------------------------------------------------------------

TEST_CASE("ownership: before any view, forwarded events wait and the "
          "front's have no owner",
          "[unit]") {
  ownership_machine m{"a", "inc-a", false};
  CHECK(m.routing().live.empty());
  CHECK_FALSE(m.routing().ready);
  CHECK(m.next(t0).what == ownership_step::wait);
  CHECK_FALSE(m.next(t0).until);
  auto events = owned_by({"a"}, "a", 2);
  CHECK(argus::domain::judge_forwarded(m.routing(), events) ==
        forwarded_verdict::wait);
  auto plan = argus::domain::plan_ingest(m.routing(), events);
  CHECK(plan.here.empty());
  REQUIRE(plan.elsewhere.size() == 1);
  // The empty owner: no live member, so the front retries, then 503.
  CHECK(plan.elsewhere.begin()->first.empty());
}

TEST_CASE("ownership: a node alone takes its first view and every group",
          "[unit]") {
  ownership_machine m{"a", "inc-a", false};
  std::vector<alert> work;
  // Its open work includes groups that other nodes would own.
  for (auto& e : owned_by({"a", "b"}, "b", 3, "work"))
    work.push_back(alert_of(e));
  m.view(view_of({"a"}));
  auto s = m.next(t0);
  REQUIRE(s.what == ownership_step::drain);
  CHECK(s.publish->live == strings{"a"});
  CHECK_FALSE(s.publish->held);
  s = m.drained({}, t0);
  REQUIRE(s.what == ownership_step::hand_over);
  CHECK(s.live == strings{"a"});
  // Nobody to wait for: it rebuilds all the open work, the only owner.
  s = m.handed_over({}, t0);
  std::vector<alert> restored;
  s = rebuild(m, s, work, &restored);
  CHECK(keys_of(restored) == keys_of(work));
  REQUIRE(s.publish);
  CHECK(s.publish->ready);
  CHECK(s.publish->held == strings{"a"});
  CHECK(s.unlock.empty());
  CHECK(m.routing().ready);
  // Groups any node would own among {a, b} are all a's now.
  auto events = owned_by({"a", "b"}, "a", 5);
  for (auto& e : owned_by({"a", "b"}, "b", 5, "f"))
    events.push_back(e);
  auto plan = argus::domain::plan_ingest(m.routing(), events);
  CHECK(keys_of(plan.here) == keys_of(events));
  CHECK(plan.elsewhere.empty());
  CHECK(plan.waiting.empty());
  // Nothing more to do until the view changes.
  CHECK(m.next(t0 + std::chrono::hours{1}).what == ownership_step::wait);
}

TEST_CASE("ownership: two nodes split events by the owner of their group",
          "[unit]") {
  ownership_machine m{"a", "inc-a", false};
  auto mine = owned_by({"a", "b"}, "a", 2, "work-a");
  auto theirs = owned_by({"a", "b"}, "b", 2, "work-b");
  std::vector<alert> work;
  for (auto& e : mine)
    work.push_back(alert_of(e));
  for (auto& e : theirs)
    work.push_back(alert_of(e));
  m.handover("b", {"a", "b"});
  std::vector<alert> restored;
  auto s = rebuild(m, begin(m, view_of({"b", "a"})), work, &restored);
  REQUIRE(s.publish);
  CHECK(s.publish->live == strings{"a", "b"}); // sorted
  // Only the groups a owns are rebuilt.
  CHECK(keys_of(restored) == keys_of(mine));
  std::vector<event> events;
  for (int i = 0; i < 40; ++i) {
    event e;
    e.event_manager_id = manager;
    e.dedup_key = "k-" + std::to_string(i);
    e.has_grouping_value = true;
    e.grouping_value = "value-" + std::to_string(i);
    events.push_back(e);
  }
  auto plan = argus::domain::plan_ingest(m.routing(), events);
  // Both shares are non-empty with 40 groups, or the check below is weak.
  REQUIRE_FALSE(plan.here.empty());
  REQUIRE(plan.elsewhere.size() == 1);
  auto& forwarded = plan.elsewhere["b"];
  CHECK(plan.here.size() + forwarded.size() == events.size());
  for (auto& e : plan.here)
    CHECK(owner_of({"a", "b"}, e) == "a");
  for (auto& e : forwarded)
    CHECK(owner_of({"a", "b"}, e) == "b");
}

TEST_CASE("ownership: what the sender does with a forward's answer", "[unit]") {
  using argus::domain::judge_forward;
  CHECK(judge_forward({}) == forward_outcome::accepted);
  // The owner moved: a newer view sends it elsewhere.
  CHECK(judge_forward(argus::make_error(argus::ec::conflict, "not mine")) ==
        forward_outcome::retry);
  // Out of reach (a timeout, a broken link): retried too.
  CHECK(judge_forward(caf::make_error(caf::sec::request_timeout)) ==
        forward_outcome::retry);
  // The owner is behind: its back-pressure reaches the client.
  CHECK(judge_forward(argus::make_error(argus::ec::unavailable, "behind")) ==
        forward_outcome::refused);
}

TEST_CASE("ownership: forwarded events are refused when not owned and "
          "accepted once",
          "[unit]") {
  auto v = ready_view("a", {"a", "b"});
  auto not_mine = owned_by({"a", "b"}, "b", 1, "theirs");
  CHECK(argus::domain::judge_forwarded(v, not_mine) ==
        forwarded_verdict::conflict);
  // A batch with one event of another owner is refused whole.
  auto mixed = owned_by({"a", "b"}, "a", 1, "mixed");
  mixed.push_back(not_mine[0]);
  CHECK(argus::domain::judge_forwarded(v, mixed) ==
        forwarded_verdict::conflict);
  auto mine = owned_by({"a", "b"}, "a", 2, "mine");
  mine[0].forward_id = 42;
  mine[1].forward_id = 43;
  CHECK(argus::domain::judge_forwarded(v, mine) == forwarded_verdict::accept);
  forward_memory seen;
  auto first = std::vector<event>{mine[0]};
  seen.drop_seen(first);
  REQUIRE(first.size() == 1);
  seen.remember(argus::domain::forward_ids_of(first));
  // The sender's retry after a lost answer is not journaled again.
  auto retry = std::vector<event>{mine[0]};
  seen.drop_seen(retry);
  CHECK(retry.empty());
  // In a batch, only the new one goes in.
  auto batch = mine;
  seen.drop_seen(batch);
  REQUIRE(batch.size() == 1);
  CHECK(batch[0].forward_id == 43);
  // Events the front journals first-hand have no id: never dropped.
  auto direct = owned_by({"a", "b"}, "a", 1, "direct");
  seen.remember({0});
  seen.drop_seen(direct);
  CHECK(direct.size() == 1);
}

TEST_CASE("ownership: forwarding ids being journaled are claimed by one "
          "call until it settles",
          "[unit]") {
  forward_memory memory;
  auto mine = owned_by({"a", "b"}, "a", 2, "mine");
  mine[0].forward_id = 42;
  mine[1].forward_id = 43;
  auto first = mine;
  REQUIRE(memory.claim(first));
  CHECK(first.size() == 2);
  // A copy of one of them, while the first call journals, claims nothing.
  auto copy = std::vector<event>{mine[1]};
  CHECK_FALSE(memory.claim(copy));
  // Events the front journals first-hand have no id: never held up.
  auto direct = owned_by({"a", "b"}, "a", 1, "direct");
  CHECK(memory.claim(direct));
  // Not journaled: free to claim again.
  memory.settle({42, 43}, false);
  auto again = mine;
  REQUIRE(memory.claim(again));
  CHECK(again.size() == 2);
  // Journaled: a later copy is dropped.
  memory.settle({42, 43}, true);
  auto late = mine;
  REQUIRE(memory.claim(late));
  CHECK(late.empty());
}

TEST_CASE("ownership: remembered forwarding ids are bounded, oldest first",
          "[unit]") {
  forward_memory seen{3};
  seen.remember({1, 2, 3});
  seen.remember({2}); // already known: does not refresh or grow
  CHECK(seen.seen(1));
  seen.remember({4});
  CHECK_FALSE(seen.seen(1));
  CHECK(seen.seen(2));
  CHECK(seen.seen(3));
  CHECK(seen.seen(4));
  CHECK_FALSE(seen.seen(0));
}

// -- transitions --------------------------------------------------------------

TEST_CASE("ownership: a live previous owner's hand-over comes before the "
          "rebuild",
          "[unit]") {
  ownership_machine m{"a", "inc-a", false};
  // Node a joins b: b held every group before.
  auto s = begin(m, view_of({"a", "b"}));
  CHECK(s.what == ownership_step::wait);
  CHECK_FALSE(s.until);
  CHECK(m.awaited() == strings{"b"});
  CHECK(m.next(t0 + std::chrono::seconds{30}).what == ownership_step::wait);
  // A hand-over for another membership does not count.
  m.handover("b", {"a", "b", "c"});
  CHECK(m.next(t0).what == ownership_step::wait);
  // Events this node owns wait meanwhile; b's go to b.
  auto events = owned_by({"a", "b"}, "a", 2);
  auto theirs = owned_by({"a", "b"}, "b", 1, "b");
  events.push_back(theirs[0]);
  auto plan = argus::domain::plan_ingest(m.routing(), events);
  CHECK(plan.here.empty());
  CHECK(plan.waiting.size() == 2);
  CHECK(plan.elsewhere["b"].size() == 1);
  CHECK(argus::domain::judge_forwarded(m.routing(),
                                       owned_by({"a", "b"}, "a", 1)) ==
        forwarded_verdict::wait);
  // The hand-over under the same view (in any order) lets it go on.
  m.handover("b", {"b", "a"});
  CHECK(m.awaited().empty());
  s = rebuild(m, m.next(t0));
  REQUIRE(s.publish);
  CHECK(s.publish->ready);
  plan = argus::domain::plan_ingest(m.routing(), events);
  CHECK(plan.here.size() == 2);
}

TEST_CASE("ownership: groups kept through a transition flow on and gained "
          "ones wait",
          "[unit]") {
  ownership_machine m{"a", "inc-a", false};
  settle_two(m);
  auto kept = owned_by({"a", "b"}, "a", 2, "kept");
  auto gained = owned_by({"a", "b"}, "b", 2, "gained");
  // c joins and b leaves: a keeps its groups (or some go to c), and gains
  // the ones b held that it owns among {a, c}.
  auto s = begin(m, view_of({"a", "c"}));
  CHECK(m.awaited().empty()); // c held nothing before, b is gone
  for (auto& e : kept)
    if (owner_of({"a", "c"}, e) == "a")
      CHECK(argus::domain::route_of(m.routing(), e).kind ==
            argus::domain::route::here);
  for (auto& e : gained)
    if (owner_of({"a", "c"}, e) == "a")
      CHECK(argus::domain::route_of(m.routing(), e).kind ==
            argus::domain::route::wait);
  // Only gained groups are rebuilt; the kept ones stay as routed.
  std::vector<alert> work, restored;
  for (auto& e : kept)
    work.push_back(alert_of(e));
  for (auto& e : gained)
    work.push_back(alert_of(e));
  rebuild(m, s, work, &restored);
  for (auto& a : restored) {
    CHECK(argus::domain::group_owner({"a", "c"}, argus::domain::group_of(a)) ==
          "a");
    CHECK(argus::domain::group_owner({"a", "b"}, argus::domain::group_of(a)) ==
          "b");
  }
}

TEST_CASE("ownership: a dead previous owner is fenced before the rebuild",
          "[unit]") {
  ownership_machine m{"a", "inc-a", true};
  settle_two_durable(m);
  SECTION("without a hand-over, its journal lock is waited for") {
    // b died: it never handed over for {a}.
    auto s = begin(m, view_of({"a"}, {"b"}));
    REQUIRE(s.what == ownership_step::list_writers);
    s = m.listed(strings{}, t0);
    REQUIRE(s.what == ownership_step::fence);
    CHECK(s.incarnation == "inc-b");
    auto now = t0;
    for (int refusal = 0; refusal < 3; ++refusal) {
      s = m.fenced(false, now);
      REQUIRE(s.what == ownership_step::wait);
      REQUIRE(s.until);
      CHECK(*s.until == now + ownership_machine::fence_pause);
      // Not before its time...
      CHECK(m.next(now + milliseconds{99}).what == ownership_step::wait);
      now += ownership_machine::fence_pause;
      // ... then the same lock again.
      s = m.next(now);
      REQUIRE(s.what == ownership_step::fence);
      CHECK(s.incarnation == "inc-b");
    }
    // An error reading the lock counts as "still locked".
    s = m.fenced(caf::make_error(caf::sec::request_timeout), now);
    REQUIRE(s.what == ownership_step::wait);
    s = m.next(now + ownership_machine::fence_pause);
    REQUIRE(s.what == ownership_step::fence);
    s = m.fenced(true, now);
    REQUIRE(s.what == ownership_step::read_work);
    s = m.worked(std::vector<alert>{}, now);
    s = m.restored({}, now);
    REQUIRE(s.what == ownership_step::read_journal);
    CHECK(s.incarnation == "inc-b");
    s = m.journal_read({}, std::move(s.share), now);
    // The lock goes back as the view takes effect.
    CHECK(s.unlock == strings{"inc-b"});
    REQUIRE(s.publish);
    CHECK(s.publish->ready);
    CHECK(s.publish->live == strings{"a"});
    REQUIRE_FALSE(owned_by({"a", "b"}, "b", 1).empty());
    CHECK(argus::domain::route_of(m.routing(), owned_by({"a", "b"}, "b", 1)[0])
              .kind == argus::domain::route::here);
  }
  SECTION("after a clean hand-over, nothing is fenced") {
    m.handover("b", {"a"});
    auto s = begin(m, view_of({"a"}, {"b"}));
    REQUIRE(s.what == ownership_step::list_writers);
    s = m.listed(strings{}, t0);
    CHECK(s.what == ownership_step::read_work);
  }
  SECTION("without a journal, nothing is listed or fenced") {
    ownership_machine plain{"a", "", false};
    settle_two(plain);
    auto s = begin(plain, view_of({"a"}, {"b"}));
    CHECK(s.what == ownership_step::read_work);
  }
}

TEST_CASE("ownership: a dead writer's records this node owns are adopted",
          "[unit]") {
  ownership_machine m{"a", "inc-a", true};
  strings live{"a", "b"};
  auto own = owned_by(live, "a", 3, "own");
  auto other = owned_by(live, "b", 2, "other");
  own[0].seq = 1;
  own[1].seq = 3;
  own[1].forward_id = 777; // forwarded to the dead node, not applied yet
  own[2].seq = 4;
  own[2].forward_id = 555; // forwarded and applied: done
  other[0].seq = 2;
  other[1].seq = 5;
  m.handover("b", live);
  auto s = begin(m, view_of(live, {"dead"}));
  REQUIRE(s.what == ownership_step::list_writers);
  // Its own journal and the live peer's are not orphans.
  s = m.listed(strings{"inc-a", "inc-b", "inc-dead"}, t0);
  REQUIRE(s.what == ownership_step::fence);
  CHECK(s.incarnation == "inc-dead");
  s = m.fenced(true, t0);
  s = rebuild(m, s);
  REQUIRE(s.what == ownership_step::read_journal);
  CHECK(s.incarnation == "inc-dead");
  std::vector<std::pair<event, bool>> records{{own[0], false},
                                              {other[0], false},
                                              {own[1], false},
                                              {own[2], true},
                                              {other[1], false}};
  for (auto& [e, done] : records)
    s.share.take(e, done);
  s = m.journal_read({}, std::move(s.share), t0);
  REQUIRE(s.what == ownership_step::adopt);
  CHECK(s.incarnation == "inc-dead");
  REQUIRE(s.events.size() == 2);
  // In journal order, with their old numbers (the journal renumbers).
  CHECK(s.events[0].dedup_key == own[0].dedup_key);
  CHECK(s.events[0].seq == 1);
  CHECK(s.events[1].dedup_key == own[1].dedup_key);
  CHECK(s.events[1].seq == 3);
  CHECK(s.events[1].forward_id == 777);
  // The sender's retries of what the dead node journaled are recognised:
  // the applied one and the adopted one alike.
  forward_memory seen;
  seen.remember(s.remember);
  CHECK(seen.seen(555));
  CHECK(seen.seen(777));
  s = m.adopted({}, t0);
  CHECK(s.unlock == strings{"inc-dead"});
  REQUIRE(s.publish);
  CHECK(s.publish->ready);
}

TEST_CASE("ownership: a journal with only applied records is not adopted, "
          "its ids are remembered",
          "[unit]") {
  ownership_machine m{"a", "inc-a", true};
  m.handover("b", {"a", "b"});
  auto s = begin(m, view_of({"a", "b"}));
  s = m.listed(strings{"inc-old", "inc-older"}, t0);
  REQUIRE(s.what == ownership_step::fence);
  s = m.fenced(true, t0);
  REQUIRE(s.what == ownership_step::fence);
  s = rebuild(m, m.fenced(true, t0));
  REQUIRE(s.what == ownership_step::read_journal);
  CHECK(s.incarnation == "inc-old");
  auto done = owned_by({"a", "b"}, "a", 1, "done");
  done[0].forward_id = 9;
  s.share.take(done[0], true);
  s = m.journal_read({}, std::move(s.share), t0);
  // On to the next writer, remembering the applied id on the way.
  REQUIRE(s.what == ownership_step::read_journal);
  CHECK(s.incarnation == "inc-older");
  CHECK(s.remember == std::vector<uint64_t>{9});
  s = m.journal_read({}, std::move(s.share), t0);
  CHECK(s.unlock == strings{"inc-old", "inc-older"});
  CHECK(s.publish);
}

TEST_CASE("ownership: the forwarding ids a live previous owner journaled for "
          "gained groups are remembered before the view takes effect",
          "[unit]") {
  ownership_machine m{"a", "inc-a", true};
  // a joins b, which held every group and stays live: it hands over.
  m.handover("b", {"a", "b"});
  auto s = begin(m, view_of({"a", "b"}));
  s = m.listed(strings{"inc-b"}, t0); // a live writer: not fenced
  REQUIRE(s.what == ownership_step::read_work);
  s = m.worked(std::vector<alert>{}, t0);
  s = m.restored({}, t0);
  REQUIRE(s.what == ownership_step::recall_forwards);
  CHECK(s.incarnation == "inc-b");
  // b journaled a forward for a group a gains (its sender's answer may
  // have been lost), one for a group b keeps, and an event of its own.
  auto gained = owned_by({"a", "b"}, "a", 2, "gained");
  auto kept = owned_by({"a", "b"}, "b", 1, "kept");
  gained[0].forward_id = 41;
  kept[0].forward_id = 42;
  for (auto* e : {&gained[0], &gained[1], &kept[0]})
    s.share.recall(*e);
  CHECK(s.share.adopt.empty()); // b applied them: never adopted
  s = m.journal_read({}, std::move(s.share), t0);
  // The view takes effect with the gained group's id remembered first,
  // so the sender's retry of it, which the view lets in, is dropped.
  CHECK(s.remember == std::vector<uint64_t>{41});
  REQUIRE(s.publish);
  CHECK(s.publish->ready);
  CHECK(s.unlock.empty());
  SECTION("without a journal, nothing is recalled") {
    ownership_machine plain{"a", "", false};
    plain.handover("b", {"a", "b"});
    auto p = begin(plain, view_of({"a", "b"}));
    REQUIRE(p.what == ownership_step::read_work);
    p = plain.worked(std::vector<alert>{}, t0);
    p = plain.restored({}, t0);
    CHECK(p.publish);
  }
}

// Journal locks are held while a node waits for the next one, so every node
// must take them in one order. Node x loses member c (incarnation D1) while
// node y joins; a writer D0 that died earlier still has records. Each takes
// D0 first, so neither holds one lock and waits for the other's.
TEST_CASE("ownership: nodes fencing the same dead writers take the locks in "
          "one order",
          "[unit]") {
  ownership_machine x{"x", "inc-x", true};
  auto view_xc = view_of({"c", "x"});
  view_xc.incarnations["c"] = "inc-D1";
  x.handover("c", {"c", "x"});
  {
    auto s = begin(x, view_xc);
    REQUIRE(s.what == ownership_step::list_writers);
    s = rebuild(x, x.listed(strings{}, t0));
    REQUIRE(s.publish);
  }
  auto view_xy = view_of({"x", "y"});
  view_xy.incarnations["c"] = "inc-D1";
  auto sx = begin(x, view_xy);
  ownership_machine y{"y", "inc-y", true};
  auto sy = begin(y, view_xy);
  // y waits for x's hand-over, x for y's (y held nothing: no wait).
  REQUIRE(sx.what == ownership_step::list_writers);
  REQUIRE(sy.what == ownership_step::wait);
  y.handover("x", {"x", "y"});
  sy = y.next(t0);
  REQUIRE(sy.what == ownership_step::list_writers);
  // x fences its dead previous owner D1 and every dead writer: sorted.
  sx = x.listed(strings{"inc-D0", "inc-D1", "inc-x"}, t0);
  sy = y.listed(strings{"inc-D0", "inc-D1", "inc-x"}, t0);
  REQUIRE(sx.what == ownership_step::fence);
  REQUIRE(sy.what == ownership_step::fence);
  CHECK(sx.incarnation == "inc-D0");
  CHECK(sy.incarnation == "inc-D0");
  // x takes D0; y waits for it without holding anything.
  sx = x.fenced(true, t0);
  sy = y.fenced(false, t0);
  REQUIRE(sx.what == ownership_step::fence);
  CHECK(sx.incarnation == "inc-D1");
  sx = x.fenced(true, t0);
  CHECK(sx.what == ownership_step::read_work);
  CHECK(sy.what == ownership_step::wait);
}

TEST_CASE("ownership: a failed step gives the locks back and starts over "
          "after a pause",
          "[unit]") {
  ownership_machine m{"a", "inc-a", true};
  m.handover("b", {"a", "b"});
  auto s = begin(m, view_of({"a", "b"}, {"dead"}));
  s = m.listed(strings{"inc-dead"}, t0);
  s = m.fenced(true, t0);
  REQUIRE(s.what == ownership_step::read_work);
  s = m.worked(argus::make_error(argus::ec::unavailable, "store down"), t0);
  CHECK(s.what == ownership_step::wait);
  CHECK(s.unlock == strings{"inc-dead"});
  REQUIRE(s.until);
  CHECK(*s.until == t0 + ownership_machine::retry_pause);
  CHECK_FALSE(s.publish);
  CHECK_FALSE(m.routing().ready);
  CHECK(m.next(t0 + milliseconds{10}).what == ownership_step::wait);
  // The same view again, from the start.
  s = m.next(t0 + ownership_machine::retry_pause);
  REQUIRE(s.what == ownership_step::drain);
  SECTION("a failed drain too") {
    s = m.drained(argus::make_error(argus::ec::internal, "x"), t0);
    CHECK(s.what == ownership_step::wait);
    CHECK(s.unlock.empty());
    CHECK(m.next(t0 + ownership_machine::retry_pause).what ==
          ownership_step::drain);
  }
  SECTION("a failed release too") {
    s = m.drained({}, t0);
    s = m.handed_over(argus::make_error(argus::ec::internal, "x"), t0);
    CHECK(s.what == ownership_step::wait);
    CHECK(m.next(t0 + ownership_machine::retry_pause).what ==
          ownership_step::drain);
  }
  SECTION("a failed writer listing, restore or adoption too") {
    s = m.drained({}, t0);
    s = m.handed_over({}, t0);
    REQUIRE(s.what == ownership_step::list_writers);
    s = m.listed(argus::make_error(argus::ec::internal, "x"), t0);
    CHECK(s.what == ownership_step::wait);
    s = m.next(t0 + ownership_machine::retry_pause);
    s = m.drained({}, t0);
    s = m.handed_over({}, t0);
    s = m.listed(strings{"inc-dead"}, t0);
    s = m.fenced(true, t0);
    REQUIRE(s.what == ownership_step::read_work);
    s = m.worked(std::vector<alert>{}, t0);
    s = m.restored(argus::make_error(argus::ec::internal, "x"), t0);
    CHECK(s.unlock == strings{"inc-dead"});
    s = m.next(t0 + ownership_machine::retry_pause);
    s = m.drained({}, t0);
    s = m.handed_over({}, t0);
    s = m.listed(strings{"inc-dead"}, t0);
    s = m.fenced(true, t0);
    s = m.worked(std::vector<alert>{}, t0);
    s = recalled(m, m.restored({}, t0));
    REQUIRE(s.what == ownership_step::read_journal);
    auto e = owned_by({"a", "b"}, "a", 1)[0];
    s.share.take(e, false);
    s = m.journal_read({}, std::move(s.share), t0);
    REQUIRE(s.what == ownership_step::adopt);
    s = m.adopted(argus::make_error(argus::ec::internal, "x"), t0);
    CHECK(s.unlock == strings{"inc-dead"});
    CHECK_FALSE(m.routing().ready);
  }
}

TEST_CASE("ownership: a newer view abandons a transition that waits",
          "[unit]") {
  ownership_machine m{"a", "inc-a", true};
  SECTION("for hand-overs") {
    auto s = begin(m, view_of({"a", "b"}));
    REQUIRE(s.what == ownership_step::wait);
    m.view(view_of({"a"}, {"b"}));
    s = m.next(t0);
    CHECK(s.what == ownership_step::wait);
    REQUIRE(s.until);
    s = m.next(*s.until);
    REQUIRE(s.what == ownership_step::drain);
    CHECK(s.publish->live == strings{"a"});
  }
  SECTION("for a journal lock, giving back those it took") {
    m.handover("b", {"a", "b"});
    auto s = begin(m, view_of({"a", "b"}, {"d1", "d2"}));
    s = m.listed(strings{"inc-d1", "inc-d2"}, t0);
    s = m.fenced(true, t0);
    REQUIRE(s.incarnation == "inc-d2");
    s = m.fenced(false, t0);
    REQUIRE(s.what == ownership_step::wait);
    m.view(view_of({"a"}, {"b", "d1", "d2"}));
    s = m.next(t0);
    CHECK(s.unlock == strings{"inc-d1"});
    CHECK(m.next(t0 + ownership_machine::retry_pause).what ==
          ownership_step::drain);
  }
  SECTION("not a step under way: that transition ends, not in effect") {
    m.handover("b", {"a", "b"});
    auto s = begin(m, view_of({"a", "b"}));
    s = m.listed(strings{}, t0);
    REQUIRE(s.what == ownership_step::read_work);
    m.view(view_of({"a"}, {"b"}));
    s = m.worked(std::vector<alert>{}, t0);
    s = recalled(m, m.restored({}, t0));
    REQUIRE(s.publish);
    CHECK_FALSE(s.publish->ready);
    // The routers hold {a, b}'s split now: groups a kept flow on.
    CHECK(s.publish->held == strings{"a", "b"});
    CHECK(s.publish->live == strings{"a", "b"});
    REQUIRE(s.until);
    s = m.next(*s.until);
    REQUIRE(s.what == ownership_step::drain);
    CHECK(s.publish->live == strings{"a"});
  }
}

TEST_CASE("ownership: a leaving node hands every group over and forwards "
          "its events",
          "[unit]") {
  ownership_machine m{"a", "inc-a", true};
  settle_two_durable(m);
  // Draining: the view without this node. It waits for b's hand-over
  // under that view too, then has nothing to fence.
  auto s = begin(m, view_of({"b"}, {"a"}));
  REQUIRE(s.what == ownership_step::wait);
  m.handover("b", {"b"});
  s = m.next(t0);
  REQUIRE(s.what == ownership_step::list_writers);
  s = m.listed(strings{"inc-a", "inc-b"}, t0);
  std::vector<alert> work, restored;
  for (auto& e : owned_by({"a", "b"}, "a", 2))
    work.push_back(alert_of(e));
  s = rebuild(m, s, work, &restored);
  CHECK(restored.empty());
  REQUIRE(s.publish);
  CHECK(s.publish->ready);
  auto events = owned_by({"a", "b"}, "a", 3);
  auto plan = argus::domain::plan_ingest(m.routing(), events);
  CHECK(plan.here.empty());
  CHECK(plan.elsewhere["b"].size() == 3);
  // And a forward to it now is a conflict: the sender asks b.
  CHECK(argus::domain::judge_forwarded(m.routing(), events) ==
        forwarded_verdict::conflict);
}

TEST_CASE("ownership: value-less events take their located group's value "
          "or wait while groups move",
          "[unit]") {
  std::vector<event> events(4);
  for (size_t i = 0; i < events.size(); ++i) {
    events[i].event_manager_id = manager;
    events[i].dedup_key = "d" + std::to_string(i);
  }
  events[1].has_grouping_value = true;
  events[1].grouping_value = "own";
  auto asked = argus::domain::valueless(events);
  CHECK(asked.at == std::vector<size_t>{0, 2, 3});
  REQUIRE(asked.keys.size() == 3);
  CHECK(asked.keys[1] == alert_key{manager, "d2"});
  // Two nodes answer; a node that holds a key overrides "not found".
  std::vector<alert_location> found(3);
  argus::domain::merge_locations(found,
                                 {{true, {manager, true, "web"}}, {}, {}});
  argus::domain::merge_locations(found, {{}, {true, {manager, false, ""}}, {}});
  // The store knows d3's group (being handed over); a value-less stored
  // alert places nothing.
  alert stored;
  stored.event_manager_id = manager;
  stored.dedup_key = "d3";
  CHECK_FALSE(argus::domain::stored_location(stored).found);
  stored.has_grouping_value = true;
  stored.grouping_value = "db";
  auto unplaced = argus::domain::place(events, asked.at, found);
  CHECK(unplaced == std::vector<size_t>{3});
  CHECK(events[0].has_grouping_value);
  CHECK(events[0].grouping_value == "web");
  // Found in the group without a value: it stays value-less, and placed.
  CHECK_FALSE(events[2].has_grouping_value);
  auto moving = ownership_view{"a", {"a", "b"}, std::nullopt, false};
  auto plan = argus::domain::plan_ingest(moving, events, unplaced);
  REQUIRE(plan.waiting.size() >= 1);
  CHECK(plan.waiting[0].dedup_key == "d3");
  // Once settled, an unplaced one goes to the value-less group's owner.
  auto plan2 =
      argus::domain::plan_ingest(ready_view("a", {"a", "b"}), events, unplaced);
  CHECK(plan2.waiting.empty());
  found[2] = argus::domain::stored_location(stored);
  events[3].has_grouping_value = false;
  CHECK(argus::domain::place(events, asked.at, found).empty());
  CHECK(events[3].grouping_value == "db");
}

// -- the carrier --------------------------------------------------------------

namespace {

using clock_type = std::chrono::steady_clock;

/// Polls `pred` until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, milliseconds timeout = milliseconds{5000}) {
  auto deadline = clock_type::now() + timeout;
  while (!pred()) {
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(milliseconds{5});
  }
  return true;
}

/// What the hooks saw, in order.
struct recorder {
  std::mutex mtx;
  strings log;
  std::vector<event> accepted;
  std::vector<std::vector<event>> forwarded;
  std::function<caf::error(int call)> forward_result;
  /// Runs before an accept is recorded (outside the lock); an error fails
  /// that accept.
  std::function<caf::error(int call)> accept_gate;
  int accept_calls = 0;

  void note(std::string line) {
    std::lock_guard<std::mutex> guard{mtx};
    log.push_back(std::move(line));
  }
  bool saw(const std::string& line) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(log.begin(), log.end(), line) != log.end();
  }
  strings lines() {
    std::lock_guard<std::mutex> guard{mtx};
    return log;
  }
};

argus::actors::ownership_hooks hooks_of(const std::shared_ptr<recorder>& rec,
                                        const std::string& self) {
  argus::actors::ownership_hooks h;
  h.self_id = self;
  h.drain = [rec] {
    rec->note("drain");
    return caf::error{};
  };
  h.release = [rec](const strings& live) {
    rec->note("release " + std::to_string(live.size()));
    return caf::error{};
  };
  h.announce = [rec](const strings&) { rec->note("announce"); };
  h.open_work = [rec]() -> caf::expected<std::vector<alert>> {
    return std::vector<alert>{};
  };
  h.restore = [rec](std::vector<alert>) {
    rec->note("restore");
    return caf::error{};
  };
  h.forward = [rec](const std::vector<argus::actors::forward_share>& shares) {
    std::vector<caf::error> out;
    for (auto& share : shares) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->log.push_back("forward");
      rec->forwarded.push_back(*share.events);
      auto call = static_cast<int>(rec->forwarded.size());
      out.push_back(rec->forward_result ? rec->forward_result(call)
                                        : caf::error{});
    }
    return out;
  };
  h.accept = [rec](std::vector<event> xs) {
    int call = 0;
    {
      std::lock_guard<std::mutex> guard{rec->mtx};
      call = ++rec->accept_calls;
    }
    if (rec->accept_gate)
      if (auto err = rec->accept_gate(call))
        return err;
    std::lock_guard<std::mutex> guard{rec->mtx};
    rec->log.push_back("accept");
    for (auto& e : xs)
      rec->accepted.push_back(std::move(e));
    return caf::error{};
  };
  return h;
}

argus::actors::cluster_view cluster_view_of(const std::string& self,
                                            const strings& live) {
  argus::actors::cluster_view v;
  v.live = live;
  for (auto& id : live)
    if (id != self)
      v.peers[id] = caf::actor{};
  return v;
}

} // namespace

TEST_CASE("ownership carrier: carries out a transition, then routes by it",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  argus::actors::ownership o{hooks_of(rec, "a")};
  CHECK(o.live().empty());
  CHECK_FALSE(o.settled());
  o.on_handover("b", {"a", "b"});
  o.on_view(cluster_view_of("a", {"b", "a"}));
  REQUIRE(eventually([&] { return o.settled(); }));
  CHECK(o.live() == strings{"a", "b"});
  CHECK(rec->lines() == strings{"drain", "release 2", "announce", "restore"});
  std::vector<event> events = owned_by({"a", "b"}, "a", 3);
  for (auto& e : owned_by({"a", "b"}, "b", 2, "f"))
    events.push_back(e);
  REQUIRE_FALSE(o.ingest(events));
  std::lock_guard<std::mutex> guard{rec->mtx};
  CHECK(rec->accepted.size() == 3);
  for (auto& e : rec->accepted)
    CHECK(e.forward_id == 0);
  REQUIRE(rec->forwarded.size() == 1);
  CHECK(rec->forwarded[0].size() == 2);
  for (auto& e : rec->forwarded[0])
    CHECK(e.forward_id != 0);
}

TEST_CASE("ownership carrier: a forward the peer refuses is retried with the "
          "same ids",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  rec->forward_result = [](int call) {
    return call == 1 ? argus::make_error(argus::ec::conflict,
                                         "member b does not own this group")
                     : caf::error{};
  };
  argus::actors::ownership o{hooks_of(rec, "a")};
  o.on_handover("b", {"a", "b"});
  o.on_view(cluster_view_of("a", {"a", "b"}));
  REQUIRE(eventually([&] { return o.settled(); }));
  auto events = owned_by({"a", "b"}, "b", 3);
  REQUIRE_FALSE(o.ingest(events));
  std::lock_guard<std::mutex> guard{rec->mtx};
  REQUIRE(rec->forwarded.size() == 2);
  CHECK(keys_of(rec->forwarded[0]) == keys_of(events));
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(rec->forwarded[0][i].forward_id != 0);
    CHECK(rec->forwarded[1][i].forward_id == rec->forwarded[0][i].forward_id);
  }
  CHECK(rec->accepted.empty());
}

TEST_CASE("ownership carrier: forwarded events are accepted once and "
          "refused when not owned",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  argus::actors::ownership o{hooks_of(rec, "a")};
  o.on_handover("b", {"a", "b"});
  o.on_view(cluster_view_of("a", {"a", "b"}));
  REQUIRE(eventually([&] { return o.settled(); }));
  auto not_mine = owned_by({"a", "b"}, "b", 1, "theirs");
  CHECK(argus::code_of(o.accept_forwarded(not_mine)) == argus::ec::conflict);
  auto mine = owned_by({"a", "b"}, "a", 1, "mine");
  mine[0].forward_id = 42;
  REQUIRE_FALSE(o.accept_forwarded(mine));
  REQUIRE_FALSE(o.accept_forwarded(mine));
  std::lock_guard<std::mutex> guard{rec->mtx};
  CHECK(rec->accepted.size() == 1);
}

namespace {

/// Journals as the fence sees them: every writer's records (none fenced,
/// as every writer here is live).
struct live_journals : argus::storage::journal_fence {
  std::map<std::string, std::vector<std::pair<event, bool>>> records;

  /// What `keep` answers next: the lock held, a peer fenced this node,
  /// or no answer (the server unreachable).
  enum class lock_state { held, fenced, unreachable };
  std::atomic<lock_state> lock{lock_state::held};
  std::atomic<int> keeps{0};

  caf::error hold(const std::string&) override { return {}; }
  caf::expected<bool> keep() override {
    ++keeps;
    if (lock == lock_state::unreachable)
      return argus::make_error(argus::ec::unavailable, "no server");
    return lock == lock_state::held;
  }
  caf::expected<std::vector<std::string>> writers() override {
    std::vector<std::string> out;
    for (auto& entry : records)
      out.push_back(entry.first);
    return out;
  }
  caf::expected<bool> try_fence(const std::string&) override { return false; }
  caf::error await_writer_gone(const std::string&) override { return {}; }
  caf::error release(const std::string&) override { return {}; }
  caf::error read(const std::string& incarnation,
                  const std::function<void(event&, bool)>& fn) override {
    for (auto [e, done] : records[incarnation])
      fn(e, done);
    return {};
  }
  caf::error take_outbox(const std::string&, const std::string&) override {
    return argus::make_error(argus::ec::internal, "not a dead writer's");
  }
};

} // namespace

TEST_CASE("ownership carrier: a sender's retry of a forward the live "
          "previous owner journaled is dropped where the group went",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  auto hooks = hooks_of(rec, "a");
  hooks.incarnation = "inc-a";
  // b owned every group, journaled a forward for one a now gains, and
  // stays live: its sender's answer was lost, so the sender retries at a.
  auto journals = std::make_unique<live_journals>();
  auto retried = owned_by({"a", "b"}, "a", 1, "retried");
  retried[0].forward_id = 41;
  journals->records["inc-b"] = {{retried[0], true}};
  hooks.fence = std::move(journals);
  argus::actors::ownership o{std::move(hooks)};
  o.on_handover("b", {"a", "b"});
  auto view = cluster_view_of("a", {"a", "b"});
  view.incarnations = {{"a", "inc-a"}, {"b", "inc-b"}};
  o.on_view(view);
  REQUIRE(eventually([&] { return o.settled(); }));
  // The retry is answered as accepted and journaled nowhere; a new
  // forward is journaled here.
  REQUIRE_FALSE(o.accept_forwarded(retried));
  auto fresh = owned_by({"a", "b"}, "a", 1, "fresh");
  fresh[0].forward_id = 43;
  REQUIRE_FALSE(o.accept_forwarded(fresh));
  std::lock_guard<std::mutex> guard{rec->mtx};
  REQUIRE(rec->accepted.size() == 1);
  CHECK(rec->accepted[0].forward_id == 43);
}

namespace {

/// Node "a"'s hooks with `journals` as its fence, its lock checked every
/// `every`; a check that finds it fenced notes "fenced".
argus::actors::ownership_hooks
checked_hooks(const std::shared_ptr<recorder>& rec,
              std::unique_ptr<live_journals> journals,
              std::chrono::milliseconds every) {
  auto hooks = hooks_of(rec, "a");
  hooks.incarnation = "inc-a";
  hooks.keep_every = every;
  hooks.fenced = [rec] { rec->note("fenced"); };
  hooks.fence = std::move(journals);
  return hooks;
}

} // namespace

TEST_CASE("ownership carrier: checks its journal lock every few seconds "
          "and stops when a peer fenced it",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  auto journals = std::make_unique<live_journals>();
  auto* lock = journals.get();
  argus::actors::ownership o{
      checked_hooks(rec, std::move(journals), std::chrono::milliseconds{10})};
  o.on_view(cluster_view_of("a", {"a"}));
  REQUIRE(eventually([&] { return o.settled(); }));
  // Checked while nothing else happens, a failed check is retried.
  lock->lock = live_journals::lock_state::unreachable;
  auto seen = lock->keeps.load();
  REQUIRE(eventually([&] { return lock->keeps > seen + 2; }));
  CHECK_FALSE(rec->saw("fenced"));
  lock->lock = live_journals::lock_state::held;
  seen = lock->keeps.load();
  REQUIRE(eventually([&] { return lock->keeps > seen + 2; }));
  CHECK_FALSE(rec->saw("fenced"));
  lock->lock = live_journals::lock_state::fenced;
  REQUIRE(eventually([&] { return rec->saw("fenced"); }));
}

TEST_CASE("ownership carrier: a lock check that fell due during a step "
          "comes before the next step",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  auto journals = std::make_unique<live_journals>();
  auto* lock = journals.get();
  auto hooks =
      checked_hooks(rec, std::move(journals), std::chrono::milliseconds{50});
  // The drain outlasts the check's period (a process paused in it), and a
  // peer fences the node meanwhile.
  hooks.drain = [rec, lock] {
    rec->note("drain");
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
    lock->lock = live_journals::lock_state::fenced;
    return caf::error{};
  };
  argus::actors::ownership o{std::move(hooks)};
  o.on_view(cluster_view_of("a", {"a"}));
  REQUIRE(eventually([&] { return rec->saw("fenced"); }));
  REQUIRE(eventually([&] { return rec->saw("release 1"); }));
  auto lines = rec->lines();
  auto at = [&](const std::string& line) {
    return std::find(lines.begin(), lines.end(), line) - lines.begin();
  };
  CHECK(at("drain") < at("fenced"));
  CHECK(at("fenced") < at("release 1"));
}

namespace {

/// An accept gate whose first call blocks until `release`, then answers
/// `first_result`; later calls pass.
struct held_first_accept {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  caf::error first_result;

  caf::error operator()(int call) {
    if (call != 1)
      return {};
    entered.set_value();
    released.wait();
    return first_result;
  }
};

/// Sends the same forwarded events twice, the second while the first is
/// being journaled (a sender whose wait for the answer timed out retries),
/// and answers both calls' results.
std::pair<caf::error, caf::error>
forward_twice_while_journaling(const std::shared_ptr<recorder>& rec,
                               held_first_accept& gate) {
  rec->accept_gate = [&gate](int call) { return gate(call); };
  argus::actors::ownership o{hooks_of(rec, "a")};
  o.on_handover("b", {"a", "b"});
  o.on_view(cluster_view_of("a", {"a", "b"}));
  REQUIRE(eventually([&] { return o.settled(); }));
  auto mine = owned_by({"a", "b"}, "a", 2, "mine");
  mine[0].forward_id = 42;
  mine[1].forward_id = 43;
  auto first =
      std::async(std::launch::async, [&] { return o.accept_forwarded(mine); });
  gate.entered.get_future().wait();
  auto retry =
      std::async(std::launch::async, [&] { return o.accept_forwarded(mine); });
  // The copy waits for the first one's outcome instead of being journaled.
  CHECK(retry.wait_for(std::chrono::milliseconds{200}) ==
        std::future_status::timeout);
  gate.release.set_value();
  auto results = std::make_pair(first.get(), retry.get());
  o.stop();
  return results;
}

} // namespace

TEST_CASE("ownership carrier: a copy of forwarded events that arrives while "
          "the first is journaled waits, and is not journaled again",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  held_first_accept gate;
  auto [first, retry] = forward_twice_while_journaling(rec, gate);
  CHECK_FALSE(first);
  CHECK_FALSE(retry);
  std::lock_guard<std::mutex> guard{rec->mtx};
  CHECK(rec->accept_calls == 1);
  CHECK(rec->accepted.size() == 2);
}

TEST_CASE("ownership carrier: when the first copy of forwarded events fails "
          "to be journaled, the copy that waited for it is journaled",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  held_first_accept gate;
  gate.first_result =
      argus::make_error(argus::ec::unavailable, "the journal is unreachable");
  auto [first, retry] = forward_twice_while_journaling(rec, gate);
  CHECK(argus::code_of(first) == argus::ec::unavailable);
  CHECK_FALSE(retry);
  std::lock_guard<std::mutex> guard{rec->mtx};
  CHECK(rec->accept_calls == 2);
  CHECK(rec->accepted.size() == 2);
}
