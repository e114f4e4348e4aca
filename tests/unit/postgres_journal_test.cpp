// The PostgreSQL journal backend: appends are transactions, replay is in
// sequence order with every field, trimming never lets numbering restart.
// Clustered nodes share the table, each under its own writer id; a fence
// locks a dead writer's journal for a taker, and the storage removes
// records in the transaction that stores their effects.

#include "actors/journal.hpp"
#include "storage/store.hpp"

#include "domain/alert.hpp"
#include "domain/error.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using argus::domain::event;
using argus::storage::journal_backend;
using argus::test::pg_schema;
using argus::test::pg_session;

std::unique_ptr<journal_backend> open_or_fail(const std::string& dsn) {
  auto j = argus::storage::open_postgres_journal(dsn);
  if (!j)
    FAIL("open failed: " << argus::message_of(j.error()));
  return std::move(*j);
}

/// An event with every field set to something other than its default.
event make_event(uint64_t seq) {
  event e;
  e.seq = seq;
  e.event_manager_id = "m" + std::to_string(seq % 3);
  e.dedup_key = "key-" + std::to_string(seq);
  e.act =
      seq % 2 ? argus::domain::action::resolve : argus::domain::action::trigger;
  e.summary = "summary ü " + std::to_string(seq);
  e.sev = argus::domain::severity::medium;
  e.class_name = "disk";
  e.details = R"({"n":)" + std::to_string(seq) + "}";
  e.has_grouping_value = true;
  e.grouping_value = "host-" + std::to_string(seq);
  e.window = std::chrono::seconds{300} + std::chrono::nanoseconds{seq};
  e.received_at = argus::domain::time_point{
      std::chrono::nanoseconds{1'700'000'000'123'456'789LL + int64_t(seq)}};
  e.auto_resolve_after =
      std::chrono::seconds{60} + std::chrono::nanoseconds{seq};
  return e;
}

std::vector<event> events(uint64_t first, uint64_t last) {
  std::vector<event> result;
  for (auto seq = first; seq <= last; ++seq)
    result.push_back(make_event(seq));
  return result;
}

std::vector<event> replayed(journal_backend& j, uint64_t after) {
  std::vector<event> result;
  auto err = j.replay(after, [&](event& e) { result.push_back(e); });
  if (err)
    FAIL("replay failed: " << argus::message_of(err));
  return result;
}

uint64_t last_seq(journal_backend& j) {
  auto x = j.last_seq();
  if (!x)
    FAIL("last_seq failed: " << argus::message_of(x.error()));
  return *x;
}

void check_same(const event& x, const event& y) {
  CHECK(x.seq == y.seq);
  CHECK(x.event_manager_id == y.event_manager_id);
  CHECK(x.dedup_key == y.dedup_key);
  CHECK(x.act == y.act);
  CHECK(x.summary == y.summary);
  CHECK(x.sev == y.sev);
  CHECK(x.class_name == y.class_name);
  CHECK(x.details == y.details);
  CHECK(x.has_grouping_value == y.has_grouping_value);
  CHECK(x.grouping_value == y.grouping_value);
  CHECK(x.window == y.window);
  CHECK(x.received_at == y.received_at);
  CHECK(x.auto_resolve_after == y.auto_resolve_after);
}

} // namespace

