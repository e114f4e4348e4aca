// Silences: their states over time, what they accept, and which alerts they
// match (alert fields, labels, regexes, negation). Pure functions with
// explicit times.

#include "domain/delivery.hpp"
#include "domain/error.hpp"
#include "domain/silence.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>

namespace {

using namespace std::chrono_literals;

using argus::domain::alert;
using argus::domain::from_millis;
using argus::domain::silence;
using argus::domain::silence_matcher;
using argus::domain::silence_state;
using argus::domain::time_point;

const time_point t0 = from_millis(1'700'000'000'000);

silence make_silence(std::vector<silence_matcher> ms) {
  silence s;
  s.id = "s1";
  s.matchers = std::move(ms);
  s.starts_at = t0;
  s.ends_at = t0 + 1h;
  s.created_by = "alice";
  s.comment = "deploy";
  return s;
}

silence_matcher eq(std::string name, std::string value) {
  return {std::move(name), std::move(value), false, true};
}

alert make_alert() {
  alert a;
  a.dedup_key = "disk-1";
  a.event_manager_id = "payments";
  a.summary = "disk full";
  a.sev = argus::domain::severity::high;
  a.class_name = "storage";
  a.has_grouping_value = true;
  a.grouping_value = "eu-1";
  return a;
}

/// Reads `details` as the HTTP layer does for an Alertmanager alert: by
/// top-level name, then dotted path (here a flat map of both).
argus::domain::details_reader
reader(std::map<std::string, std::string> fields) {
  return [fields](const std::string& name) -> std::optional<std::string> {
    auto it = fields.find(name);
    if (it == fields.end())
      return std::nullopt;
    return it->second;
  };
}

} // namespace

TEST_CASE("silence: pending, active and expired by the clock", "[unit]") {
  auto s = make_silence({eq("class", "storage")});
  CHECK(state_of(s, t0 - 1ms) == silence_state::pending);
  CHECK(state_of(s, t0) == silence_state::active);
  CHECK(state_of(s, t0 + 1h - 1ms) == silence_state::active);
  CHECK(state_of(s, t0 + 1h) == silence_state::expired);
  CHECK(to_string(silence_state::active) == "active");
  CHECK(argus::domain::parse_silence_state("expired") ==
        silence_state::expired);
  CHECK_FALSE(argus::domain::parse_silence_state("gone"));
}

TEST_CASE("silence: expire ends it now, a pending one too", "[unit]") {
  auto s = make_silence({eq("class", "storage")});
  expire(s, t0 + 10min);
  CHECK(s.ends_at == t0 + 10min);
  CHECK(state_of(s, t0 + 10min) == silence_state::expired);
  SECTION("expiring again keeps the first end") {
    expire(s, t0 + 20min);
    CHECK(s.ends_at == t0 + 10min);
  }
  SECTION("a pending silence ends before it starts") {
    auto p = make_silence({eq("class", "storage")});
    expire(p, t0 - 5min);
    CHECK(p.starts_at == t0 - 5min);
    CHECK(p.ends_at == t0 - 5min);
    CHECK(state_of(p, t0 - 5min) == silence_state::expired);
  }
}

TEST_CASE("silence: validation names what is wrong", "[unit]") {
  auto s = make_silence({eq("class", "storage")});
  CHECK_FALSE(validate(s));
  auto message = [](silence x) {
    auto err = validate(x);
    REQUIRE(err);
    CHECK(argus::code_of(err) == argus::ec::validation_failed);
    return argus::message_of(err);
  };
  SECTION("no matchers") {
    s.matchers.clear();
    CHECK(message(s) == "field 'matchers' needs at least one matcher");
  }
  SECTION("a matcher without a name") {
    s.matchers.push_back(eq("", "x"));
    CHECK(message(s) == "field 'matchers[1].name' must not be empty");
  }
  SECTION("an invalid regex names the matcher") {
    s.matchers.push_back({"alertname", "Disk(Full", true, true});
    CHECK(message(s) == "field 'matchers[1].value': alertname=~\"Disk(Full\" "
                        "is not a valid regular expression");
  }
  SECTION("ends before it starts") {
    s.ends_at = s.starts_at;
    CHECK(message(s) == "field 'endsAt' must be after 'startsAt'");
  }
  SECTION("who and why are required") {
    s.created_by.clear();
    CHECK(message(s) == "field 'createdBy' is required");
    s.created_by = "bob";
    s.comment.clear();
    CHECK(message(s) == "field 'comment' is required");
  }
}

