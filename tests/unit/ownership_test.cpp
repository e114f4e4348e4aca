// The ownership of groups in a cluster, with its node faked: every hook is a
// lambda that records its calls, the journal fence is a fake, and peers are
// null handles the fake `forward` never uses.

#include "actors/journal.hpp"
#include "actors/ownership.hpp"

#include "domain/alert.hpp"
#include "domain/cluster.hpp"
#include "domain/error.hpp"
#include "domain/event.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
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

using argus::actors::cluster_view;
using argus::actors::ownership;
using argus::actors::ownership_hooks;
using argus::domain::alert;
using argus::domain::event;
using argus::storage::journal_fence;
using std::chrono::milliseconds;
using strings = std::vector<std::string>;

using clock_type = std::chrono::steady_clock;

constexpr const char* manager = "m";

/// Polls `pred` until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, milliseconds timeout = milliseconds{3000}) {
  auto deadline = clock_type::now() + timeout;
  while (!pred()) {
    if (clock_type::now() >= deadline)
      return false;
    std::this_thread::sleep_for(milliseconds{5});
  }
  return true;
}

std::string joined(const strings& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

std::string owner_of(const strings& live, const event& e) {
  return argus::domain::group_owner(live, e.event_manager_id,
                                    e.has_grouping_value, e.grouping_value);
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

/// Everything the hooks saw, in order.
struct recorder {
  std::mutex mtx;
  /// One line per hook call: "drain", "release a,b", "try_fence x=true"...
  strings log;
  std::vector<event> accepted;
  int accept_calls = 0;
  std::vector<std::vector<event>> forwarded;
  std::vector<std::pair<std::vector<event>, std::string>> adopted;
  std::vector<alert> restored;
  /// What `open_work` returns.
  std::vector<alert> work;
  /// Answers `forward`; succeeds when unset.
  std::function<caf::error(int call)> forward_result;
  /// Called by `announce`, e.g. to tell another ownership in the test.
  std::function<void(const strings& live)> on_announce;

  void note(std::string line) {
    std::lock_guard<std::mutex> guard{mtx};
    log.push_back(std::move(line));
  }

  strings lines() {
    std::lock_guard<std::mutex> guard{mtx};
    return log;
  }

  bool saw(const std::string& line) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(log.begin(), log.end(), line) != log.end();
  }

  /// Index of the first line equal to `line` (log size if none).
  size_t index_of(const std::string& line) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(log.begin(), log.end(), line) - log.begin();
  }

  int accepts() {
    std::lock_guard<std::mutex> guard{mtx};
    return accept_calls;
  }

  void clear_log() {
    std::lock_guard<std::mutex> guard{mtx};
    log.clear();
  }
};

/// Locks shared by the fake fences of one test, like PostgreSQL's advisory
/// locks: at most one holder per incarnation.
struct lock_table {
  std::mutex mtx;
  std::map<std::string, std::string> holder;

  std::string holder_of(const std::string& inc) {
    std::lock_guard<std::mutex> guard{mtx};
    auto it = holder.find(inc);
    return it == holder.end() ? std::string{} : it->second;
  }
};

/// A journal fence whose answers the test sets.
class fake_fence : public journal_fence {
public:
  struct record {
    event e;
    bool done;
  };

  explicit fake_fence(std::shared_ptr<recorder> rec, std::string who = "self",
                      std::shared_ptr<lock_table> locks = nullptr)
      : rec_(std::move(rec)), who_(std::move(who)), locks_(std::move(locks)) {}

  /// `try_fence(inc)` answers false this many times first.
  std::map<std::string, int> refusals;
  std::map<std::string, std::vector<record>> records;
  /// Runs before `try_fence` answers (to force an interleaving); set
  /// before the ownership runs.
  std::function<void(const std::string&)> before_try;

  caf::error hold(const std::string& incarnation) override {
    rec_->note("hold " + incarnation);
    return {};
  }

  /// What `writers` answers from now on.
  void set_writers(strings ws) {
    std::lock_guard<std::mutex> guard{mtx_};
    writers_ = std::move(ws);
  }

  /// Runs before `writers` answers from now on (to force an interleaving).
  void set_before_writers(std::function<void()> fn) {
    std::lock_guard<std::mutex> guard{mtx_};
    before_writers_ = std::move(fn);
  }

