// The one admission path every front shares: event validation and
// admission against a catalog, back-pressure, alert filters, the
// notification limit and picking the one alert of a dedupKey.

#include "domain/admission.hpp"
#include "domain/error.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::ec;
using argus::domain::action;
using argus::domain::alert;
using argus::domain::alert_filter;
using argus::domain::catalog;
using argus::domain::event;
using argus::domain::field_lookup;
using argus::domain::filter_field;
using argus::domain::from_millis;
using argus::domain::severity;

event trigger(std::string manager, std::string dedup) {
  event e;
  e.event_manager_id = std::move(manager);
  e.dedup_key = std::move(dedup);
  e.act = action::trigger;
  e.sev = severity::high;
  e.summary = "disk full";
  return e;
}

/// A catalog with manager "m" grouping by "host" over 5 minutes, and
/// manager "bare" without a rule.
catalog make_catalog() {
  catalog c;
  argus::domain::grouping_rule rule;
  rule.id = "r";
  rule.name = "by host";
  rule.grouping_key = "host";
  rule.time_window_seconds = 300;
  c.rules["r"] = rule;
  argus::domain::event_manager m;
  m.id = "m";
  m.name = "M";
  m.grouping_rule_id = "r";
  c.managers["m"] = m;
  argus::domain::event_manager bare;
  bare.id = "bare";
  bare.name = "Bare";
  c.managers["bare"] = bare;
  return c;
}

field_lookup fields(std::map<std::string, std::string> xs) {
  return [xs](const std::string& name) -> std::optional<std::string> {
    auto it = xs.find(name);
    if (it == xs.end())
      return std::nullopt;
    return it->second;
  };
}

std::string message(const caf::error& err) {
  return argus::message_of(err);
}

} // namespace

TEST_CASE("admission validates typed events as the HTTP parser does",
          "[unit][admission]") {
  CHECK(!argus::domain::validate(trigger("m", "k")));
  auto e = trigger("", "k");
  CHECK(message(argus::domain::validate(e)) ==
        "field 'event_manager_id' is required");
  e = trigger("m", "");
  CHECK(message(argus::domain::validate(e)) == "field 'dedupKey' is required");
  e = trigger("m", std::string(argus::domain::max_key_bytes + 1, 'k'));
  CHECK(argus::code_of(argus::domain::validate(e)) == ec::validation_failed);
  CHECK(message(argus::domain::validate(e)) ==
        "field 'dedupKey' is longer than 1024 bytes");
  e = trigger("m", "k");
  e.summary.clear();
  CHECK(message(argus::domain::validate(e)) == "field 'summary' is required");
  e.act = action::resolve; // resolves need no summary
  CHECK(!argus::domain::validate(e));
  e.act = static_cast<action>(7); // any byte may come over the wire
  CHECK(message(argus::domain::validate(e)) ==
        "field 'action' must be 'trigger' or 'resolve'");
  e = trigger("m", "k");
  e.sev = static_cast<severity>(9);
  CHECK(message(argus::domain::validate(e)) ==
        "field 'severity' must be 'high', 'medium' or 'low'");
  CHECK(*argus::domain::parse_event_action("resolve") == action::resolve);
  CHECK(!argus::domain::parse_event_severity("urgent"));
}