TEST_CASE("silence: matchers over alert fields", "[unit]") {
  auto a = make_alert();
  auto none = reader({});
  CHECK(matches(make_silence({eq("class", "storage")}), a, none));
  CHECK(
      matches(make_silence({eq("severity", "high"), eq("summary", "disk full"),
                            eq("dedupKey", "disk-1"),
                            eq("event_manager_id", "payments"),
                            eq("grouping_value", "eu-1")}),
              a, none));
  CHECK_FALSE(matches(
      make_silence({eq("class", "storage"), eq("severity", "low")}), a, none));
  SECTION("a silence of another manager does not match") {
    auto s = make_silence({eq("class", "storage")});
    s.event_manager_id = "search";
    CHECK_FALSE(matches(s, a, none));
    s.event_manager_id = "payments";
    CHECK(matches(s, a, none));
  }
}

TEST_CASE("silence: labels by plain name or labels.x, and details", "[unit]") {
  auto a = make_alert();
  auto details = reader({{"labels.alertname", "DiskFull"},
                         {"labels.cluster", "eu-1"},
                         {"host", "db-a"}});
  CHECK(matches(make_silence({eq("alertname", "DiskFull")}), a, details));
  CHECK(
      matches(make_silence({eq("labels.alertname", "DiskFull")}), a, details));
  CHECK(matches(make_silence({eq("host", "db-a")}), a, details));
  CHECK_FALSE(matches(make_silence({eq("alertname", "CPU")}), a, details));
  SECTION("a missing label is the empty string, as in Alertmanager") {
    CHECK(matches(make_silence({eq("team", "")}), a, details));
    CHECK_FALSE(matches(make_silence({eq("team", "db")}), a, details));
  }
}

TEST_CASE("silence: regex is anchored, isEqual false negates", "[unit]") {
  auto a = make_alert();
  auto details = reader({{"labels.alertname", "DiskFull"}});
  auto re = [](std::string name, std::string value, bool equal = true) {
    return silence_matcher{std::move(name), std::move(value), true, equal};
  };
  CHECK(matches(make_silence({re("alertname", "Disk.*")}), a, details));
  CHECK_FALSE(matches(make_silence({re("alertname", "Disk")}), a, details));
  CHECK_FALSE(matches(make_silence({re("alertname", "isk.*")}), a, details));
  CHECK_FALSE(
      matches(make_silence({re("alertname", "Disk|Full")}), a, details));
  CHECK(matches(make_silence({re("alertname", "DiskFull|CPU")}), a, details));
  CHECK(matches(make_silence({re("alertname", "CPU.*", false)}), a, details));
  CHECK_FALSE(
      matches(make_silence({re("alertname", "Disk.*", false)}), a, details));
  CHECK(matches(make_silence({{"severity", "low", false, false}}), a, details));
  CHECK_FALSE(
      matches(make_silence({{"severity", "high", false, false}}), a, details));
}

TEST_CASE("silence: silenced_by lists the active matching ones", "[unit]") {
  auto a = make_alert();
  std::map<std::string, silence> all;
  auto first = make_silence({eq("class", "storage")});
  first.id = "b";
  auto second = make_silence({eq("severity", "high")});
  second.id = "a";
  second.starts_at = t0 + 30min;
  auto other = make_silence({eq("class", "network")});
  other.id = "c";
  for (auto& s : {first, second, other})
    all[s.id] = s;
  auto none = reader({});
  using ids = std::vector<std::string>;
  CHECK(silenced_by(all, a, none, t0 - 1min) == ids{});
  CHECK(silenced_by(all, a, none, t0) == ids{"b"});
  CHECK(silenced_by(all, a, none, t0 + 30min) == ids{"a", "b"});
  CHECK(silenced_by(all, a, none, t0 + 1h) == ids{});
  // is_silenced agrees with silenced_by at every time.
  for (auto at : {t0 - 1min, t0, t0 + 30min, t0 + 1h})
    CHECK(argus::domain::is_silenced(all, a, none, at) ==
          !silenced_by(all, a, none, at).empty());
}