  caf::expected<strings> writers() override {
    std::function<void()> before;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      before = before_writers_;
    }
    if (before)
      before();
    rec_->note("writers");
    std::lock_guard<std::mutex> guard{mtx_};
    return writers_;
  }

  caf::expected<bool> try_fence(const std::string& incarnation) override {
    if (before_try)
      before_try(incarnation);
    bool got = take(incarnation);
    rec_->note("try_fence " + incarnation + "=" + (got ? "true" : "false"));
    return got;
  }

  caf::error release(const std::string& incarnation) override {
    if (locks_) {
      std::lock_guard<std::mutex> guard{locks_->mtx};
      auto it = locks_->holder.find(incarnation);
      if (it != locks_->holder.end() && it->second == who_)
        locks_->holder.erase(it);
    }
    rec_->note("unlock " + incarnation);
    return {};
  }

  caf::error read(const std::string& incarnation,
                  const std::function<void(event&, bool done)>& fn) override {
    rec_->note("read " + incarnation);
    for (auto r : records[incarnation])
      fn(r.e, r.done);
    return {};
  }

private:
  bool take(const std::string& incarnation) {
    auto& left = refusals[incarnation];
    if (left > 0) {
      --left;
      return false;
    }
    if (!locks_)
      return true;
    std::lock_guard<std::mutex> guard{locks_->mtx};
    auto& h = locks_->holder[incarnation];
    if (!h.empty() && h != who_)
      return false;
    h = who_;
    return true;
  }

  std::shared_ptr<recorder> rec_;
  std::string who_;
  std::shared_ptr<lock_table> locks_;
  std::mutex mtx_;
  strings writers_;
  std::function<void()> before_writers_;
};

/// Hooks that record into `rec`; `fence` may be null (durability off).
ownership_hooks make_hooks(const std::shared_ptr<recorder>& rec,
                           const std::string& self,
                           std::unique_ptr<journal_fence> fence = nullptr) {
  ownership_hooks h;
  h.self_id = self;
  h.incarnation = "inc-" + self;
  h.drain = [rec] {
    rec->note("drain");
    return caf::error{};
  };
  h.release = [rec](const strings& live) {
    rec->note("release " + joined(live));
    return caf::error{};
  };
  h.announce = [rec](const strings& live) {
    rec->note("announce " + joined(live));
    if (rec->on_announce)
      rec->on_announce(live);
  };
  h.open_work = [rec]() -> caf::expected<std::vector<alert>> {
    std::lock_guard<std::mutex> guard{rec->mtx};
    return rec->work;
  };
  h.restore = [rec](std::vector<alert> owned) {
    std::lock_guard<std::mutex> guard{rec->mtx};
    rec->log.push_back("restore");
    rec->restored = std::move(owned);
    return caf::error{};
  };
  if (fence)
    h.adopt = [rec](std::vector<event> xs, const std::string& from) {
      std::lock_guard<std::mutex> guard{rec->mtx};
      rec->log.push_back("adopt " + from);
      rec->adopted.emplace_back(std::move(xs), from);
      return caf::error{};
    };
  h.forward = [rec](const std::vector<argus::actors::forward_share>& shares) {
    std::vector<caf::error> out;
    for (auto& share : shares) {
      std::function<caf::error(int)> result;
      int call = 0;
      {
        std::lock_guard<std::mutex> guard{rec->mtx};
        rec->log.push_back("forward");
        rec->forwarded.push_back(*share.events);
        call = static_cast<int>(rec->forwarded.size());
        result = rec->forward_result;
      }
      out.push_back(result ? result(call) : caf::error{});
    }
    return out;
  };
  h.accept = [rec](std::vector<event> xs) {
    std::lock_guard<std::mutex> guard{rec->mtx};
    rec->log.push_back("accept");
    ++rec->accept_calls;
    for (auto& e : xs)
      rec->accepted.push_back(std::move(e));
    return caf::error{};
  };
  h.fence = std::move(fence);
  return h;
}

/// A view of `live`, with null handles for the peers and incarnations
/// "inc-<id>" for `members` (live or not).
cluster_view view_of(const std::string& self, const strings& live,
                     const strings& members = {}) {
  cluster_view v;
  v.live = live;
  for (auto& id : live) {
    if (id != self)
      v.peers[id] = caf::actor{};
    v.incarnations[id] = "inc-" + id;
  }
  for (auto& id : members)
    v.incarnations[id] = "inc-" + id;
  return v;
}