TEST_CASE("postgres journal: events replay in order with every field",
          "[unit]") {
  pg_schema schema;
  auto j = open_or_fail(schema.dsn());
  CHECK(last_seq(*j) == 0);
  CHECK(replayed(*j, 0).empty());
  REQUIRE_FALSE(j->append(events(1, 3)));
  REQUIRE_FALSE(j->append(events(4, 4)));
  REQUIRE_FALSE(j->append({}));
  CHECK(last_seq(*j) == 4);
  auto all = replayed(*j, 0);
  REQUIRE(all.size() == 4);
  for (size_t i = 0; i < all.size(); ++i)
    check_same(all[i], make_event(i + 1));
  auto later = replayed(*j, 2);
  REQUIRE(later.size() == 2);
  CHECK(later[0].seq == 3);
  CHECK(later[1].seq == 4);
  CHECK(replayed(*j, 4).empty());
  SECTION("texts with NUL bytes") {
    auto e = make_event(5);
    e.summary = std::string("a\0b\1", 4);
    e.dedup_key = std::string("\0", 1);
    REQUIRE_FALSE(j->append({e}));
    auto back = replayed(*j, 4);
    REQUIRE(back.size() == 1);
    check_same(back[0], e);
  }
  SECTION("an event without a grouping value and with empty texts") {
    event plain;
    plain.seq = 5;
    plain.event_manager_id = "m";
    plain.dedup_key = "k";
    plain.details = "";
    REQUIRE_FALSE(j->append({plain}));
    auto back = replayed(*j, 4);
    REQUIRE(back.size() == 1);
    check_same(back[0], plain);
  }
}

TEST_CASE("postgres journal: it survives reopening, beside the storage",
          "[unit]") {
  pg_schema schema;
  {
    // The storage and the journal share one schema; either may open first.
    auto j = open_or_fail(schema.dsn());
    REQUIRE_FALSE(j->append(events(1, 10)));
    auto store = argus::storage::open_postgres_store(schema.dsn());
    REQUIRE(store);
  }
  auto j = open_or_fail(schema.dsn());
  CHECK(last_seq(*j) == 10);
  CHECK(replayed(*j, 0).size() == 10);
}

TEST_CASE("postgres journal: trimming drops events but not the numbering",
          "[unit]") {
  pg_schema schema;
  auto j = open_or_fail(schema.dsn());
  REQUIRE_FALSE(j->append(events(1, 10)));
  REQUIRE_FALSE(j->trim_through(4));
  auto rest = replayed(*j, 0);
  REQUIRE(rest.size() == 6);
  CHECK(rest.front().seq == 5);
  REQUIRE_FALSE(j->trim_through(10));
  CHECK(replayed(*j, 0).empty());
  CHECK(last_seq(*j) == 10);
  // Reopened, it still knows where numbering stands.
  j = open_or_fail(schema.dsn());
  CHECK(last_seq(*j) == 10);
  REQUIRE_FALSE(j->append(events(11, 12)));
  CHECK(replayed(*j, 0).size() == 2);
  CHECK(last_seq(*j) == 12);
}

TEST_CASE("postgres journal: a failed append stores nothing", "[unit]") {
  pg_schema schema;
  auto j = open_or_fail(schema.dsn());
  REQUIRE_FALSE(j->append(events(1, 3)));
  // PostgreSQL refuses bytes that are not UTF-8 (the HTTP front never lets
  // them through): 5 fails, so 4 is not kept either.
  auto bad = events(4, 5);
  bad[1].summary = "not \xff UTF-8";
  auto err = j->append(bad);
  REQUIRE(err);
  CHECK(argus::code_of(err) == argus::ec::internal);
  CHECK_THAT(argus::message_of(err), Catch::StartsWith("postgres: "));
  CHECK(last_seq(*j) == 3);
  CHECK(replayed(*j, 0).size() == 3);
  // And the connection serves the next append.
  REQUIRE_FALSE(j->append(events(4, 5)));
  CHECK(replayed(*j, 0).size() == 5);
}

TEST_CASE("postgres journal: a failed append of more than one pipeline "
          "chunk stores nothing",
          "[unit]") {
  // Up to a chunk (256 statements) an append is one pipeline, committed
  // by its Sync; past it, BEGIN and COMMIT wrap the chunks.
  pg_schema schema;
  auto j = open_or_fail(schema.dsn());
  auto bad = events(1, 600);
  bad[598].summary = "not \xff UTF-8";
  REQUIRE(j->append(bad));
  CHECK(last_seq(*j) == 0);
  CHECK(replayed(*j, 0).empty());
  REQUIRE_FALSE(j->append(events(1, 600)));
  CHECK(replayed(*j, 0).size() == 600);
}

