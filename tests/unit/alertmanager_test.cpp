// Alertmanager's API as a front, in the domain: fingerprints, matchers,
// times, how a posted alert becomes an event, which alerts a query lists;
// and grouping rules on dotted paths and key tuples.

#include "domain/alertmanager.hpp"
#include "domain/catalog.hpp"
#include "domain/error.hpp"
#include "domain/labels.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>

namespace {

using namespace std::chrono_literals;

using argus::ec;
using argus::domain::action;
using argus::domain::admit_am_alert;
using argus::domain::am_listed;
using argus::domain::am_query;
using argus::domain::encode;
using argus::domain::fingerprint;
using argus::domain::from_millis;
using argus::domain::label_set;
using argus::domain::matches_all;
using argus::domain::no_time;
using argus::domain::parse_am_time;
using argus::domain::parse_matchers;
using argus::domain::postable_alert;
using argus::domain::severity;
using argus::domain::severity_mapping;
using argus::domain::time_point;
using argus::domain::to_rfc3339;

const time_point now = from_millis(1'764'675'000'000); // 2025-12-02T11:30:00Z

std::vector<argus::domain::matcher> matchers(const std::string& text) {
  auto parsed = parse_matchers(text);
  REQUIRE(parsed);
  return *parsed;
}

postable_alert alert_of(label_set labels, label_set annotations = {}) {
  postable_alert a;
  a.labels = std::move(labels);
  a.annotations = std::move(annotations);
  return a;
}

} // namespace

TEST_CASE("fingerprints are Alertmanager's", "[unit][alertmanager]") {
  // Values read from a real Alertmanager 0.25 (GET /api/v2/alerts).
  CHECK(fingerprint({{"alertname", "Test"},
                     {"cluster", "c1"},
                     {"severity", "critical"}}) == "6452c7eae62db496");
  CHECK(fingerprint({{"a", "b"}}) == "d2b371819297f98a");
  CHECK(fingerprint({{"ok", "1"}}) == "8d4653b8b9db0024");
  // FNV-1a 64's offset basis for the empty set.
  CHECK(fingerprint({}) == "cbf29ce484222325");
  // The separator keeps names and values apart.
  CHECK(fingerprint({{"ab", "c"}}) != fingerprint({{"a", "bc"}}));
}

TEST_CASE("label names follow Prometheus", "[unit][alertmanager]") {
  using argus::domain::valid_label_name;
  CHECK(valid_label_name("alertname"));
  CHECK(valid_label_name("_x9"));
  CHECK_FALSE(valid_label_name(""));
  CHECK_FALSE(valid_label_name("9x"));
  CHECK_FALSE(valid_label_name("bad-name"));
  CHECK_FALSE(valid_label_name("caf\xc3\xa9"));
}

TEST_CASE("matchers parse as amtool writes them", "[unit][alertmanager]") {
  using argus::domain::match_type;
  auto ms = matchers(R"({foo = "bar", dings != "bums", re=~"5..",nre!~x.*})");
  REQUIRE(ms.size() == 4);
  CHECK(ms[0].name == "foo");
  CHECK(ms[0].value == "bar");
  CHECK(ms[0].type == match_type::equal);
  CHECK(ms[1].type == match_type::not_equal);
  CHECK(ms[1].value == "bums");
  CHECK(ms[2].type == match_type::regex);
  CHECK(ms[3].type == match_type::not_regex);
  CHECK(ms[3].value == "x.*");
  SECTION("quotes, escapes and commas inside quotes") {
    auto q = matchers(R"(quote="She said: \"Hi, all\"\n", b=c\d)");
    REQUIRE(q.size() == 2);
    CHECK(q[0].value == "She said: \"Hi, all\"\n");
    CHECK(q[1].value == "c\\d");
  }
  SECTION("a trailing comma and plain unbraced form") {
    CHECK(matchers("alertname=Test,").size() == 1);
    CHECK(matchers("").empty());
  }
  SECTION("errors") {
    for (auto bad : {"=x", "9a=b", "a", "a==\"b", "a=\"b", "a=~\"(\""}) {
      auto parsed = parse_matchers(bad);
      INFO(bad);
      REQUIRE_FALSE(parsed);
      CHECK(argus::code_of(parsed.error()) == ec::bad_request);
    }
  }
}