/// Hands `o` the view {a, b} as node a, with b's hand-over already in, and
/// waits until it took effect.
void settle_two(ownership& o, recorder& rec) {
  o.on_handover("b", {"a", "b"});
  o.on_view(view_of("a", {"a", "b"}));
  REQUIRE(eventually([&] { return rec.saw("restore"); }));
}

} // namespace

TEST_CASE("ownership: before any view, events wait and then fail as "
          "unavailable",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  ownership o{make_hooks(rec, "a")};
  CHECK(o.live().empty());
  auto start = clock_type::now();
  auto ingested = std::async(std::launch::async, [&] {
    return o.ingest(owned_by({"a"}, "a", 2, "ingest"));
  });
  // A forwarded request waits for the gate for five seconds.
  auto forwarded = o.accept_forwarded(owned_by({"a"}, "a", 1, "fwd"));
  auto waited = clock_type::now() - start;
  REQUIRE(forwarded);
  CHECK(argus::code_of(forwarded) == argus::ec::unavailable);
  CHECK(waited >= milliseconds{4500});
  CHECK(waited < milliseconds{7000});
  // The front's ingest keeps waiting (its deadline is ten seconds)...
  CHECK(ingested.wait_for(milliseconds{0}) == std::future_status::timeout);
  CHECK(rec->accepts() == 0);
  // ... and gives up as unavailable when the node stops.
  o.stop();
  REQUIRE(ingested.wait_for(milliseconds{2000}) == std::future_status::ready);
  auto err = ingested.get();
  REQUIRE(err);
  CHECK(argus::code_of(err) == argus::ec::unavailable);
  CHECK(rec->accepts() == 0);
  CHECK(rec->forwarded.empty());
  CHECK(rec->lines().empty());
}

TEST_CASE("ownership: ingest waits for the first view, then goes on",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  ownership o{make_hooks(rec, "a")};
  auto events = owned_by({"a"}, "a", 3);
  auto ingested =
      std::async(std::launch::async, [&] { return o.ingest(events); });
  CHECK(ingested.wait_for(milliseconds{200}) == std::future_status::timeout);
  CHECK(rec->accepts() == 0);
  o.on_view(view_of("a", {"a"}));
  REQUIRE(ingested.wait_for(milliseconds{3000}) == std::future_status::ready);
  CHECK_FALSE(ingested.get());
  CHECK(keys_of(rec->accepted) == keys_of(events));
  // The transition ran before the events went in.
  CHECK(rec->index_of("restore") < rec->index_of("accept"));
}

TEST_CASE("ownership: a node alone accepts every event itself", "[unit]") {
  auto rec = std::make_shared<recorder>();
  // Its open work includes groups that other nodes would own.
  for (auto& e : owned_by({"a", "b"}, "b", 3, "work"))
    rec->work.push_back(alert_of(e));
  ownership o{make_hooks(rec, "a")};
  o.on_view(view_of("a", {"a"}));
  // Groups any node would own among {a, b}, all a's now.
  auto events = owned_by({"a", "b"}, "a", 5);
  for (auto& e : owned_by({"a", "b"}, "b", 5, "f"))
    events.push_back(e);
  REQUIRE_FALSE(o.ingest(events));
  CHECK(o.live() == strings{"a"});
  CHECK(keys_of(rec->accepted) == keys_of(events));
  CHECK(rec->accepts() == 1);
  CHECK(rec->forwarded.empty());
  for (auto& e : rec->accepted)
    CHECK(e.forward_id == 0);
  // Its first transition rebuilt all the open work, it being the only
  // owner, and waited for nobody.
  CHECK(rec->restored.size() == 3);
  CHECK(rec->lines() ==
        strings{"drain", "release a", "announce a", "restore", "accept"});
}