TEST_CASE("postgres journal: an append after the connection was lost while "
          "idle goes through",
          "[unit]") {
  pg_schema schema;
  // Its own application name, so that only this journal's session ends.
  auto app = "argus_lost_" + schema.name();
  auto j = open_or_fail(schema.dsn() + " application_name=" + app);
  REQUIRE_FALSE(j->append(events(1, 3)));
  CHECK(schema.query_int("SELECT COUNT(*) FROM (SELECT pg_terminate_backend"
                         "(pid) FROM pg_stat_activity WHERE"
                         " application_name = '" +
                         app + "') AS t") == 1);
  REQUIRE_FALSE(j->append(events(4, 5)));
  auto all = replayed(*j, 0);
  REQUIRE(all.size() == 5);
  CHECK(all.back().seq == 5);
}

TEST_CASE("postgres journal: an append replaces what a failed-looking one "
          "left",
          "[unit]") {
  pg_schema schema;
  auto j = open_or_fail(schema.dsn());
  REQUIRE_FALSE(j->append(events(1, 5)));
  // As if 3..5 had been reported failed: the caller numbers the next
  // events from 3 again.
  auto again = events(3, 4);
  again[0].dedup_key = "again-3";
  again[1].dedup_key = "again-4";
  REQUIRE_FALSE(j->append(again));
  auto all = replayed(*j, 0);
  REQUIRE(all.size() == 4);
  CHECK(all[2].dedup_key == "again-3");
  CHECK(all[3].dedup_key == "again-4");
  CHECK(last_seq(*j) == 4);
}

TEST_CASE("postgres journal: a long backlog replays across queries", "[unit]") {
  pg_schema schema;
  auto j = open_or_fail(schema.dsn());
  // More than one replay query's worth, appended as a few group commits.
  for (uint64_t first = 1; first <= 4500; first += 1500)
    REQUIRE_FALSE(j->append(events(first, first + 1499)));
  CHECK(last_seq(*j) == 4500);
  uint64_t expected = 101;
  bool in_order = true;
  size_t count = 0;
  REQUIRE_FALSE(j->replay(100, [&](event& e) {
    in_order = in_order && e.seq == expected;
    ++expected;
    ++count;
  }));
  CHECK(in_order);
  CHECK(count == 4400);
}

TEST_CASE("postgres journal: an unreachable server is unavailable", "[unit]") {
  auto j = argus::storage::open_postgres_journal(
      "host=127.0.0.1 port=1 dbname=argus user=argus connect_timeout=2");
  REQUIRE_FALSE(j);
  CHECK(argus::code_of(j.error()) == argus::ec::unavailable);
  CHECK_THAT(argus::message_of(j.error()),
             Catch::StartsWith("postgres: cannot connect"));
}

// --- one journal per writer (clustered nodes share the table)