TEST_CASE("admission completes an event from its manager's rule",
          "[unit][admission]") {
  auto c = make_catalog();
  auto now = from_millis(42'000);
  SECTION("the rule's field gives the grouping value and window") {
    auto e = trigger("m", "k");
    auto admitted = argus::domain::admit(e, c, fields({{"host", "db1"}}), now);
    REQUIRE(admitted);
    CHECK(admitted->has_grouping_value);
    CHECK(admitted->grouping_value == "db1");
    CHECK(admitted->window == std::chrono::seconds{300});
    CHECK(admitted->received_at == now);
  }
  SECTION("without the field the event has no grouping value") {
    auto e = trigger("m", "k");
    e.has_grouping_value = true; // what a sender claims does not count
    e.grouping_value = "forged";
    auto admitted = argus::domain::admit(e, c, fields({{"region", "eu"}}), now);
    REQUIRE(admitted);
    CHECK(!admitted->has_grouping_value);
    CHECK(admitted->grouping_value.empty());
    CHECK(admitted->window == std::chrono::seconds{300});
  }
  SECTION("a manager without a rule never groups") {
    auto admitted = argus::domain::admit(trigger("bare", "k"), c,
                                         fields({{"host", "db1"}}), now);
    REQUIRE(admitted);
    CHECK(!admitted->has_grouping_value);
    CHECK(admitted->window == argus::domain::duration{});
  }
  SECTION("an unknown manager is not found") {
    auto admitted =
        argus::domain::admit(trigger("nope", "k"), c, fields({}), now);
    REQUIRE(!admitted);
    CHECK(argus::code_of(admitted.error()) == ec::not_found);
    CHECK(message(admitted.error()) == "event manager 'nope' not found");
  }
  SECTION("an invalid event is refused before the catalog is asked") {
    auto admitted =
        argus::domain::admit(trigger("nope", ""), c, fields({}), now);
    REQUIRE(!admitted);
    CHECK(argus::code_of(admitted.error()) == ec::validation_failed);
  }
}

TEST_CASE("admission refuses work past the backlog bound",
          "[unit][admission]") {
  CHECK(!argus::domain::overloaded(9, 1, 10));
  CHECK(argus::domain::overloaded(10, 1, 10));
  CHECK(argus::domain::overloaded(0, 11, 10));
  CHECK(!argus::domain::check_backlog(5, 5, 10));
  auto err = argus::domain::check_backlog(10, 1, 10);
  CHECK(argus::code_of(err) == ec::unavailable);
  CHECK(message(err) == "ingestion is behind (10 events and alert changes "
                        "pending); retry later");
}

TEST_CASE("admission checks alert filters in each front's words",
          "[unit][admission]") {
  auto plain = [](const std::string& field) { return field; };
  auto query = [](const std::string& field) {
    return "query parameter '" + field + "'";
  };
  alert_filter f;
  CHECK(!argus::domain::invalid_field(f));
  CHECK(!argus::domain::check_filter(f, plain));
  f.status = "open";
  CHECK(argus::domain::invalid_field(f) == filter_field::status);
  CHECK(message(argus::domain::check_filter(f, plain)) ==
        "status must be 'active' or 'resolved'");
  CHECK(message(argus::domain::check_filter(f, query)) ==
        "query parameter 'status' must be 'active' or 'resolved'");
  f = {};
  f.type = "grandchild";
  CHECK(message(argus::domain::check_filter(f, plain)) ==
        "type must be 'parent' or 'child'");
  f = {};
  f.limit = argus::domain::max_alert_limit + 1;
  CHECK(argus::code_of(argus::domain::check_filter(f, plain)) ==
        ec::bad_request);
  CHECK(message(argus::domain::check_filter(f, plain)) ==
        "limit must be an integer from 1 to 1000");
  f.limit = argus::domain::max_alert_limit;
  f.offset = -1;
  CHECK(argus::domain::invalid_field(f) == filter_field::offset);
  CHECK(message(argus::domain::check_filter(f, plain)) ==
        "offset must not be negative");
}

TEST_CASE("admission bounds the notification list", "[unit][admission]") {
  CHECK(!argus::domain::check_notification_limit(1, "limit"));
  CHECK(!argus::domain::check_notification_limit(10000, "limit"));
  CHECK(message(argus::domain::check_notification_limit(0, "limit")) ==
        "limit must be an integer from 1 to 10000");
  CHECK(message(argus::domain::check_notification_limit(
            10001, "query parameter 'limit'")) ==
        "query parameter 'limit' must be an integer from 1 to 10000");
}

TEST_CASE("admission picks the one alert of a dedupKey", "[unit][admission]") {
  std::vector<alert> found;
  auto none = argus::domain::single_alert(found, "k", "name one");
  REQUIRE(!none);
  CHECK(argus::code_of(none.error()) == ec::not_found);
  CHECK(message(none.error()) == "alert 'k' not found");
  alert a;
  a.event_manager_id = "m";
  a.dedup_key = "k";
  found.push_back(a);
  auto one = argus::domain::single_alert(found, "k", "name one");
  REQUIRE(one);
  CHECK(one->event_manager_id == "m");
  found = {a, a};
  found[1].event_manager_id = "n";
  auto two = argus::domain::single_alert(found, "k", "pass ?event_manager_id=");
  REQUIRE(!two);
  CHECK(argus::code_of(two.error()) == ec::conflict);
  CHECK(message(two.error()) == "dedupKey 'k' is used by 2 event managers; "
                                "pass ?event_manager_id=");
}
