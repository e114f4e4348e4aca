// notification_config.receivers in manager bodies and replies: parsing,
// field errors, secrets kept across updates and never shown.

#include "domain/error.hpp"
#include "http/json.hpp"

#include <catch2/catch.hpp>

namespace {

using argus::code_of;
using argus::ec;
using argus::message_of;
using argus::domain::notification_kind;
using argus::domain::receiver_format;
using argus::http::parse_manager;
using argus::http::to_json;
using json = nlohmann::json;

json manager_body(json receivers) {
  return json{{"name", "Payments"},
              {"grouping_rule_id", "r1"},
              {"notification_config", {{"receivers", std::move(receivers)}}}};
}

} // namespace

TEST_CASE("receivers are read from a manager body", "[unit][delivery]") {
  auto m =
      parse_manager(manager_body(json::array(
                        {{{"name", "ops"},
                          {"url", "https://hooks.example/ops"},
                          {"format", "alertmanager"},
                          {"headers", {{"X-Team", "db"}}},
                          {"secret", "s3cret"},
                          {"timeout_ms", 2500},
                          {"types", {"parent_opened", "child_added"}},
                          {"child_added_per_minute", 3}},
                         {{"name", "pd"},
                          {"url", "https://events.pagerduty.com/v2/enqueue"},
                          {"format", "pagerduty"},
                          {"routing_key", "KEY"}}})),
                    nullptr);
  REQUIRE(m);
  REQUIRE(m->receivers.size() == 2);
  auto& ops = m->receivers[0];
  CHECK(ops.name == "ops");
  CHECK(ops.url == "https://hooks.example/ops");
  CHECK(ops.format == receiver_format::alertmanager);
  CHECK(ops.headers.at("X-Team") == "db");
  CHECK(ops.secret == "s3cret");
  CHECK(ops.timeout_ms == 2500);
  CHECK(ops.types ==
        std::vector<notification_kind>{notification_kind::parent_opened,
                                       notification_kind::child_added});
  CHECK(ops.child_added_per_minute == 3);
  auto& pd = m->receivers[1];
  CHECK(pd.format == receiver_format::pagerduty);
  CHECK(pd.routing_key == "KEY");
  CHECK(pd.timeout_ms == 10000); // default
  CHECK(pd.wants(notification_kind::parent_resolved));
}

TEST_CASE("bad receiver fields are named", "[unit][delivery]") {
  auto error_of = [](json receivers) {
    auto m = parse_manager(manager_body(std::move(receivers)), nullptr);
    REQUIRE_FALSE(m);
    return message_of(m.error());
  };
  CHECK(error_of(json::object()) ==
        "field 'notification_config.receivers' must be an array");
  CHECK(error_of(json::array({1})) ==
        "field 'notification_config.receivers[0]' must be an object");
  CHECK(error_of(json::array({{{"name", 5}}})) ==
        "field 'notification_config.receivers[0].name' must be a string");
  CHECK(error_of(json::array({{{"name", "a"}, {"format", "teams"}}}))
            .find("notification_config.receivers[0].format") == 0);
  CHECK(error_of(json::array({{{"name", "a"}, {"timeout_ms", "1s"}}})) ==
        "field 'notification_config.receivers[0].timeout_ms' must be an "
        "integer");
  CHECK(error_of(json::array({{{"name", "a"}, {"headers", {{"X", 1}}}}})) ==
        "field 'notification_config.receivers[0].headers.X' must be a "
        "string");
  CHECK(error_of(json::array({{{"name", "a"}, {"types", {"everything"}}}}))
            .find("notification_config.receivers[0].types") == 0);
}

TEST_CASE("a reply shows that a secret is set, never the secret",
          "[unit][delivery]") {
  auto m = parse_manager(
      manager_body(json::array(
          {{{"name", "ops"}, {"url", "http://h/x"}, {"secret", "s3cret"}}})),
      nullptr);
  REQUIRE(m);
  auto shown = to_json(*m);
  auto& r = shown["notification_config"]["receivers"][0];
  CHECK(r["secret_set"] == true);
  CHECK_FALSE(r.contains("secret"));
  CHECK(shown.dump().find("s3cret") == std::string::npos);
  CHECK(r["format"] == "argus");
  CHECK(r["types"] == json{"parent_opened", "parent_resolved"});
  // An update that names the receiver without a secret keeps it; "" clears.
  auto kept = parse_manager(
      manager_body(json::array({{{"name", "ops"}, {"url", "http://h/y"}}})),
      &*m);
  REQUIRE(kept);
  CHECK(kept->receivers[0].secret == "s3cret");
  CHECK(kept->receivers[0].url == "http://h/y");
  auto cleared = parse_manager(
      manager_body(json::array(
          {{{"name", "ops"}, {"url", "http://h/y"}, {"secret", ""}}})),
      &*m);
  REQUIRE(cleared);
  CHECK(cleared->receivers[0].secret.empty());
  // An update without receivers keeps them.
  auto same = parse_manager(json{{"description", "x"}}, &*m);
  REQUIRE(same);
  CHECK(same->receivers.size() == 1);
}

TEST_CASE("a manager validates its receivers", "[unit][delivery]") {
  auto m = parse_manager(
      manager_body(json::array({{{"name", "webhook"}, {"url", "http://h/x"}}})),
      nullptr);
  REQUIRE(m);
  m->id = "payments";
  CHECK_FALSE(validate(*m));
  m->webhook_url = "http://h/legacy";
  CHECK(code_of(validate(*m)) == ec::validation_failed);
  m->receivers[0].name = "ops";
  CHECK_FALSE(validate(*m));
  auto all = receivers_of(*m);
  REQUIRE(all.size() == 2);
  CHECK(all[1].name == "webhook");
  CHECK(all[1].url == "http://h/legacy");
  m->receivers[0].url = "nope";
  CHECK(message_of(validate(*m)).find("notification_config.receivers[0].url") ==
        0);
}
