// The domain's vocabulary: merging of alert writes, ids, validation of rules
// and managers, enum spellings, time formatting, filters and errors.

#include "domain/alert.hpp"
#include "domain/catalog.hpp"
#include "domain/error.hpp"
#include "domain/notification.hpp"
#include "domain/types.hpp"

#include <catch2/catch.hpp>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::ec;
using argus::domain::alert;
using argus::domain::alert_status;
using argus::domain::alert_type;
using argus::domain::alert_write;
using argus::domain::from_millis;
using argus::domain::no_time;
using argus::domain::to_millis;

/// Whether `text` is a lowercase 8-4-4-4-12 hex UUID of `version` with the
/// RFC 4122 variant.
bool is_uuid(const std::string& text, char version) {
  if (text.size() != 36)
    return false;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-')
        return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c)) ||
               std::isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return text[14] == version &&
         std::string{"89ab"}.find(text[19]) != std::string::npos;
}

alert sample(const std::string& key) {
  alert a;
  a.id = argus::domain::alert_id_for("m1", key);
  a.dedup_key = key;
  a.event_manager_id = "m1";
  a.summary = "old";
  a.event_count = 5;
  a.created_at = from_millis(1000);
  a.updated_at = from_millis(2000);
  return a;
}

argus::domain::grouping_rule valid_rule() {
  argus::domain::grouping_rule r;
  r.id = "r1";
  r.name = "by host";
  r.grouping_key = "host";
  r.time_window_seconds = 300;
  return r;
}

argus::domain::event_manager valid_manager() {
  argus::domain::event_manager m;
  m.id = "m1";
  m.name = "payments";
  m.description = "the payments team";
  m.grouping_rule_id = "r1";
  return m;
}

} // namespace

TEST_CASE("merge_into keeps identity and sums event counts", "[unit]") {
  auto stored = sample("k");
  auto next = sample("k");
  next.id = "another-id";
  next.summary = "new";
  next.status = alert_status::resolved;
  next.type = alert_type::child;
  next.parent_dedup_key = "p";
  next.child_count = 7;
  next.resolve_requested = true;
  next.event_count = 1; // ignored: the delta counts
  next.created_at = from_millis(9000);
  next.updated_at = from_millis(9500);
  next.resolved_at = from_millis(9600);
  next.details = R"({"a":1})";
  alert_write w{next, 2};
  argus::domain::merge_into(stored, w);
  CHECK(stored.id == argus::domain::alert_id_for("m1", "k"));
  CHECK(stored.created_at == from_millis(1000));
  CHECK(stored.event_count == 7);
  CHECK(stored.summary == "new");
  CHECK(stored.status == alert_status::resolved);
  CHECK(stored.type == alert_type::child);
  CHECK(stored.parent_dedup_key == "p");
  CHECK(stored.child_count == 7);
  CHECK(stored.resolve_requested);
  CHECK(stored.updated_at == from_millis(9500));
  CHECK(stored.resolved_at == from_millis(9600));
  CHECK(stored.details == R"({"a":1})");

  SECTION("a zero delta leaves the count alone") {
    auto same = sample("k");
    same.event_count = 100;
    alert_write touch{same, 0};
    argus::domain::merge_into(stored, touch);
    CHECK(stored.event_count == 7);
    CHECK(stored.summary == "old");
  }
}

TEST_CASE("alert_id_for is stable and distinct", "[unit]") {
  using argus::domain::alert_id_for;
  auto id = alert_id_for("m1", "disk-full");
  CHECK(id == alert_id_for("m1", "disk-full"));
  CHECK(is_uuid(id.str(), '8'));
  CHECK(id != alert_id_for("m2", "disk-full"));
  CHECK(id != alert_id_for("m1", "disk-ful"));
  // The separator keeps the two parts apart.
  CHECK(alert_id_for("ab", "c") != alert_id_for("a", "bc"));
  CHECK(alert_id_for("", "x") != alert_id_for("x", ""));
  // Stored rows and other nodes hold ids made by earlier versions: the
  // value itself must never change.
  CHECK(alert_id_for("m1", "disk-full") ==
        "51723e2f-7c3e-8413-af32-2735b6027b75");
  CHECK(is_uuid(alert_id_for("", "").str(), '8'));
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i)
    ids.insert(alert_id_for("m1", "key-" + std::to_string(i)).str());
  CHECK(ids.size() == 1000);
}

