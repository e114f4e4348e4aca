// Maintenance windows: cron expressions, schedules in a time zone, and what
// happens when the clocks change (Europe/Berlin, 2027). Pure functions with
// explicit times.

#include "domain/alertmanager.hpp"
#include "domain/cron.hpp"
#include "domain/error.hpp"
#include "domain/schedule.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using argus::domain::occurrence;
using argus::domain::schedule;
using argus::domain::time_point;

time_point at(const std::string& rfc3339) {
  auto t = argus::domain::parse_am_time(rfc3339);
  REQUIRE(t);
  return *t;
}

std::string text(time_point t) {
  return argus::domain::to_rfc3339(t);
}

/// Sundays 02:00-04:00 Europe/Berlin, the example.
schedule sunday_night() {
  schedule s;
  s.time_zone = "Europe/Berlin";
  s.days = {"sun"};
  s.start = "02:00";
  s.duration_seconds = 7200;
  return s;
}

} // namespace

TEST_CASE("cron fields take values, lists, ranges, steps and names", "[cron]") {
  auto every_quarter = argus::domain::parse_cron("*/15 * * * *");
  REQUIRE(every_quarter);
  CHECK(every_quarter->minutes.count() == 4);
  CHECK(every_quarter->minutes.test(45));
  CHECK_FALSE(every_quarter->minutes.test(50));
  CHECK(every_quarter->hours.count() == 24);

  auto office = argus::domain::parse_cron("0 9-17/2 * JAN,jul mon-fri");
  REQUIRE(office);
  CHECK(office->hours.count() == 5); // 9, 11, 13, 15, 17
  CHECK(office->hours.test(17));
  CHECK_FALSE(office->hours.test(10));
  CHECK(office->months.test(1));
  CHECK(office->months.test(7));
  CHECK(office->months.count() == 2);
  CHECK(office->days_of_week.count() == 5);
  CHECK_FALSE(office->days_of_week.test(0));
  // 2027-01-04 is a Monday; Sundays never fire.
  CHECK(office->day_matches(1, 4, 1));
  CHECK_FALSE(office->day_matches(1, 3, 0));
  CHECK_FALSE(office->day_matches(2, 1, 1)); // February is not listed

  // 7 is Sunday too.
  auto sunday = argus::domain::parse_cron("0 2 * * 7");
  REQUIRE(sunday);
  CHECK(sunday->days_of_week.test(0));
}

TEST_CASE("cron: a restricted day of month and day of week fire on either",
          "[cron]") {
  auto spec = argus::domain::parse_cron("0 0 1 * sun");
  REQUIRE(spec);
  CHECK(spec->day_matches(3, 1, 1)); // the 1st, a Monday
  CHECK(spec->day_matches(3, 7, 0)); // a Sunday, the 7th
  CHECK_FALSE(spec->day_matches(3, 8, 1));
  // Only one restricted: that one decides.
  auto firsts = argus::domain::parse_cron("0 0 1 * *");
  REQUIRE(firsts);
  CHECK(firsts->day_matches(3, 1, 1));
  CHECK_FALSE(firsts->day_matches(3, 7, 0));
}

TEST_CASE("cron: wrong expressions are refused naming the field", "[cron]") {
  for (auto bad : {"61 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                   "* * * * 8", "* * * * funday", "*/0 * * * *", "5-1 * * * *",
                   "a * * * *", "", "* * * *", "* * * * * *"}) {
    auto spec = argus::domain::parse_cron(bad, "schedule.cron");
    INFO(bad);
    REQUIRE_FALSE(spec);
    CHECK(argus::code_of(spec.error()) == argus::ec::validation_failed);
    CHECK(argus::message_of(spec.error()).find("'schedule.cron'") !=
          std::string::npos);
  }
  auto spec = argus::domain::parse_cron("0 2 * * 9", "schedule.cron");
  REQUIRE_FALSE(spec);
  CHECK(argus::message_of(spec.error()).find("day of week") !=
        std::string::npos);
}