TEST_CASE("silence: active_silences keeps those in force that may cover the "
          "manager",
          "[unit]") {
  std::map<std::string, silence> all;
  auto add = [&](std::string id, std::string manager, time_point starts) {
    auto s = make_silence({eq("class", "storage")});
    s.id = std::move(id);
    s.event_manager_id = std::move(manager);
    s.starts_at = starts;
    all[s.id] = s;
  };
  add("any", "", t0);
  add("m1", "m1", t0);
  add("m2", "m2", t0);
  add("later", "m1", t0 + 30min);
  auto ids = [&](const std::string& manager, time_point at) {
    std::vector<std::string> out;
    for (auto& [id, s] : argus::domain::active_silences(all, manager, at))
      out.push_back(id);
    return out;
  };
  using v = std::vector<std::string>;
  CHECK(ids("m1", t0) == v{"any", "m1"});
  CHECK(ids("m1", t0 + 30min) == v{"any", "later", "m1"});
  CHECK(ids("m3", t0) == v{"any"});
  CHECK(ids("", t0) == v{"any", "m1", "m2"}); // every manager
  CHECK(ids("m1", t0 + 2h).empty());          // all expired
}

TEST_CASE("silence: silenced_until is when the last of the named ones ends",
          "[unit]") {
  std::map<std::string, silence> all;
  auto early = make_silence({eq("class", "storage")});
  early.id = "early";
  early.ends_at = t0 + 20min;
  auto late = make_silence({eq("class", "storage")});
  late.id = "late";
  auto pending = make_silence({eq("class", "storage")});
  pending.id = "pending";
  pending.starts_at = t0 + 2h;
  pending.ends_at = t0 + 3h;
  for (auto& s : {early, late, pending})
    all[s.id] = s;
  using ids = std::vector<std::string>;
  CHECK(active_until(early, t0 + 5min) == t0 + 20min);
  CHECK(active_until(early, t0 + 20min) == t0 + 20min); // ended: now
  CHECK(active_until(pending, t0) == t0);
  // Muted until both end; an unknown or pending id does not hold it.
  CHECK(silenced_until(all, ids{"early", "late"}, t0 + 5min) == t0 + 1h);
  CHECK(silenced_until(all, ids{"early"}, t0 + 5min) == t0 + 20min);
  CHECK(silenced_until(all, ids{"gone", "pending"}, t0 + 5min) == t0 + 5min);
  CHECK(silenced_until(all, ids{}, t0) == t0);
}

TEST_CASE("silence: matchers round-trip through their stored text", "[unit]") {
  std::vector<silence_matcher> ms{{"alertname", "Disk\nFull\\x", false, true},
                                  {"sev", "crit.*", true, true},
                                  {"team", "", false, false},
                                  {"a", "b", true, false}};
  auto back = argus::domain::decode_matchers(encode_matchers(ms));
  REQUIRE(back);
  REQUIRE(back->size() == ms.size());
  for (size_t i = 0; i < ms.size(); ++i) {
    CHECK((*back)[i].name == ms[i].name);
    CHECK((*back)[i].value == ms[i].value);
    CHECK((*back)[i].is_regex == ms[i].is_regex);
    CHECK((*back)[i].is_equal == ms[i].is_equal);
  }
  CHECK_FALSE(argus::domain::decode_matchers("a\nb"));
}

TEST_CASE("silence: a suppressed delivery is recorded, never tried", "[unit]") {
  auto d = argus::domain::make_delivery(
      "n1", "pager", "payments", "eu-1",
      argus::domain::notification_kind::parent_opened, t0);
  suppress(d, {"s1", "s2"});
  CHECK(d.state == argus::domain::delivery_state::suppressed);
  CHECK(d.last_error == "silenced by s1, s2");
  CHECK(to_string(d.state) == "suppressed");
  CHECK(argus::domain::parse_delivery_state("suppressed") ==
        argus::domain::delivery_state::suppressed);
}

TEST_CASE("silence: regex matchers match the same however many patterns "
          "were compiled before",
          "[unit]") {
  // Compiled regexes are kept per thread, up to a bound, then dropped:
  // more patterns than the bound still each match what they should.
  using argus::domain::matches;
  auto regex = [](std::string value, bool is_equal = true) {
    return silence_matcher{"name", std::move(value), true, is_equal};
  };
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 1500; ++i) {
      auto n = std::to_string(i);
      CAPTURE(round, i);
      REQUIRE(matches(regex("h-" + n + "(:[0-9]+)?"), "h-" + n + ":9100"));
      REQUIRE(!matches(regex("h-" + n + "(:[0-9]+)?"), "h-" + n + "x"));
      REQUIRE(!matches(regex("h-" + n, false), "h-" + n));
    }
  // Anchored at both ends, as Alertmanager's.
  CHECK(!matches(regex("web"), "web-1"));
  CHECK(matches(regex("web|db"), "db"));
  // A stored bad pattern matches nothing (and is not kept).
  CHECK(!matches(regex("("), "("));
  CHECK(!matches(regex("("), "("));
}