TEST_CASE("alert_id_for is name_based_uuid whichever manager came before",
          "[unit]") {
  using argus::domain::alert_id_for;
  using argus::domain::name_based_uuid;
  // alert_id_for keeps each thread's last manager's hash state: ids must
  // not depend on which manager's came before, on this thread or another.
  std::vector<std::string> managers{"m1", "m2", "", "m1", "m10", "m", "m1"};
  for (auto& m : managers)
    for (auto* key : {"disk-full", "", "k"})
      CHECK(alert_id_for(m, key) == name_based_uuid(m, key));
  CHECK(alert_id_for("m1", "disk-full") ==
        "51723e2f-7c3e-8413-af32-2735b6027b75");
  std::string elsewhere;
  std::thread{[&] {
    elsewhere = alert_id_for("m1", "disk-full").str();
  }}.join();
  CHECK(elsewhere == "51723e2f-7c3e-8413-af32-2735b6027b75");
}

TEST_CASE("random_uuid gives version 4 UUIDs", "[unit]") {
  std::set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    auto id = argus::domain::random_uuid();
    INFO(id);
    CHECK(is_uuid(id, '4'));
    ids.insert(id);
  }
  CHECK(ids.size() == 200);
}

TEST_CASE("rules are validated field by field", "[unit]") {
  using argus::domain::validate;
  CHECK_FALSE(validate(valid_rule()));
  auto r = valid_rule();
  std::string field;
  SECTION("empty name") {
    r.name.clear();
    field = "name";
  }
  SECTION("name too long") {
    r.name = std::string(argus::domain::max_key_bytes + 1, 'n');
    field = "name";
  }
  SECTION("empty grouping key") {
    r.grouping_key.clear();
    field = "grouping_key";
  }
  SECTION("zero window") {
    r.time_window_seconds = 0;
    field = "time window";
  }
  SECTION("negative window") {
    r.time_window_seconds = -60;
    field = "time window";
  }
  SECTION("window over a year") {
    r.time_window_seconds = 366 * 24 * 3600 + 1;
    field = "time window";
  }
  SECTION("boundaries are accepted") {
    r.name = std::string(argus::domain::max_key_bytes, 'n');
    r.time_window_seconds = 366 * 24 * 3600;
    CHECK_FALSE(validate(r));
    r.time_window_seconds = 1;
    CHECK_FALSE(validate(r));
    CHECK(r.window() == std::chrono::seconds{1});
    return;
  }
  auto err = validate(r);
  REQUIRE(err);
  CHECK(argus::code_of(err) == ec::validation_failed);
  CHECK_THAT(argus::message_of(err), Catch::Contains(field));
}

TEST_CASE("event managers are validated field by field", "[unit]") {
  using argus::domain::validate;
  CHECK_FALSE(validate(valid_manager()));
  auto m = valid_manager();
  std::string field;
  SECTION("empty id") {
    m.id.clear();
    field = "id";
  }
  SECTION("id too long") {
    m.id = std::string(argus::domain::max_key_bytes + 1, 'i');
    field = "id";
  }
  SECTION("empty name") {
    m.name.clear();
    field = "name";
  }
  SECTION("empty rule id") {
    m.grouping_rule_id.clear();
    field = "grouping_rule_id";
  }
  SECTION("description too long") {
    m.description = std::string(64 * 1024 + 1, 'd');
    field = "description";
  }
  SECTION("webhook without http scheme") {
    m.webhook_url = "ftp://example.com/hook";
    field = "webhook_url";
  }
  SECTION("webhook that only contains the scheme later") {
    m.webhook_url = "xhttp://example.com";
    field = "webhook_url";
  }
  SECTION("accepted values") {
    m.webhook_url = "https://example.com/hook";
    CHECK_FALSE(validate(m));
    m.webhook_url = "http://example.com/hook";
    CHECK_FALSE(validate(m));
    m.webhook_url.clear();
    m.description = std::string(64 * 1024, 'd');
    CHECK_FALSE(validate(m));
    return;
  }
  auto err = validate(m);
  REQUIRE(err);
  CHECK(argus::code_of(err) == ec::validation_failed);
  CHECK_THAT(argus::message_of(err), Catch::Contains(field));
}