TEST_CASE("schedules are validated naming the field", "[schedule]") {
  auto ok = sunday_night();
  ok.days = {"Sunday", "SAT"};
  CHECK_FALSE(argus::domain::validate(ok));
  CHECK(ok.days == std::vector<std::string>{"sun", "sat"});

  auto message_of = [](schedule s) {
    auto err = argus::domain::validate(s);
    REQUIRE(err);
    CHECK(argus::code_of(err) == argus::ec::validation_failed);
    return argus::message_of(err);
  };
  auto s = sunday_night();
  s.time_zone = "Mars/Olympus";
  CHECK(message_of(s).find("'schedule.time_zone'") != std::string::npos);
  s = sunday_night();
  s.time_zone.clear();
  CHECK(message_of(s).find("'schedule.time_zone'") != std::string::npos);
  s = sunday_night();
  s.days = {"sun", "someday"};
  CHECK(message_of(s).find("'schedule.days[1]'") != std::string::npos);
  s = sunday_night();
  s.start = "25:00";
  CHECK(message_of(s).find("'schedule.start'") != std::string::npos);
  s = sunday_night();
  s.duration_seconds = 0;
  CHECK(message_of(s).find("'schedule.duration_seconds'") != std::string::npos);
  s = sunday_night();
  s.cron = "0 2 * * 0";
  CHECK(message_of(s).find("either 'cron'") != std::string::npos);
  s = sunday_night();
  s.days.clear();
  s.start.clear();
  s.cron = "0 2 * *";
  CHECK(message_of(s).find("'schedule.cron'") != std::string::npos);
}

TEST_CASE("a weekly window is in force during its occurrences only",
          "[schedule]") {
  auto s = sunday_night();
  // 2027-03-21 is a Sunday in winter time (CET, UTC+1).
  CHECK_FALSE(argus::domain::occurrence_at(s, at("2027-03-21T00:59:59Z")));
  auto on = argus::domain::occurrence_at(s, at("2027-03-21T01:00:00Z"));
  REQUIRE(on);
  CHECK(text(on->starts_at) == "2027-03-21T01:00:00.000Z");
  CHECK(text(on->ends_at) == "2027-03-21T03:00:00.000Z");
  CHECK(argus::domain::occurrence_at(s, at("2027-03-21T02:59:59Z")));
  CHECK_FALSE(argus::domain::occurrence_at(s, at("2027-03-21T03:00:00Z")));
  CHECK_FALSE(argus::domain::occurrence_at(s, at("2027-03-24T02:00:00Z")));
  // Summer time (CEST, UTC+2): the same local hours, earlier in UTC.
  auto summer = argus::domain::occurrence_at(s, at("2027-04-04T00:30:00Z"));
  REQUIRE(summer);
  CHECK(text(summer->starts_at) == "2027-04-04T00:00:00.000Z");
}

TEST_CASE("spring forward: a start time in the gap starts at the first "
          "valid instant",
          "[schedule]") {
  // 2027-03-28 02:00 CET does not exist: the clocks go from 02:00 to 03:00
  // CEST (01:00 UTC). The window starts then and lasts its two hours.
  auto s = sunday_night();
  CHECK_FALSE(argus::domain::occurrence_at(s, at("2027-03-28T00:59:59Z")));
  auto on = argus::domain::occurrence_at(s, at("2027-03-28T01:00:00Z"));
  REQUIRE(on);
  CHECK(text(on->starts_at) == "2027-03-28T01:00:00.000Z");
  CHECK(text(on->ends_at) == "2027-03-28T03:00:00.000Z");
  CHECK_FALSE(argus::domain::occurrence_at(s, at("2027-03-28T03:00:00Z")));

  auto next = argus::domain::next_occurrences(s, at("2027-03-20T00:00:00Z"), 3);
  REQUIRE(next.size() == 3);
  CHECK(text(next[0].starts_at) == "2027-03-21T01:00:00.000Z");
  CHECK(text(next[1].starts_at) == "2027-03-28T01:00:00.000Z");
  CHECK(text(next[2].starts_at) == "2027-04-04T00:00:00.000Z");

  // Several start times in the gap are one occurrence, not several.
  schedule every_half_hour;
  every_half_hour.time_zone = "Europe/Berlin";
  every_half_hour.cron = "0,30 2 28 3 *";
  every_half_hour.duration_seconds = 600;
  REQUIRE_FALSE(argus::domain::validate(every_half_hour));
  auto gap = argus::domain::next_occurrences(every_half_hour,
                                             at("2027-03-27T00:00:00Z"), 5,
                                             at("2027-04-01T00:00:00Z"));
  REQUIRE(gap.size() == 1);
  CHECK(text(gap[0].starts_at) == "2027-03-28T01:00:00.000Z");
}