TEST_CASE("ownership: two nodes split events by the owner of their group",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  auto mine = owned_by({"a", "b"}, "a", 2, "work-a");
  auto theirs = owned_by({"a", "b"}, "b", 2, "work-b");
  for (auto& e : mine)
    rec->work.push_back(alert_of(e));
  for (auto& e : theirs)
    rec->work.push_back(alert_of(e));
  ownership o{make_hooks(rec, "a")};
  settle_two(o, *rec);
  // Only the groups a owns are rebuilt.
  {
    std::lock_guard<std::mutex> guard{rec->mtx};
    REQUIRE(rec->restored.size() == 2);
    for (auto& a : rec->restored)
      CHECK(argus::domain::group_owner({"a", "b"}, a.event_manager_id,
                                       a.has_grouping_value,
                                       a.grouping_value) == "a");
  }
  std::vector<event> events;
  for (int i = 0; i < 40; ++i) {
    event e;
    e.event_manager_id = manager;
    e.dedup_key = "k-" + std::to_string(i);
    e.has_grouping_value = true;
    e.grouping_value = "value-" + std::to_string(i);
    events.push_back(e);
  }
  REQUIRE_FALSE(o.ingest(events));
  std::vector<event> forwarded;
  for (auto& batch : rec->forwarded)
    forwarded.insert(forwarded.end(), batch.begin(), batch.end());
  // Both shares are non-empty with 40 groups, or the check below is weak.
  REQUIRE_FALSE(rec->accepted.empty());
  REQUIRE_FALSE(forwarded.empty());
  CHECK(rec->accepted.size() + forwarded.size() == events.size());
  for (auto& e : rec->accepted) {
    CHECK(owner_of({"a", "b"}, e) == "a");
    CHECK(e.forward_id == 0);
  }
  std::set<uint64_t> ids;
  for (auto& e : forwarded) {
    CHECK(owner_of({"a", "b"}, e) == "b");
    CHECK(e.forward_id != 0);
    ids.insert(e.forward_id);
  }
  // Every forwarded event has an id of its own.
  CHECK(ids.size() == forwarded.size());
  CHECK(rec->forwarded.size() == 1);
}

TEST_CASE("ownership: a forward the peer refuses is retried", "[unit]") {
  auto rec = std::make_shared<recorder>();
  rec->forward_result = [](int call) {
    return call == 1 ? argus::make_error(argus::ec::conflict,
                                         "member b does not own this group")
                     : caf::error{};
  };
  ownership o{make_hooks(rec, "a")};
  settle_two(o, *rec);
  auto events = owned_by({"a", "b"}, "b", 3);
  REQUIRE_FALSE(o.ingest(events));
  std::lock_guard<std::mutex> guard{rec->mtx};
  REQUIRE(rec->forwarded.size() == 2);
  CHECK(keys_of(rec->forwarded[0]) == keys_of(events));
  CHECK(keys_of(rec->forwarded[1]) == keys_of(events));
  // The retry carries the same forwarding ids, so the owner can tell a
  // retry of an event it journaled already.
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(rec->forwarded[0][i].forward_id != 0);
    CHECK(rec->forwarded[1][i].forward_id == rec->forwarded[0][i].forward_id);
  }
  CHECK(rec->accept_calls == 0);
}

TEST_CASE("ownership: forwarded events are refused when not owned and "
          "accepted once",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  ownership o{make_hooks(rec, "a")};
  settle_two(o, *rec);
  auto not_mine = owned_by({"a", "b"}, "b", 1, "theirs");
  not_mine[0].forward_id = 41;
  auto err = o.accept_forwarded(not_mine);
  REQUIRE(err);
  CHECK(argus::code_of(err) == argus::ec::conflict);
  CHECK(rec->accepts() == 0);
  // A batch with one event of another owner is refused whole.
  auto mixed = owned_by({"a", "b"}, "a", 1, "mixed");
  mixed[0].forward_id = 40;
  mixed.push_back(not_mine[0]);
  CHECK(argus::code_of(o.accept_forwarded(mixed)) == argus::ec::conflict);
  CHECK(rec->accepts() == 0);
  auto mine = owned_by({"a", "b"}, "a", 2, "mine");
  mine[0].forward_id = 42;
  mine[1].forward_id = 43;
  REQUIRE_FALSE(o.accept_forwarded({mine[0]}));
  CHECK(rec->accepts() == 1);
  // The sender's retry after a lost answer is not journaled again.
  REQUIRE_FALSE(o.accept_forwarded({mine[0]}));
  CHECK(rec->accepts() == 1);
  // In a batch, only the new one goes in.
  REQUIRE_FALSE(o.accept_forwarded(mine));
  CHECK(rec->accepts() == 2);
  std::lock_guard<std::mutex> guard{rec->mtx};
  REQUIRE(rec->accepted.size() == 2);
  CHECK(rec->accepted[0].forward_id == 42);
  CHECK(rec->accepted[1].forward_id == 43);
}