TEST_CASE("the catalog finds rules of managers and rules in use", "[unit]") {
  argus::domain::catalog c;
  c.rules["r1"] = valid_rule();
  auto r2 = valid_rule();
  r2.id = "r2";
  c.rules["r2"] = r2;
  c.managers["m1"] = valid_manager();
  auto orphan = valid_manager();
  orphan.id = "m2";
  orphan.grouping_rule_id = "gone";
  c.managers["m2"] = orphan;
  REQUIRE(c.rule_of("m1") != nullptr);
  CHECK(c.rule_of("m1")->id == "r1");
  CHECK(c.rule_of("m2") == nullptr);
  CHECK(c.rule_of("nobody") == nullptr);
  CHECK(c.rule_in_use("r1"));
  CHECK_FALSE(c.rule_in_use("r2"));
  CHECK(c.rule_in_use("gone"));
}

TEST_CASE("enums spell and parse round trip", "[unit]") {
  using namespace argus::domain;
  for (auto x : {severity::high, severity::medium, severity::low})
    CHECK(parse_severity(to_string(x)) == x);
  for (auto x : {action::trigger, action::resolve})
    CHECK(parse_action(to_string(x)) == x);
  for (auto x : {alert_type::parent, alert_type::child})
    CHECK(parse_alert_type(to_string(x)) == x);
  for (auto x : {alert_status::active, alert_status::resolved})
    CHECK(parse_alert_status(to_string(x)) == x);
  CHECK(to_string(severity::high) == "high");
  CHECK(to_string(severity::medium) == "medium");
  CHECK(to_string(severity::low) == "low");
  CHECK(to_string(action::trigger) == "trigger");
  CHECK(to_string(action::resolve) == "resolve");
  CHECK(to_string(alert_type::parent) == "parent");
  CHECK(to_string(alert_type::child) == "child");
  CHECK(to_string(alert_status::active) == "active");
  CHECK(to_string(alert_status::resolved) == "resolved");
  CHECK(to_string(notification_kind::parent_opened) == "parent_opened");
  CHECK(to_string(notification_kind::parent_resolved) == "parent_resolved");
  CHECK_FALSE(parse_severity("HIGH").has_value());
  CHECK_FALSE(parse_severity("critical").has_value());
  CHECK_FALSE(parse_severity("").has_value());
  CHECK_FALSE(parse_action("Trigger").has_value());
  CHECK_FALSE(parse_action("Acknowledge").has_value());
  CHECK_FALSE(parse_alert_type("grandchild").has_value());
  CHECK_FALSE(parse_alert_status("open").has_value());
  CHECK_FALSE(parse_alert_status(" active").has_value());
  CHECK(to_string(static_cast<severity>(42)) == "unknown");
}