TEST_CASE("matching follows Alertmanager's API", "[unit][alertmanager]") {
  label_set labels{{"alertname", "HighCPU"}, {"cluster", "prod-1"}};
  CHECK(matches_all(matchers("alertname=HighCPU"), labels));
  CHECK_FALSE(matches_all(matchers("alertname=High"), labels));
  SECTION("regexes are anchored") {
    CHECK(matches_all(matchers("cluster=~prod-.*"), labels));
    CHECK_FALSE(matches_all(matchers("cluster=~prod"), labels));
    CHECK(matches_all(matchers("cluster!~prod"), labels));
    CHECK(matches_all(matchers("cluster=~\"a|prod-1\""), labels));
  }
  SECTION("every matcher must hold") {
    CHECK_FALSE(
        matches_all(matchers("alertname=HighCPU,cluster!=prod-1"), labels));
  }
  SECTION("an absent label reads as empty") {
    CHECK(matches_all(matchers("team!=ops"), labels));
    CHECK_FALSE(matches_all(matchers("team=ops"), labels));
    CHECK(matches_all(matchers("team=~\"\""), labels));
  }
  SECTION("empty values ask about presence") {
    CHECK(matches_all(matchers("team=\"\""), labels));
    CHECK(matches_all(matchers("cluster!=\"\""), labels));
    CHECK_FALSE(matches_all(matchers("cluster=\"\""), labels));
  }
}