TEST_CASE("ownership: a live previous owner's hand-over comes before the "
          "rebuild",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  ownership o{make_hooks(rec, "a")};
  // Node a joins b: b held every group before.
  o.on_view(view_of("a", {"a", "b"}));
  REQUIRE(eventually([&] { return rec->saw("announce a,b"); }));
  CHECK(rec->lines() == strings{"drain", "release a,b", "announce a,b"});
  std::this_thread::sleep_for(milliseconds{300});
  CHECK_FALSE(rec->saw("restore"));
  // A hand-over for another membership does not count.
  o.on_handover("b", {"a", "b", "c"});
  std::this_thread::sleep_for(milliseconds{300});
  CHECK_FALSE(rec->saw("restore"));
  // Events this node owns wait meanwhile.
  auto events = owned_by({"a", "b"}, "a", 2);
  auto ingested =
      std::async(std::launch::async, [&] { return o.ingest(events); });
  CHECK(ingested.wait_for(milliseconds{100}) == std::future_status::timeout);
  CHECK(rec->accepts() == 0);
  o.on_handover("b", {"b", "a"});
  REQUIRE(eventually([&] { return rec->saw("restore"); }));
  REQUIRE(ingested.wait_for(milliseconds{3000}) == std::future_status::ready);
  CHECK_FALSE(ingested.get());
  CHECK(rec->lines() ==
        strings{"drain", "release a,b", "announce a,b", "restore", "accept"});
}

TEST_CASE("ownership: a dead previous owner is fenced before the rebuild",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  auto fence = std::make_unique<fake_fence>(rec);
  auto* f = fence.get();
  f->refusals["inc-b"] = 3;
  ownership o{make_hooks(rec, "a", std::move(fence))};
  settle_two(o, *rec);
  // Nothing to fence while b is live.
  CHECK(rec->index_of("try_fence inc-b=false") == rec->lines().size());
  rec->clear_log();
  SECTION("without a hand-over, its journal lock is waited for") {
    // b died: it never handed over for {a}.
    o.on_view(view_of("a", {"a"}, {"b"}));
    REQUIRE(eventually([&] { return rec->saw("unlock inc-b"); }));
    auto lines = rec->lines();
    CHECK(lines == strings{"drain", "release a", "announce a", "writers",
                           "try_fence inc-b=false", "try_fence inc-b=false",
                           "try_fence inc-b=false", "try_fence inc-b=true",
                           "restore", "read inc-b", "unlock inc-b"});
    // And the view is in effect.
    REQUIRE_FALSE(o.ingest(owned_by({"a", "b"}, "b", 1)));
    CHECK(rec->accepts() == 1);
  }
  SECTION("after a clean hand-over, nothing is fenced") {
    o.on_handover("b", {"a"});
    o.on_view(view_of("a", {"a"}, {"b"}));
    REQUIRE(eventually([&] { return rec->saw("restore"); }));
    CHECK(rec->lines() ==
          strings{"drain", "release a", "announce a", "writers", "restore"});
  }
}

TEST_CASE("ownership: a dead writer's records this node owns are adopted",
          "[unit]") {
  auto rec = std::make_shared<recorder>();
  auto fence = std::make_unique<fake_fence>(rec);
  auto* f = fence.get();
  // Its own journal and the live peer's are not orphans.
  f->set_writers({"inc-a", "inc-b", "inc-dead"});
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
  f->records["inc-dead"] = {{own[0], false},
                            {other[0], false},
                            {own[1], false},
                            {own[2], true},
                            {other[1], false}};
  ownership o{make_hooks(rec, "a", std::move(fence))};
  o.on_handover("b", live);
  o.on_view(view_of("a", live, {"dead"}));
  REQUIRE(eventually([&] { return rec->saw("unlock inc-dead"); }));
  auto lines = rec->lines();
  CHECK(lines == strings{"drain", "release a,b", "announce a,b", "writers",
                         "try_fence inc-dead=true", "restore", "read inc-dead",
                         "adopt inc-dead", "unlock inc-dead"});
  {
    std::lock_guard<std::mutex> guard{rec->mtx};
    REQUIRE(rec->adopted.size() == 1);
    CHECK(rec->adopted[0].second == "inc-dead");
    auto& adopted = rec->adopted[0].first;
    REQUIRE(adopted.size() == 2);
    // In journal order, with their old numbers (the journal renumbers).
    CHECK(adopted[0].dedup_key == own[0].dedup_key);
    CHECK(adopted[0].seq == 1);
    CHECK(adopted[1].dedup_key == own[1].dedup_key);
    CHECK(adopted[1].seq == 3);
    CHECK(adopted[1].forward_id == 777);
  }
  // The sender's retries of what the dead node journaled are recognised:
  // the applied one and the adopted one alike.
  auto retry = own[2];
  retry.seq = 0;
  REQUIRE_FALSE(o.accept_forwarded({retry}));
  CHECK(rec->accepts() == 0);
  retry = own[1];
  retry.seq = 0;
  REQUIRE_FALSE(o.accept_forwarded({retry}));
  CHECK(rec->accepts() == 0);
  // A new forwarded event is accepted.
  auto fresh = owned_by(live, "a", 1, "fresh");
  fresh[0].forward_id = 999;
  REQUIRE_FALSE(o.accept_forwarded(fresh));
  CHECK(rec->accepts() == 1);
}