TEST_CASE("fall back: a start time that happens twice starts once, at the "
          "first",
          "[schedule]") {
  // 2027-10-31 03:00 CEST goes back to 02:00 CET (01:00 UTC): 02:00 local
  // happens at 00:00 and at 01:00 UTC. The window starts at the first and
  // lasts two hours of real time (until 03:00 CET).
  auto s = sunday_night();
  CHECK_FALSE(argus::domain::occurrence_at(s, at("2027-10-30T23:59:59Z")));
  auto on = argus::domain::occurrence_at(s, at("2027-10-31T00:00:00Z"));
  REQUIRE(on);
  CHECK(text(on->starts_at) == "2027-10-31T00:00:00.000Z");
  CHECK(text(on->ends_at) == "2027-10-31T02:00:00.000Z");
  // The second 02:00 is inside the same occurrence, not a new one.
  auto again = argus::domain::occurrence_at(s, at("2027-10-31T01:30:00Z"));
  REQUIRE(again);
  CHECK(again->starts_at == on->starts_at);
  CHECK_FALSE(argus::domain::occurrence_at(s, at("2027-10-31T02:00:00Z")));

  auto next = argus::domain::next_occurrences(s, at("2027-10-25T00:00:00Z"), 2);
  REQUIRE(next.size() == 2);
  CHECK(text(next[0].starts_at) == "2027-10-31T00:00:00.000Z");
  CHECK(text(next[1].starts_at) == "2027-11-07T01:00:00.000Z");
}

TEST_CASE("the cron form of a schedule and its days form agree", "[schedule]") {
  auto days = sunday_night();
  schedule cron;
  cron.time_zone = "Europe/Berlin";
  cron.cron = "0 2 * * 0";
  cron.duration_seconds = 7200;
  REQUIRE_FALSE(argus::domain::validate(cron));
  auto from = at("2027-01-01T00:00:00Z");
  auto a = argus::domain::next_occurrences(days, from, 60);
  auto b = argus::domain::next_occurrences(cron, from, 60);
  REQUIRE(a.size() == 60);
  REQUIRE(b.size() == 60);
  for (size_t i = 0; i < a.size(); ++i)
    CHECK(a[i].starts_at == b[i].starts_at);
  // Bounded by `until`: none at or after it.
  auto bounded = argus::domain::next_occurrences(days, from, 10,
                                                 at("2027-01-17T01:00:00Z"));
  CHECK(bounded.size() == 2); // the 3rd and the 10th
}

TEST_CASE("schedules survive the stores' text", "[schedule]") {
  auto s = sunday_night();
  s.days = {"sat", "sun"};
  auto back = argus::domain::decode_schedule(argus::domain::encode_schedule(s));
  REQUIRE(back);
  CHECK(back->time_zone == s.time_zone);
  CHECK(back->days == s.days);
  CHECK(back->start == s.start);
  CHECK(back->cron.empty());
  CHECK(back->duration_seconds == 7200);

  schedule cron;
  cron.time_zone = "UTC";
  cron.cron = "*/5 * * * *";
  cron.duration_seconds = 60;
  back = argus::domain::decode_schedule(argus::domain::encode_schedule(cron));
  REQUIRE(back);
  CHECK(back->cron == cron.cron);
  CHECK(back->days.empty());
  CHECK(back->start.empty());

  CHECK(argus::domain::encode_schedule(schedule{}).empty());
  auto none = argus::domain::decode_schedule("");
  REQUIRE(none);
  CHECK(none->empty());
  CHECK_FALSE(argus::domain::decode_schedule("UTC\nx"));
}