TEST_CASE("times format as RFC 3339 UTC with milliseconds", "[unit]") {
  using argus::domain::to_rfc3339;
  CHECK(to_rfc3339(from_millis(0)) == "1970-01-01T00:00:00.000Z");
  CHECK(to_rfc3339(from_millis(1'795'774'779'123)) ==
        "2026-11-27T10:19:39.123Z");
  CHECK(to_rfc3339(from_millis(951'868'799'007)) == "2000-02-29T23:59:59.007Z");
  CHECK(to_rfc3339(from_millis(-1)) == "1969-12-31T23:59:59.999Z");
  // Sub-millisecond parts are cut, not rounded.
  CHECK(to_rfc3339(from_millis(1'000) + 999'999ns) ==
        "1970-01-01T00:00:01.000Z");
  CHECK(to_millis(from_millis(1'795'774'779'123)) == 1'795'774'779'123);
  CHECK(to_millis(no_time) == 0);
  // The first and last times a time_point holds: always rfc3339_length
  // bytes, as write_rfc3339's callers size their buffers.
  using argus::domain::time_point;
  // (1677-09-21T00:12:43.145224192Z, its milliseconds cut toward zero.)
  CHECK(to_rfc3339(time_point::min()) == "1677-09-21T00:12:43.146Z");
  CHECK(to_rfc3339(time_point::max()) == "2262-04-11T23:47:16.854Z");
  CHECK(to_rfc3339(time_point::min()).size() == argus::domain::rfc3339_length);
  // write_rfc3339 writes those bytes and no more.
  char buffer[argus::domain::rfc3339_length + 1];
  buffer[argus::domain::rfc3339_length] = '#';
  argus::domain::write_rfc3339(buffer, time_point::max());
  CHECK(std::string(buffer, sizeof buffer) == "2262-04-11T23:47:16.854Z#");
}

TEST_CASE("RFC 3339 times agree with the C library's calendar", "[unit]") {
  using argus::domain::to_rfc3339;
  // The oracle: gmtime_r and strftime, as to_rfc3339 was written before.
  auto libc = [](int64_t ms) {
    auto secs = static_cast<std::time_t>(ms / 1000);
    auto frac = static_cast<int>(ms % 1000);
    if (frac < 0) {
      frac += 1000;
      --secs;
    }
    std::tm parts{};
    gmtime_r(&secs, &parts);
    char buf[40];
    auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &parts);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", frac);
    return std::string{buf};
  };
  // Every day from 1678 to 2261 (leap years, centuries, 2000, the epoch's
  // both sides), at a time of day that moves with it.
  constexpr int64_t day_ms = 86'400'000;
  for (int64_t day = -106'000; day < 106'000; ++day) {
    auto ms = day * day_ms + (day * 7'919'993) % day_ms;
    REQUIRE(to_rfc3339(from_millis(ms)) == libc(ms));
  }
  for (int64_t ms : {int64_t{-1}, int64_t{-999}, int64_t{-1000},
                     int64_t{-86'400'001}, int64_t{4'102'444'800'000}})
    CHECK(to_rfc3339(from_millis(ms)) == libc(ms));
}

TEST_CASE("alert filters match manager, status and type", "[unit]") {
  using argus::domain::alert_filter;
  using argus::domain::matches;
  auto a = sample("k");
  a.type = alert_type::child;
  a.status = alert_status::resolved;
  CHECK(matches(a, alert_filter{}));
  alert_filter f;
  f.event_manager_id = "m1";
  f.status = "resolved";
  f.type = "child";
  CHECK(matches(a, f));
  f.event_manager_id = "m2";
  CHECK_FALSE(matches(a, f));
  f.event_manager_id.clear();
  f.status = "active";
  CHECK_FALSE(matches(a, f));
  f.status.clear();
  f.type = "parent";
  CHECK_FALSE(matches(a, f));
  CHECK(alert_filter{}.limit == 100);
  CHECK(alert_filter{}.offset == 0);
}

TEST_CASE("errors carry their code and message", "[unit]") {
  auto err = argus::make_error(ec::conflict, "rule 'r1' is in use");
  CHECK(argus::code_of(err) == ec::conflict);
  CHECK(argus::message_of(err) == "rule 'r1' is in use");
  CHECK(argus::code_of(caf::error{}) == ec::none);
  CHECK(static_cast<int>(ec::validation_failed) == 2);
  CHECK(static_cast<int>(ec::not_found) == 3);
  CHECK(static_cast<int>(ec::internal) == 7);
  caf::error foreign{static_cast<uint8_t>(3), caf::atom("system")};
  CHECK(argus::code_of(foreign) == ec::internal);
  CHECK_THAT(argus::message_of(foreign), Catch::Contains("internal error"));
}