TEST_CASE("times parse as Go writes them", "[unit][alertmanager]") {
  auto t = parse_am_time("2026-12-02T11:33:32.083Z");
  REQUIRE(t);
  CHECK(to_rfc3339(*t) == "2026-12-02T11:33:32.083Z");
  auto nanos = parse_am_time("2026-12-02T11:33:32.083123456Z");
  REQUIRE(nanos);
  CHECK((*nanos - *t) == std::chrono::nanoseconds{123456});
  auto zoned = parse_am_time("2026-12-02T12:33:32.083+01:00");
  REQUIRE(zoned);
  CHECK(*zoned == *t);
  CHECK(parse_am_time("2024-02-29T00:00:00Z"));
  SECTION("Go's zero time is unset") {
    for (auto zero : {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z"}) {
      auto z = parse_am_time(zero);
      REQUIRE(z);
      CHECK(*z == no_time);
    }
  }
  SECTION("bad times") {
    for (auto bad : {"yesterday", "2026-12-02", "2026-12-02T11:33:32",
                     "2026-13-02T11:33:32Z", "2025-02-29T00:00:00Z",
                     "2026-12-02T24:00:00Z", "2026-12-02T11:33:32.Z",
                     "1500-01-01T00:00:00Z", "2026-12-02T11:33:32Zjunk"}) {
      INFO(bad);
      CHECK_FALSE(parse_am_time(bad));
    }
  }
}

TEST_CASE("severities map from the severity label", "[unit][alertmanager]") {
  severity_mapping m;
  CHECK(m.of({{"severity", "critical"}}) == severity::high);
  CHECK(m.of({{"severity", "error"}}) == severity::high);
  CHECK(m.of({{"severity", "Warning"}}) == severity::medium);
  CHECK(m.of({{"severity", "info"}}) == severity::low);
  CHECK(m.of({{"severity", "none"}}) == severity::low);
  CHECK(m.of({{"severity", "page"}}) == severity::low);
  CHECK(m.of({}) == severity::low);
  m.by_label = {{"page", severity::high}};
  m.fallback = severity::medium;
  CHECK(m.of({{"severity", "page"}}) == severity::high);
  CHECK(m.of({{"severity", "critical"}}) == severity::medium);
}

TEST_CASE("a posted alert becomes an event", "[unit][alertmanager]") {
  severity_mapping sev;
  auto a = alert_of({{"alertname", "HighCPU"},
                     {"cluster", "c1"},
                     {"severity", "critical"},
                     {"empty", ""}},
                    {{"summary", "CPU is hot"}});
  SECTION("no times: firing for resolve_timeout from now") {
    auto out = admit_am_alert(a, "m1", sev, now);
    REQUIRE(out);
    CHECK(out->ev.event_manager_id == "m1");
    CHECK(out->ev.act == action::trigger);
    // Empty label values are dropped before the fingerprint, as in AM.
    CHECK(out->ev.dedup_key == fingerprint({{"alertname", "HighCPU"},
                                            {"cluster", "c1"},
                                            {"severity", "critical"}}));
    CHECK(out->ev.summary == "CPU is hot");
    CHECK(out->ev.sev == severity::high);
    CHECK(out->ev.received_at == now);
    CHECK(out->starts_at == now);
    CHECK(out->ends_at == now + 5min);
  }
  SECTION("endsAt in the future triggers, at or before now resolves") {
    a.starts_at = now - 1min;
    a.ends_at = now + 4min;
    auto firing = admit_am_alert(a, "m1", sev, now);
    REQUIRE(firing);
    CHECK(firing->ev.act == action::trigger);
    CHECK(firing->starts_at == now - 1min);
    CHECK(firing->ends_at == now + 4min);
    a.ends_at = now;
    auto resolved = admit_am_alert(a, "m1", sev, now);
    REQUIRE(resolved);
    CHECK(resolved->ev.act == action::resolve);
    CHECK(resolved->ev.dedup_key == firing->ev.dedup_key);
  }
  SECTION("only endsAt: it is the start too") {
    a.ends_at = now - 1s;
    auto out = admit_am_alert(a, "m1", sev, now);
    REQUIRE(out);
    CHECK(out->ev.act == action::resolve);
    CHECK(out->starts_at == now - 1s);
  }
  SECTION("summary falls back to alertname, then the label set") {
    a.annotations.clear();
    CHECK(admit_am_alert(a, "m1", sev, now)->ev.summary == "HighCPU");
    auto bare = alert_of({{"job", "api"}, {"x", "1"}});
    CHECK(admit_am_alert(bare, "m1", sev, now)->ev.summary ==
          R"({job="api", x="1"})");
  }
  SECTION("invalid alerts, with Alertmanager's messages") {
    auto message = [&](postable_alert bad) {
      auto out = admit_am_alert(bad, "m1", sev, now);
      REQUIRE_FALSE(out);
      CHECK(argus::code_of(out.error()) == ec::validation_failed);
      return argus::message_of(out.error());
    };
    CHECK(message(alert_of({})) == "at least one label pair required");
    CHECK(message(alert_of({{"only", ""}})) ==
          "at least one label pair required");
    CHECK(message(alert_of({{"bad-name", "x"}})) ==
          "invalid label set: invalid name \"bad-name\"");
    CHECK(message(alert_of({{"a", "b"}}, {{"no good", "x"}})) ==
          "invalid annotations: invalid name \"no good\"");
    a.starts_at = now;
    a.ends_at = now - 1h;
    CHECK(message(a) == "start time must be before end time");
    a.ends_at = no_time;
    a.starts_at = now + 1h; // after now + resolve_timeout
    CHECK(message(a) == "start time must be before end time");
  }
}

TEST_CASE("which alerts a query lists", "[unit][alertmanager]") {
  label_set labels{{"alertname", "HighCPU"}, {"cluster", "c1"}};
  am_query q;
  CHECK(am_listed(q, labels, "m1", now + 1min, now));
  CHECK_FALSE(am_listed(q, labels, "m1", now - 1ms, now));
  q.filter = matchers("cluster=c2");
  CHECK_FALSE(am_listed(q, labels, "m1", now + 1min, now));
  q.filter = matchers("cluster=c1");
  q.silenced = q.inhibited = q.unprocessed = false;
  CHECK(am_listed(q, labels, "m1", now + 1min, now));
  auto receiver = argus::domain::parse_receiver_regex("m.");
  REQUIRE(receiver);
  q.receiver = *receiver;
  CHECK(am_listed(q, labels, "m1", now + 1min, now));
  CHECK_FALSE(am_listed(q, labels, "m12", now + 1min, now));
  q.active = false;
  CHECK_FALSE(am_listed(q, labels, "m1", now + 1min, now));
  CHECK_FALSE(argus::domain::parse_receiver_regex("("));
}

TEST_CASE("rules group by a key, a path or a tuple", "[unit][grouping]") {
  using argus::domain::grouping_rule;
  std::map<std::string, std::string> fields{
      {"class", "db"}, {"labels.cluster", "c1"}, {"labels.alertname", "A"}};
  auto read = [&](const std::string& key) -> std::optional<std::string> {
    auto it = fields.find(key);
    if (it == fields.end())
      return std::nullopt;
    return it->second;
  };
  grouping_rule rule;
  rule.name = "r";
  rule.time_window_seconds = 60;
  SECTION("one key: its text, as before tuples existed") {
    rule.grouping_key = "class";
    CHECK(argus::domain::grouping_value_of(rule, read) == "db");
    CHECK(argus::domain::keys_of(rule) == std::vector<std::string>{"class"});
    rule.grouping_key = "missing";
    CHECK_FALSE(argus::domain::grouping_value_of(rule, read));
    CHECK_FALSE(argus::domain::validate(rule));
  }
  SECTION("several keys: a JSON array of their texts") {
    argus::domain::set_keys(rule, {"labels.cluster", "labels.alertname"});
    CHECK(rule.grouping_key.empty());
    CHECK_FALSE(argus::domain::validate(rule));
    CHECK(argus::domain::grouping_value_of(rule, read) == R"(["c1","A"])");
    fields.erase("labels.alertname");
    CHECK(argus::domain::grouping_value_of(rule, read) == R"(["c1",null])");
    fields.erase("labels.cluster");
    CHECK_FALSE(argus::domain::grouping_value_of(rule, read));
    fields["labels.cluster"] = "say \"hi\"\\\n";
    CHECK(argus::domain::grouping_value_of(rule, read) ==
          R"(["say \"hi\"\\\u000a",null])");
  }
  SECTION("one key given as a list is that key") {
    argus::domain::set_keys(rule, {"class"});
    CHECK(rule.grouping_key == "class");
    CHECK(rule.grouping_keys.empty());
  }
  SECTION("invalid key lists") {
    auto message = [&](std::vector<std::string> keys) {
      rule.grouping_key.clear();
      rule.grouping_keys = std::move(keys);
      auto err = argus::domain::validate(rule);
      REQUIRE(err);
      return argus::message_of(err);
    };
    CHECK(message({"a", ""}) == "grouping_keys[1] must not be empty");
    CHECK(message({"a", "b", "a"}) == "grouping_keys names 'a' twice");
    CHECK(message(std::vector<std::string>(17, "k")).find("more than 16") !=
          std::string::npos);
    rule.grouping_key = "x";
    rule.grouping_keys = {"a", "b"};
    auto err = argus::domain::validate(rule);
    REQUIRE(err);
    CHECK(argus::message_of(err) ==
          "give grouping_key or grouping_keys, not both");
  }
}