// Journal locks are held while a node waits for the next one, so every node
// must take them in one order. Here node x loses member c (incarnation D1)
// while node y joins; a writer D0 that died earlier still has records (e.g.
// applied forwarded ones, kept a while for their ids). The fakes force the
// interleaving in which x would lock D1 first and y D0 first if each used
// its own order.
TEST_CASE("ownership: two nodes fencing the same dead writers do not "
          "deadlock",
          "[unit]") {
  auto locks = std::make_shared<lock_table>();
  auto rec_x = std::make_shared<recorder>();
  auto rec_y = std::make_shared<recorder>();
  auto fence_x = std::make_unique<fake_fence>(rec_x, "x", locks);
  auto fence_y = std::make_unique<fake_fence>(rec_y, "y", locks);
  auto* fx = fence_x.get();
  auto* fy = fence_y.get();
  fy->set_writers({"inc-D0", "inc-D1"});
  // y first tries D1 only once x locked it (x would get there first anyway: it
  // fences its dead previous owner before it even lists the writers).
  auto y_tried = std::make_shared<std::atomic<bool>>(false);
  fy->before_try = [locks, y_tried](const std::string& inc) {
    if (inc == "inc-D1" && !y_tried->exchange(true))
      eventually([&] { return locks->holder_of("inc-D1") == "x"; },
                 milliseconds{500});
  };
  auto hooks_x = make_hooks(rec_x, "x", std::move(fence_x));
  auto hooks_y = make_hooks(rec_y, "y", std::move(fence_y));
  // inc-D1 is the incarnation of member c; inc-D0 one of a member that
  // died earlier.
  auto view_xc = view_of("x", {"c", "x"});
  view_xc.incarnations["c"] = "inc-D1";
  auto view_xy = view_of("x", {"x", "y"});
  view_xy.incarnations["c"] = "inc-D1";
  ownership x{std::move(hooks_x)};
  // x and c were a cluster; x took that view before D0 had records.
  x.on_handover("c", {"c", "x"});
  x.on_view(view_xc);
  REQUIRE(eventually([&] { return rec_x->saw("restore"); }));
  rec_x->clear_log();
  fx->set_writers({"inc-D0", "inc-D1"});
  // x first lists the writers once y locked D0.
  auto x_listed = std::make_shared<std::atomic<bool>>(false);
  fx->set_before_writers([locks, x_listed] {
    if (!x_listed->exchange(true))
      eventually([&] { return locks->holder_of("inc-D0") == "y"; },
                 milliseconds{500});
  });
  ownership y{std::move(hooks_y)};
  rec_x->on_announce = [&y](const strings& live) { y.on_handover("x", live); };
  // c dies and y joins: one view for both.
  y.on_view(view_of("y", {"x", "y"}, {"c"}));
  x.on_view(view_xy);
  bool x_done =
      eventually([&] { return rec_x->saw("restore"); }, milliseconds{1500});
  bool y_done =
      eventually([&] { return rec_y->saw("restore"); }, milliseconds{300});
  INFO("x: " << joined(rec_x->lines()));
  INFO("y: " << joined(rec_y->lines()));
  CHECK(x_done);
  CHECK(y_done);
  x.stop();
  y.stop();
}
