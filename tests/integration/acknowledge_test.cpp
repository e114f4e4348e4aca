// Acknowledge and operator actions over real HTTP and argusctl: a parent's
// acknowledgement covers its group, a joining child pages nobody, a manual
// resolve follows the parent/child rules, ack_timeout runs out.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using namespace argus::test;

server& ack_server() {
  static server instance{[] {
    server_options opts;
    opts.remoting = true; // for argusctl
    return opts;
  }()};
  return instance;
}

void trigger_class(server& s, const std::string& m, const std::string& key,
                   const std::string& cls = "db") {
  s.trigger(m, key, {{"class", cls}});
}

bool acknowledged(const json& a) {
  return a["acknowledged"] == true;
}

bool unacknowledged(const json& a) {
  return a["acknowledged"] == false;
}

size_t count_kind(const json& notifications, const std::string& kind) {
  size_t n = 0;
  for (auto& x : notifications)
    n += x["kind"] == kind;
  return n;
}

response act(server& s, const std::string& key, const std::string& action,
             const std::string& manager, const json& body = json::object()) {
  return s.http().post("/v1/alerts/" + url_encode(key) + "/" + action +
                           "?event_manager_id=" + url_encode(manager),
                       body);
}

} // namespace

TEST_CASE("acknowledging a parent acknowledges its group", "[integration]") {
  auto& s = ack_server();
  auto m = s.fresh_manager("class");
  trigger_class(s, m, "p");
  trigger_class(s, m, "c1");
  trigger_class(s, m, "c2");
  s.await_alert(m, "c2", [](const json& a) { return a["type"] == "child"; });
  auto r = act(s, "p", "acknowledge", m, {{"by", "alice"}});
  INFO(r.text);
  REQUIRE(r.status == 202);
  CHECK(r.data() == json{{"status", "accepted"},
                         {"dedupKey", "p"},
                         {"event_manager_id", m},
                         {"action", "acknowledge"}});
  for (auto key : {"p", "c1", "c2"}) {
    auto a = s.await_alert(m, key, acknowledged);
    CHECK(a["acknowledged_by"] == "alice");
    CHECK_FALSE(a["acknowledged_at"].is_null());
    CHECK(a["acknowledged_until"].is_null()); // no ack_timeout
  }
  REQUIRE(s.settle());
  CHECK(count_kind(s.notifications_of(m), "parent_acknowledged") == 1);
  CHECK(count_kind(s.notifications_of(m), "parent_opened") == 1);
  // A child joining the acknowledged group is acknowledged and pages nobody.
  trigger_class(s, m, "c3");
  auto c3 = s.await_alert(m, "c3", acknowledged);
  CHECK(c3["type"] == "child");
  CHECK(c3["acknowledged_by"] == "alice");
  REQUIRE(s.settle());
  CHECK(s.notifications_of(m).size() == 2);
  // Unacknowledge: the group is unacknowledged again.
  REQUIRE(act(s, "p", "unacknowledge", m).status == 202);
  for (auto key : {"p", "c1", "c2", "c3"}) {
    auto a = s.await_alert(m, key, unacknowledged);
    CHECK(a["acknowledged_by"].is_null());
  }
}

TEST_CASE("action acknowledge on /v1/events, and a manual resolve",
          "[integration]") {
  auto& s = ack_server();
  auto m = s.fresh_manager("class");
  trigger_class(s, m, "p");
  trigger_class(s, m, "c");
  s.await_alert(m, "c", [](const json& a) { return a["type"] == "child"; });
  auto r = s.post_event({{"event_manager_id", m},
                         {"dedupKey", "p"},
                         {"action", "acknowledge"},
                         {"acknowledged_by", "bob"}});
  INFO(r.text);
  CHECK(r.status == 202);
  CHECK(s.await_alert(m, "c", acknowledged)["acknowledged_by"] == "bob");
  // A manual resolve of the parent waits for its child.
  REQUIRE(act(s, "p", "resolve", m, {{"by", "bob"}}).status == 202);
  s.await_alert(m, "p",
                [](const json& a) { return a["resolve_requested"] == true; });
  CHECK(s.alert(m, "p")["status"] == "active");
  REQUIRE(act(s, "c", "resolve", m).status == 202);
  auto p = s.await_alert(
      m, "p", [](const json& a) { return a["status"] == "resolved"; });
  // Acting on a resolved alert is a conflict; on an unknown one, not found.
  CHECK(act(s, "p", "acknowledge", m).status == 409);
  CHECK(act(s, "nope", "acknowledge", m).status == 404);
  CHECK(act(s, "p", "acknowledge", m, json::array()).status == 409);
  // A re-trigger after the resolve starts unacknowledged.
  trigger_class(s, m, "p");
  auto again = s.await_alert(
      m, "p", [](const json& a) { return a["status"] == "active"; });
  CHECK(again["acknowledged"] == false);
  CHECK(again["acknowledged_by"].is_null());
}

TEST_CASE("ack_timeout returns an acknowledged alert to unacknowledged",
          "[integration]") {
  auto& s = ack_server();
  auto rule = s.create_rule("class", 300, unique_name("rule"));
  auto m = unique_name("timeout");
  auto created =
      s.http().post("/v1/event-managers", {{"id", m},
                                           {"name", "with ack timeout"},
                                           {"grouping_rule_id", rule["id"]},
                                           {"ack_timeout_seconds", 1}});
  INFO(created.text);
  REQUIRE(created.status == 201);
  CHECK(created.data()["ack_timeout_seconds"] == 1);
  trigger_class(s, m, "p");
  s.await_alert(m, "p");
  REQUIRE(act(s, "p", "acknowledge", m).status == 202);
  auto a = s.await_alert(m, "p", acknowledged);
  CHECK(a["acknowledged_by"] == "api");
  CHECK_FALSE(a["acknowledged_until"].is_null());
  s.await_alert(m, "p", unacknowledged, std::chrono::milliseconds{8000});
  CHECK(s.alert(m, "p")["acknowledged"] == false);
}

TEST_CASE("argusctl alerts ack, unack and resolve", "[integration]") {
  auto& s = ack_server();
  auto m = s.fresh_manager("class");
  trigger_class(s, m, "p");
  s.await_alert(m, "p");
  auto node = std::vector<std::string>{"--node", s.node_address()};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), node.begin(), node.end());
    return run_argusctl(args);
  };
  auto ack = run({"alerts", "ack", "p", "--manager", m, "--by", "carol"});
  INFO(ack.out << ack.err);
  CHECK(ack.exit_code == 0);
  CHECK(s.await_alert(m, "p", acknowledged)["acknowledged_by"] == "carol");
  auto got = run({"--json", "alerts", "get", "p", "--manager", m});
  CHECK(got.json_out()["acknowledged_by"] == "carol");
  CHECK(run({"alerts", "unack", "p", "--manager", m}).exit_code == 0);
  s.await_alert(m, "p", unacknowledged);
  CHECK(run({"alerts", "resolve", "p", "--manager", m}).exit_code == 0);
  s.await_alert(m, "p",
                [](const json& a) { return a["status"] == "resolved"; });
  auto again = run({"alerts", "ack", "p", "--manager", m});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("resolved") != std::string::npos);
}