namespace {

using argus::storage::journal_fence;

std::unique_ptr<journal_backend> open_or_fail(const std::string& dsn,
                                              const std::string& id) {
  auto j = argus::storage::open_postgres_journal(dsn, id);
  if (!j)
    FAIL("open failed: " << argus::message_of(j.error()));
  return std::move(*j);
}

std::unique_ptr<journal_fence> open_fence_or_fail(const std::string& dsn) {
  auto f = argus::storage::open_postgres_fence(dsn);
  if (!f)
    FAIL("open failed: " << argus::message_of(f.error()));
  return std::move(*f);
}

/// An incarnation id nobody else uses: advisory locks are per database, not
/// per schema, and concurrent test runs share the server.
std::string fresh_incarnation(const std::string& node) {
  return node + "/" + argus::domain::random_uuid();
}

std::vector<uint64_t> seqs_of(const std::vector<event>& xs) {
  std::vector<uint64_t> out;
  for (auto& e : xs)
    out.push_back(e.seq);
  return out;
}

std::vector<std::string> keys_of(const std::vector<event>& xs) {
  std::vector<std::string> out;
  for (auto& e : xs)
    out.push_back(e.dedup_key);
  return out;
}

/// `events(first, last)` with keys naming the writer, so that two journals'
/// records with equal numbers tell apart.
std::vector<event> events_of(const std::string& writer, uint64_t first,
                             uint64_t last) {
  auto xs = events(first, last);
  for (auto& e : xs)
    e.dedup_key = writer + "-" + std::to_string(e.seq);
  return xs;
}

/// A fence's view of one writer's records: (seq, done) in order.
std::vector<std::pair<uint64_t, bool>> fence_read(journal_fence& f,
                                                  const std::string& id) {
  std::vector<std::pair<uint64_t, bool>> out;
  auto err =
      f.read(id, [&](event& e, bool done) { out.emplace_back(e.seq, done); });
  if (err)
    FAIL("fence read failed: " << argus::message_of(err));
  return out;
}

std::vector<std::string> writers_of(journal_fence& f) {
  auto ws = f.writers();
  if (!ws)
    FAIL("writers failed: " << argus::message_of(ws.error()));
  auto out = std::move(*ws);
  std::sort(out.begin(), out.end());
  return out;
}

/// Polls `try_fence` for up to five seconds: PostgreSQL frees a session's
/// advisory locks once it notices the session ended.
bool fence_within(journal_fence& f, const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  for (;;) {
    auto got = f.try_fence(id);
    if (!got)
      FAIL("try_fence failed: " << argus::message_of(got.error()));
    if (*got)
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
}

bool try_fence(journal_fence& f, const std::string& id) {
  auto got = f.try_fence(id);
  if (!got)
    FAIL("try_fence failed: " << argus::message_of(got.error()));
  return *got;
}

} // namespace

TEST_CASE("postgres journal: writers number, replay and trim apart", "[unit]") {
  pg_schema schema;
  auto a = open_or_fail(schema.dsn(), "a/1");
  auto b = open_or_fail(schema.dsn(), "b/1");
  auto single = open_or_fail(schema.dsn());
  CHECK(last_seq(*a) == 0);
  CHECK(last_seq(*b) == 0);
  // Equal numbers in different journals do not collide.
  REQUIRE_FALSE(a->append(events_of("a", 1, 3)));
  REQUIRE_FALSE(b->append(events_of("b", 1, 2)));
  REQUIRE_FALSE(single->append(events_of("s", 1, 4)));
  CHECK(last_seq(*a) == 3);
  CHECK(last_seq(*b) == 2);
  CHECK(last_seq(*single) == 4);
  CHECK(keys_of(replayed(*a, 0)) ==
        std::vector<std::string>{"a-1", "a-2", "a-3"});
  CHECK(keys_of(replayed(*b, 0)) == std::vector<std::string>{"b-1", "b-2"});
  CHECK(keys_of(replayed(*single, 0)) ==
        std::vector<std::string>{"s-1", "s-2", "s-3", "s-4"});
  CHECK(keys_of(replayed(*a, 1)) == std::vector<std::string>{"a-2", "a-3"});
  // Trimming one journal leaves the others alone.
  REQUIRE_FALSE(a->trim_through(2));
  CHECK(keys_of(replayed(*a, 0)) == std::vector<std::string>{"a-3"});
  CHECK(replayed(*b, 0).size() == 2);
  CHECK(replayed(*single, 0).size() == 4);
  // An append replacing numbers it reuses replaces only its own journal's.
  auto again = events_of("b-again", 2, 2);
  REQUIRE_FALSE(b->append(again));
  CHECK(keys_of(replayed(*b, 0)) ==
        std::vector<std::string>{"b-1", "b-again-2"});
  CHECK(keys_of(replayed(*a, 0)) == std::vector<std::string>{"a-3"});
  CHECK(replayed(*single, 0).size() == 4);
  // The single node's journal keeps its numbering through a full trim and a
  // reopen, as before there were writer ids.
  REQUIRE_FALSE(single->trim_through(4));
  CHECK(replayed(*single, 0).empty());
  CHECK(last_seq(*single) == 4);
  single = open_or_fail(schema.dsn());
  CHECK(last_seq(*single) == 4);
  REQUIRE_FALSE(single->append(events_of("s", 5, 5)));
  CHECK(keys_of(replayed(*single, 0)) == std::vector<std::string>{"s-5"});
  // A clustered writer's records never show up in the single journal.
  CHECK(replayed(*b, 0).size() == 2);
  CHECK(last_seq(*a) == 3);
}

TEST_CASE("postgres journal: adopt moves a dead writer's records", "[unit]") {
  pg_schema schema;
  auto dead = open_or_fail(schema.dsn(), "dead/1");
  auto taker = open_or_fail(schema.dsn(), "taker/1");
  auto original = events_of("dead", 1, 4);
  original[1].forward_id = 0x1234;
  // Random ids use all 64 bits; the column is a signed BIGINT.
  original[3].forward_id = 0xF00D'0000'0000'0001ULL;
  REQUIRE_FALSE(dead->append(original));
  REQUIRE_FALSE(taker->append(events_of("taker", 1, 2)));
  // Records 2 and 4 move and are numbered after the taker's own.
  std::vector<event> moved{original[1], original[3]};
  moved[0].seq = 3;
  moved[1].seq = 4;
  REQUIRE_FALSE(taker->adopt(moved, "dead/1", {2, 4}));
  CHECK(seqs_of(replayed(*dead, 0)) == std::vector<uint64_t>{1, 3});
  auto mine = replayed(*taker, 0);
  REQUIRE(mine.size() == 4);
  CHECK(seqs_of(mine) == std::vector<uint64_t>{1, 2, 3, 4});
  CHECK(keys_of(mine) ==
        std::vector<std::string>{"taker-1", "taker-2", "dead-2", "dead-4"});
  CHECK(mine[2].received_at == original[1].received_at);
  CHECK(mine[3].received_at == original[3].received_at);
  CHECK(mine[2].forward_id == 0x1234);
  CHECK(mine[3].forward_id == 0xF00D'0000'0000'0001ULL);
  CHECK(mine[0].forward_id == 0);
  auto back = original[1];
  back.seq = 3;
  check_same(mine[2], back);
  CHECK(last_seq(*taker) == 4);
  SECTION("a failed adoption moves nothing") {
    auto bad = events_of("dead", 1, 1);
    bad[0].seq = 5;
    bad[0].summary = "not \xff UTF-8";
    auto err = taker->adopt(bad, "dead/1", {1});
    REQUIRE(err);
    CHECK(seqs_of(replayed(*dead, 0)) == std::vector<uint64_t>{1, 3});
    CHECK(seqs_of(replayed(*taker, 0)) == std::vector<uint64_t>{1, 2, 3, 4});
  }
  SECTION("a later adoption takes only the records it names") {
    auto one = events_of("dead", 1, 1);
    one[0].seq = 5;
    REQUIRE_FALSE(taker->adopt(one, "dead/1", {1}));
    CHECK(seqs_of(replayed(*dead, 0)) == std::vector<uint64_t>{3});
    CHECK(seqs_of(replayed(*taker, 0)) == std::vector<uint64_t>{1, 2, 3, 4, 5});
  }
}

TEST_CASE("postgres journal: the journal numbers and delivers adopted "
          "records after its own",
          "[unit]") {
  pg_schema schema;
  auto dead = open_or_fail(schema.dsn(), "dead/2");
  auto original = events_of("dead", 1, 3);
  original[2].forward_id = 77;
  REQUIRE_FALSE(dead->append(original));
  std::vector<event> delivered;
  std::mutex mtx;
  {
    argus::actors::journal j{
        open_or_fail(schema.dsn(), "taker/2"), 0, [&](std::vector<event>& xs) {
          std::lock_guard<std::mutex> guard{mtx};
          delivered.insert(delivered.end(), xs.begin(), xs.end());
        }};
    REQUIRE_FALSE(j.append(events_of("own", 1, 1)));
    REQUIRE_FALSE(j.adopt({original[0], original[2]}, "dead/2"));
    auto rest = replayed(j.backend(), 0);
    CHECK(seqs_of(rest) == std::vector<uint64_t>{1, 2, 3});
    CHECK(keys_of(rest) ==
          std::vector<std::string>{"own-1", "dead-1", "dead-3"});
    CHECK(rest[1].received_at == original[0].received_at);
    CHECK(rest[2].received_at == original[2].received_at);
    CHECK(rest[2].forward_id == 77);
  }
  REQUIRE(delivered.size() == 3);
  CHECK(seqs_of(delivered) == std::vector<uint64_t>{1, 2, 3});
  CHECK(delivered[2].dedup_key == "dead-3");
  CHECK(delivered[2].forward_id == 77);
  CHECK(seqs_of(replayed(*dead, 0)) == std::vector<uint64_t>{2});
}

TEST_CASE("postgres journal: a live writer's lock fences it until its "
          "session ends",
          "[unit]") {
  pg_schema schema;
  auto inc = fresh_incarnation("node-a");
  auto holder = open_fence_or_fail(schema.dsn());
  auto other = open_fence_or_fail(schema.dsn());
  REQUIRE_FALSE(holder->hold(inc));
  CHECK_FALSE(try_fence(*other, inc));
  CHECK_FALSE(try_fence(*other, inc));
  // Another incarnation's lock is independent.
  auto unrelated = fresh_incarnation("node-b");
  CHECK(try_fence(*other, unrelated));
  REQUIRE_FALSE(other->release(unrelated));
  // The holder's process ends: its session closes and the lock is free.
  holder.reset();
  REQUIRE(fence_within(*other, inc));
  // Whoever fenced holds the lock now...
  auto third = open_fence_or_fail(schema.dsn());
  CHECK_FALSE(try_fence(*third, inc));
  // ... until it gives it back.
  REQUIRE_FALSE(other->release(inc));
  CHECK(try_fence(*third, inc));
  CHECK_FALSE(try_fence(*other, inc));
  REQUIRE_FALSE(third->release(inc));
}

TEST_CASE("postgres journal: the fence lists writers and reads their "
          "records",
          "[unit]") {
  pg_schema schema;
  auto fence = open_fence_or_fail(schema.dsn());
  CHECK(writers_of(*fence).empty());
  auto single = open_or_fail(schema.dsn());
  REQUIRE_FALSE(single->append(events_of("s", 1, 2)));
  // The single node's journal is nobody's to adopt.
  CHECK(writers_of(*fence).empty());
  auto w1 = open_or_fail(schema.dsn(), "w1/1");
  auto w2 = open_or_fail(schema.dsn(), "w2/1");
  REQUIRE_FALSE(w1->append(events_of("w1", 1, 3)));
  REQUIRE_FALSE(w2->append(events_of("w2", 1, 1)));
  CHECK(writers_of(*fence) == std::vector<std::string>{"w1/1", "w2/1"});
  std::vector<event> read;
  REQUIRE_FALSE(fence->read("w1/1", [&](event& e, bool done) {
    CHECK_FALSE(done);
    read.push_back(e);
  }));
  REQUIRE(read.size() == 3);
  for (size_t i = 0; i < read.size(); ++i) {
    auto expected = events_of("w1", 1, 3)[i];
    check_same(read[i], expected);
  }
  // Reading takes nothing away.
  CHECK(replayed(*w1, 0).size() == 3);
  // A writer without records is no longer listed.
  REQUIRE_FALSE(w2->trim_through(1));
  CHECK(writers_of(*fence) == std::vector<std::string>{"w1/1"});
  CHECK(fence_read(*fence, "w2/1").empty());
}

TEST_CASE("postgres storage: completed journal records leave with the "
          "writes that reflect them",
          "[unit]") {
  pg_schema schema;
  auto store = argus::storage::open_postgres_store(schema.dsn());
  REQUIRE(store);
  auto j = open_or_fail(schema.dsn(), "n/1");
  auto other = open_or_fail(schema.dsn(), "other/1");
  auto fence = open_fence_or_fail(schema.dsn());
  // Applied forwarded records are kept for a minute after acceptance:
  // these were accepted now.
  auto now = argus::domain::time_point{std::chrono::system_clock::now()};
  auto recs = events_of("n", 1, 4);
  for (auto& e : recs)
    e.received_at = now;
  recs[1].forward_id = 0x77;
  recs[3].forward_id = 0x99;
  REQUIRE_FALSE(j->append(recs));
  REQUIRE_FALSE(other->append(events_of("other", 1, 4)));
  argus::domain::alert a;
  a.id = argus::domain::alert_id_for("m", "k-1");
  a.event_manager_id = "m";
  a.dedup_key = "k-1";
  a.summary = "from record 1";
  a.details = "{}";
  a.created_at = argus::domain::from_millis(1'700'000'000'000);
  a.updated_at = a.created_at;
  SECTION("local records go, forwarded ones stay as done") {
    REQUIRE_FALSE((*store)->write_completing({argus::domain::alert_write{a, 1}},
                                             "n/1", {1, 2}));
    auto stored = (*store)->by_dedup_key("m", "k-1");
    REQUIRE(stored);
    REQUIRE(stored->size() == 1);
    CHECK(stored->front().summary == "from record 1");
    // Record 1 is gone; 2 is kept, applied.
    CHECK(fence_read(*fence, "n/1") == std::vector<std::pair<uint64_t, bool>>{
                                           {2, true}, {3, false}, {4, false}});
    // The writer's own replay skips what is applied.
    CHECK(seqs_of(replayed(*j, 0)) == std::vector<uint64_t>{3, 4});
    // Another writer's records with the same numbers are untouched.
    CHECK(seqs_of(replayed(*other, 0)) == std::vector<uint64_t>{1, 2, 3, 4});
    // Completions without writes (events that changed nothing).
    REQUIRE_FALSE((*store)->write_completing({}, "n/1", {3, 4}));
    CHECK(fence_read(*fence, "n/1") ==
          std::vector<std::pair<uint64_t, bool>>{{2, true}, {4, true}});
    CHECK(replayed(*j, 0).empty());
    // Done records still name their writer for a taker.
    CHECK(writers_of(*fence) == std::vector<std::string>{"n/1", "other/1"});
  }
  SECTION("a failed write completes nothing") {
    auto bad = a;
    bad.summary = "not \xff UTF-8";
    auto err = (*store)->write_completing({argus::domain::alert_write{bad, 1}},
                                          "n/1", {1, 2});
    REQUIRE(err);
    CHECK(fence_read(*fence, "n/1") ==
          std::vector<std::pair<uint64_t, bool>>{
              {1, false}, {2, false}, {3, false}, {4, false}});
    auto stored = (*store)->by_dedup_key("m", "k-1");
    REQUIRE(stored);
    CHECK(stored->empty());
    // The storage's connection serves the next write.
    REQUIRE_FALSE((*store)->write_completing({argus::domain::alert_write{a, 1}},
                                             "n/1", {1}));
    CHECK(seqs_of(replayed(*j, 0)) == std::vector<uint64_t>{2, 3, 4});
  }
}

TEST_CASE("postgres journal: the fence drops applied forwarded records "
          "older than a minute",
          "[unit]") {
  pg_schema schema;
  auto store = argus::storage::open_postgres_store(schema.dsn());
  REQUIRE(store);
  auto j = open_or_fail(schema.dsn(), "n/2");
  auto fence = open_fence_or_fail(schema.dsn());
  auto now = argus::domain::time_point{std::chrono::system_clock::now()};
  auto recs = events_of("n", 1, 3);
  recs[0].received_at = now - std::chrono::minutes{10};
  recs[0].forward_id = 1;
  recs[1].received_at = now;
  recs[1].forward_id = 2;
  // Not applied: kept however old it is.
  recs[2].received_at = now - std::chrono::minutes{10};
  recs[2].forward_id = 3;
  REQUIRE_FALSE(j->append(recs));
  REQUIRE_FALSE((*store)->write_completing({}, "n/2", {1, 2}));
  CHECK(fence_read(*fence, "n/2") ==
        std::vector<std::pair<uint64_t, bool>>{{2, true}, {3, false}});
  CHECK(seqs_of(replayed(*j, 0)) == std::vector<uint64_t>{3});
}

TEST_CASE("postgres journal: a takeover locks a dead node's deliveries in "
          "(seq, receiver) order",
          "[unit]") {
  // The retention step, the worker and a retry lock deliveries in that
  // order; a takeover that locked them in another could deadlock with
  // them (PostgreSQL would detect it and fail one of the two).
  pg_schema schema;
  auto store = argus::storage::open_postgres_store(schema.dsn());
  REQUIRE(store);
  auto fence = open_fence_or_fail(schema.dsn());
  // Inserted last first, so that the table's order and the (owner, seq)
  // index's order of equal seqs are not (seq, receiver) order.
  for (auto [seq, receiver] : {std::pair{2, "b"}, std::pair{2, "a"},
                               std::pair{1, "b"}, std::pair{1, "a"}})
    schema.exec("INSERT INTO deliveries VALUES ('n-" + std::to_string(seq) +
                "', '" + receiver + "', 'm', 'g', 'opened', " +
                std::to_string(seq) + ", 'pending', 0, '', 0, 0, 0, 'dead/1')");
  // Another transaction holds the first row in that order.
  pg_session holder{schema.dsn()};
  holder.exec("BEGIN");
  holder.exec("SELECT 1 FROM deliveries WHERE seq = 1 AND receiver = 'a'"
              " FOR UPDATE");
  caf::error taken;
  std::thread takeover{
      [&] { taken = fence->take_outbox("dead/1", "alive/1"); }};
  // Until the takeover waits for that row's lock: a session the holder
  // blocks (other tests share the server).
  auto holder_pid = std::to_string(holder.query_int("SELECT pg_backend_pid()"));
  auto waiting = [&] {
    return schema.query_int("SELECT count(*) FROM pg_stat_activity WHERE " +
                            holder_pid + " = ANY(pg_blocking_pids(pid))") > 0;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (!waiting() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  bool waited = waiting();
  // It locked nothing before it: each other row is free to lock.
  pg_session prober{schema.dsn()};
  for (auto row : {"seq = 1 AND receiver = 'b'", "seq = 2 AND receiver = 'a'",
                   "seq = 2 AND receiver = 'b'"}) {
    INFO(row);
    CHECK(prober.try_exec(std::string{"SELECT 1 FROM deliveries WHERE "} + row +
                          " FOR UPDATE NOWAIT"));
  }
  holder.exec("ROLLBACK");
  takeover.join();
  REQUIRE(waited);
  CHECK_FALSE(taken);
  CHECK(schema.query_int("SELECT count(*) FROM deliveries"
                         " WHERE owner = 'alive/1'") == 4);
}
