// The PostgreSQL journal backend: appends are transactions, replay is in
// sequence order with every field, trimming never lets numbering restart.

#include "actors/journal.hpp"
#include "actors/storage.hpp"

#include "domain/error.hpp"
#include "support/postgres.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

namespace {

using argus::actors::journal_backend;
using argus::domain::event;
using argus::test::pg_schema;

std::unique_ptr<journal_backend> open_or_fail(const std::string& dsn) {
  auto j = argus::actors::open_postgres_journal(dsn);
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
    auto store = argus::actors::open_postgres_storage(schema.dsn());
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
  auto j = argus::actors::open_postgres_journal(
      "host=127.0.0.1 port=1 dbname=argus user=argus connect_timeout=2");
  REQUIRE_FALSE(j);
  CHECK(argus::code_of(j.error()) == argus::ec::unavailable);
  CHECK_THAT(argus::message_of(j.error()),
             Catch::StartsWith("postgres: cannot connect"));
}