TEST_CASE("severity mappings survive the stores' text",
          "[unit][alertmanager]") {
  using argus::domain::decode_severity_mapping;
  severity_mapping m;
  auto back = decode_severity_mapping(encode(m));
  REQUIRE(back);
  CHECK(back->by_label == m.by_label);
  CHECK(back->fallback == m.fallback);
  m.by_label = {{"we\\ird\nvalue", severity::high}, {"", severity::medium}};
  m.fallback = severity::medium;
  back = decode_severity_mapping(encode(m));
  REQUIRE(back);
  CHECK(back->by_label == m.by_label);
  CHECK(back->fallback == severity::medium);
  m.by_label.clear();
  back = decode_severity_mapping(encode(m));
  REQUIRE(back);
  CHECK(back->by_label.empty());
  // Stores from before mappings existed hold "": the defaults.
  back = decode_severity_mapping("");
  REQUIRE(back);
  CHECK(back->by_label == severity_mapping::defaults());
  CHECK_FALSE(decode_severity_mapping("loud"));
  CHECK_FALSE(decode_severity_mapping("low\nhigh"));
  CHECK_FALSE(decode_severity_mapping("low\nhuge page"));
}

TEST_CASE("grouping keys survive the stores' text", "[unit][grouping]") {
  using argus::domain::decode_keys;
  using argus::domain::encode_keys;
  std::vector<std::string> keys{"labels.cluster", "a\\b\nc", ""};
  CHECK(decode_keys(encode_keys(keys)) == keys);
  CHECK(encode_keys({}).empty());
  CHECK(decode_keys("").empty());
  CHECK(decode_keys(encode_keys({"x", "y"})) ==
        std::vector<std::string>{"x", "y"});
}
