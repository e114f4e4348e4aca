// Grouping rules and event managers: CRUD, references between them, and how
// changes reach ingest and grouping.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace argus::test;

server& catalog_server() {
  static server instance;
  return instance;
}

/// The ids in a list of rules or managers.
std::vector<std::string> ids_of(const json& items) {
  std::vector<std::string> out;
  for (auto& x : items)
    out.push_back(x["id"].get<std::string>());
  return out;
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// 400 in the error envelope, with a message that names `field`.
void check_bad_request(const response& res, const std::string& field) {
  INFO(res.text);
  CHECK(res.status == 400);
  CHECK(res.is_error_envelope());
  CHECK((res.error_code() == "BAD_REQUEST" ||
         res.error_code() == "VALIDATION_FAILED"));
  CHECK_THAT(res.error_message(), Catch::Contains(field));
}

} // namespace

TEST_CASE("grouping rules: create, read, list, update, delete",
          "[integration]") {
  auto& s = catalog_server();
  auto& http = s.http();
  auto created = http.post("/v1/grouping-rules", {{"name", "by host"},
                                                  {"grouping_key", "host"},
                                                  {"time_window_minutes", 5}});
  INFO(created.text);
  REQUIRE(created.status == 201);
  auto rule = created.data();
  REQUIRE(rule["id"].is_string());
  auto id = rule["id"].get<std::string>();
  CHECK_FALSE(id.empty());
  CHECK(rule["name"] == "by host");
  CHECK(rule["grouping_key"] == "host");
  CHECK(rule["time_window_minutes"] == 5);
  CHECK(rule["created_at"].is_string());
  CHECK(rule["updated_at"].is_string());

  auto got = http.get("/v1/grouping-rules/" + id);
  REQUIRE(got.status == 200);
  CHECK(got.data() == rule);

  auto list = http.get("/v1/grouping-rules");
  REQUIRE(list.status == 200);
  REQUIRE(list.data().is_array());
  CHECK(contains(ids_of(list.data()), id));

  // The clock must move for updated_at to.
  REQUIRE(wait_until(parse_time(rule["updated_at"].get<std::string>()) + 5ms));
  auto updated =
      http.put("/v1/grouping-rules/" + id,
               {{"name", "by service"}, {"grouping_key", "service"}});
  INFO(updated.text);
  REQUIRE(updated.status == 200);
  CHECK(updated.data()["id"] == id);
  CHECK(updated.data()["name"] == "by service");
  CHECK(updated.data()["grouping_key"] == "service");
  CHECK(updated.data()["time_window_minutes"] == 5); // kept
  CHECK(updated.data()["created_at"] == rule["created_at"]);
  CHECK(parse_time(updated.data()["updated_at"].get<std::string>()) >
        parse_time(rule["updated_at"].get<std::string>()));
  CHECK(http.get("/v1/grouping-rules/" + id).data() == updated.data());

  auto window =
      http.put("/v1/grouping-rules/" + id, {{"time_window_seconds", 30}});
  REQUIRE(window.status == 200);
  CHECK(window.data()["time_window_seconds"] == 30);
  CHECK(window.data()["grouping_key"] == "service");

  auto moved = http.put("/v1/grouping-rules/" + id, {{"id", "elsewhere"}});
  REQUIRE(moved.status == 200);
  CHECK(moved.data()["id"] == id);
  CHECK(http.get("/v1/grouping-rules/elsewhere").status == 404);

  auto deleted = http.del("/v1/grouping-rules/" + id);
  CHECK(deleted.status == 204);
  CHECK(deleted.text.empty());
  auto gone = http.get("/v1/grouping-rules/" + id);
  CHECK(gone.status == 404);
  CHECK(gone.is_error_envelope());
  CHECK(gone.error_code() == "NOT_FOUND");
  CHECK_FALSE(contains(ids_of(http.get("/v1/grouping-rules").data()), id));
  CHECK(http.del("/v1/grouping-rules/" + id).status == 404);
  CHECK(http.put("/v1/grouping-rules/" + id, {{"name", "x"}}).status == 404);
}

TEST_CASE("grouping rules: ids are server-generated", "[integration]") {
  auto& s = catalog_server();
  auto a = s.http().post("/v1/grouping-rules", {{"id", "my-own-id"},
                                                {"name", "a"},
                                                {"grouping_key", "host"},
                                                {"time_window_minutes", 1}});
  auto b = s.http().post("/v1/grouping-rules", {{"id", "my-own-id"},
                                                {"name", "b"},
                                                {"grouping_key", "host"},
                                                {"time_window_minutes", 1}});
  REQUIRE(a.status == 201);
  REQUIRE(b.status == 201);
  CHECK(a.data()["id"] != "my-own-id");
  CHECK(a.data()["id"] != b.data()["id"]);
}

TEST_CASE("grouping rules: the window is given in minutes or seconds",
          "[integration]") {
  auto& s = catalog_server();
  auto& http = s.http();
  auto post = [&](json window) {
    json body{{"name", "w"}, {"grouping_key", "host"}};
    body.update(window);
    return http.post("/v1/grouping-rules", body);
  };
  auto minutes = post({{"time_window_minutes", 5}});
  REQUIRE(minutes.status == 201);
  CHECK(minutes.data()["time_window_minutes"] == 5);
  CHECK(minutes.data().value("time_window_seconds", 300) == 300);
  auto seconds = post({{"time_window_seconds", 120}});
  REQUIRE(seconds.status == 201);
  CHECK(seconds.data()["time_window_minutes"] == 2);
  CHECK(seconds.data()["time_window_seconds"] == 120);
  auto odd = post({{"time_window_seconds", 90}});
  REQUIRE(odd.status == 201);
  CHECK(odd.data()["time_window_seconds"] == 90);
  CHECK(odd.data()["time_window_minutes"].get<double>() == Approx(1.5));

  SECTION("a window must be a positive integer") {
    check_bad_request(post(json::object()), "time_window_minutes");
    check_bad_request(post({{"time_window_minutes", 0}}),
                      "time_window_minutes");
    check_bad_request(post({{"time_window_minutes", -3}}),
                      "time_window_minutes");
    check_bad_request(post({{"time_window_minutes", "5"}}),
                      "time_window_minutes");
    check_bad_request(post({{"time_window_minutes", 1.5}}),
                      "time_window_minutes");
    check_bad_request(post({{"time_window_seconds", 0}}),
                      "time_window_seconds");
    check_bad_request(post({{"time_window_seconds", -1}}),
                      "time_window_seconds");
    check_bad_request(post({{"time_window_seconds", true}}),
                      "time_window_seconds");
    check_bad_request(
        post({{"time_window_seconds", 60}, {"time_window_minutes", 1}}),
        "time_window");
  }
}

TEST_CASE("grouping rules: bad bodies are rejected naming the field",
          "[integration]") {
  auto& s = catalog_server();
  auto& http = s.http();
  check_bad_request(
      http.post("/v1/grouping-rules",
                {{"grouping_key", "host"}, {"time_window_minutes", 5}}),
      "name");
  check_bad_request(
      http.post(
          "/v1/grouping-rules",
          {{"name", ""}, {"grouping_key", "host"}, {"time_window_minutes", 5}}),
      "name");
  check_bad_request(
      http.post(
          "/v1/grouping-rules",
          {{"name", 5}, {"grouping_key", "host"}, {"time_window_minutes", 5}}),
      "name");
  check_bad_request(http.post("/v1/grouping-rules",
                              {{"name", "n"}, {"time_window_minutes", 5}}),
                    "grouping_key");
  check_bad_request(
      http.post("/v1/grouping-rules", {{"name", "n"},
                                       {"grouping_key", json::array()},
                                       {"time_window_minutes", 5}}),
      "grouping_key");
  auto not_json = http.post_raw("/v1/grouping-rules", "{nope");
  CHECK(not_json.status == 400);
  CHECK(not_json.is_error_envelope());
  auto array = http.post_raw("/v1/grouping-rules", "[]");
  CHECK(array.status == 400);
  CHECK(array.is_error_envelope());
  // Updates are checked the same way.
  auto rule = s.create_rule("host", 60);
  auto id = rule["id"].get<std::string>();
  check_bad_request(http.put("/v1/grouping-rules/" + id, {{"name", ""}}),
                    "name");
  check_bad_request(
      http.put("/v1/grouping-rules/" + id, {{"time_window_minutes", 0}}),
      "time_window_minutes");
  CHECK(http.get("/v1/grouping-rules/" + id).data() == rule);
}

TEST_CASE("event managers: create, read, list, update, delete",
          "[integration]") {
  auto& s = catalog_server();
  auto& http = s.http();
  auto rule_id = s.create_rule("host", 60)["id"].get<std::string>();
  auto other_rule_id = s.create_rule("service", 60)["id"].get<std::string>();
  auto created = http.post(
      "/v1/event-managers",
      {{"name", "Production"},
       {"description", "prod alerts"},
       {"grouping_rule_id", rule_id},
       {"notification_config", {{"webhook_url", "https://example.com/hook"}}}});
  INFO(created.text);
  REQUIRE(created.status == 201);
  auto m = created.data();
  REQUIRE(m["id"].is_string());
  auto id = m["id"].get<std::string>();
  CHECK_FALSE(id.empty());
  CHECK(m["name"] == "Production");
  CHECK(m["description"] == "prod alerts");
  CHECK(m["grouping_rule_id"] == rule_id);
  CHECK(m["notification_config"]["webhook_url"] == "https://example.com/hook");
  CHECK(m["created_at"].is_string());
  CHECK(m["updated_at"].is_string());

  auto got = http.get("/v1/event-managers/" + id);
  REQUIRE(got.status == 200);
  CHECK(got.data() == m);
  CHECK(contains(ids_of(http.get("/v1/event-managers").data()), id));

  REQUIRE(wait_until(parse_time(m["updated_at"].get<std::string>()) + 5ms));
  auto updated = http.put(
      "/v1/event-managers/" + id,
      {{"description", "all of prod"}, {"grouping_rule_id", other_rule_id}});
  INFO(updated.text);
  REQUIRE(updated.status == 200);
  CHECK(updated.data()["id"] == id);
  CHECK(updated.data()["name"] == "Production"); // kept
  CHECK(updated.data()["description"] == "all of prod");
  CHECK(updated.data()["grouping_rule_id"] == other_rule_id);
  CHECK(updated.data()["created_at"] == m["created_at"]);
  CHECK(parse_time(updated.data()["updated_at"].get<std::string>()) >
        parse_time(m["updated_at"].get<std::string>()));
  CHECK(http.get("/v1/event-managers/" + id).data() == updated.data());

  // The id is the path's; one in the body does not move the manager.
  auto moved = http.put("/v1/event-managers/" + id, {{"id", "elsewhere"}});
  REQUIRE(moved.status == 200);
  CHECK(moved.data()["id"] == id);
  CHECK(http.get("/v1/event-managers/elsewhere").status == 404);
  auto bare = http.post("/v1/event-managers",
                        {{"name", "no hook"}, {"grouping_rule_id", rule_id}});
  REQUIRE(bare.status == 201);
  CHECK(bare.data()["notification_config"]["webhook_url"].is_null());
  CHECK(bare.data()["description"] == "");

  auto deleted = http.del("/v1/event-managers/" + id);
  CHECK(deleted.status == 204);
  CHECK(deleted.text.empty());
  auto gone = http.get("/v1/event-managers/" + id);
  CHECK(gone.status == 404);
  CHECK(gone.error_code() == "NOT_FOUND");
  CHECK_FALSE(contains(ids_of(http.get("/v1/event-managers").data()), id));
  CHECK(http.del("/v1/event-managers/" + id).status == 404);
  CHECK(http.put("/v1/event-managers/" + id, {{"name", "x"}}).status == 404);
}

TEST_CASE("event managers: a client may choose the id, once", "[integration]") {
  auto& s = catalog_server();
  auto rule_id = s.create_rule("host", 60)["id"].get<std::string>();
  auto id = unique_name("chosen");
  auto m = s.create_manager(rule_id, id);
  CHECK(m["id"] == id);
  auto again = s.http().post(
      "/v1/event-managers",
      {{"id", id}, {"name", "dup"}, {"grouping_rule_id", rule_id}});
  INFO(again.text);
  CHECK(again.status == 409);
  CHECK(again.error_code() == "CONFLICT");
}

TEST_CASE("event managers: an unknown grouping_rule_id is a 400 naming it",
          "[integration]") {
  auto& s = catalog_server();
  auto& http = s.http();
  auto missing = unique_name("no-such-rule");
  auto res = http.post("/v1/event-managers",
                       {{"name", "x"}, {"grouping_rule_id", missing}});
  check_bad_request(res, missing);
  CHECK_THAT(res.error_message(), Catch::Contains("grouping_rule_id"));
  check_bad_request(http.post("/v1/event-managers", {{"name", "x"}}),
                    "grouping_rule_id");
  check_bad_request(http.post("/v1/event-managers",
                              {{"name", "x"}, {"grouping_rule_id", 42}}),
                    "grouping_rule_id");
  auto rule_id = s.create_rule("host", 60)["id"].get<std::string>();
  check_bad_request(
      http.post("/v1/event-managers", {{"grouping_rule_id", rule_id}}), "name");
  auto m = s.create_manager(rule_id, unique_name("em"));
  auto id = m["id"].get<std::string>();
  check_bad_request(
      http.put("/v1/event-managers/" + id, {{"grouping_rule_id", missing}}),
      missing);
  CHECK(http.get("/v1/event-managers/" + id).data() == m);
}

TEST_CASE("deleting a grouping rule still in use is a conflict",
          "[integration]") {
  auto& s = catalog_server();
  auto& http = s.http();
  auto rule_id = s.create_rule("host", 60)["id"].get<std::string>();
  auto m =
      s.create_manager(rule_id, unique_name("em"))["id"].get<std::string>();
  auto res = http.del("/v1/grouping-rules/" + rule_id);
  INFO(res.text);
  CHECK(res.status == 409);
  CHECK(res.is_error_envelope());
  CHECK(res.error_code() == "CONFLICT");
  CHECK(http.get("/v1/grouping-rules/" + rule_id).status == 200);
  REQUIRE(http.del("/v1/event-managers/" + m).status == 204);
  CHECK(http.del("/v1/grouping-rules/" + rule_id).status == 204);
  CHECK(http.get("/v1/grouping-rules/" + rule_id).status == 404);
}

TEST_CASE("an updated rule applies to groups opened afterwards",
          "[integration]") {
  auto& s = catalog_server();
  auto rule = s.create_rule("host", 60);
  auto rule_id = rule["id"].get<std::string>();
  auto m =
      s.create_manager(rule_id, unique_name("em"))["id"].get<std::string>();
  s.trigger(m, "old-parent", {{"host", "a"}});
  auto old_parent = s.await_alert(m, "old-parent");
  REQUIRE(old_parent["type"] == "parent");

  SECTION("a shorter window") {
    auto res = s.http().put("/v1/grouping-rules/" + rule_id,
                            {{"time_window_seconds", 1}});
    REQUIRE(res.status == 200);
    s.trigger(m, "new-parent", {{"host", "b"}});
    auto new_parent = s.await_alert(m, "new-parent");
    REQUIRE(new_parent["type"] == "parent");
    auto later =
        std::max(parse_time(old_parent["created_at"].get<std::string>()),
                 parse_time(new_parent["created_at"].get<std::string>()));
    REQUIRE(wait_until(later + 1s + 100ms));
    // The group opened before the update keeps its 60 s window...
    s.trigger(m, "old-child", {{"host", "a"}});
    auto old_child = s.await_alert(m, "old-child");
    CHECK(old_child["type"] == "child");
    CHECK(old_child["parent_dedupKey"] == "old-parent");
    // ...the one opened after it has the new 1 s window, long gone.
    s.trigger(m, "newer-parent", {{"host", "b"}});
    auto newer = s.await_alert(m, "newer-parent");
    CHECK(newer["type"] == "parent");
    CHECK(newer["parent_dedupKey"].is_null());
  }

  SECTION("another grouping key") {
    auto res = s.http().put("/v1/grouping-rules/" + rule_id,
                            {{"grouping_key", "service"}});
    REQUIRE(res.status == 200);
    s.trigger(m, "svc-parent", {{"host", "a"}, {"service", "api"}});
    s.trigger(m, "svc-child", {{"host", "z"}, {"service", "api"}});
    auto parent = s.await_alert(m, "svc-parent");
    CHECK(parent["type"] == "parent");
    CHECK(parent["grouping_value"] == "api");
    auto child = s.await_alert(m, "svc-child");
    CHECK(child["type"] == "child");
    CHECK(child["parent_dedupKey"] == "svc-parent");
  }
}

TEST_CASE("a manager switched to another rule groups by the new rule",
          "[integration]") {
  auto& s = catalog_server();
  auto host_rule = s.create_rule("host", 60)["id"].get<std::string>();
  auto service_rule = s.create_rule("service", 60)["id"].get<std::string>();
  auto m =
      s.create_manager(host_rule, unique_name("em"))["id"].get<std::string>();
  auto res = s.http().put("/v1/event-managers/" + m,
                          {{"grouping_rule_id", service_rule}});
  REQUIRE(res.status == 200);
  s.trigger(m, "p", {{"host", "a"}, {"service", "db"}});
  s.trigger(m, "c", {{"host", "b"}, {"service", "db"}});
  auto c = s.await_alert(m, "c");
  CHECK(c["type"] == "child");
  CHECK(c["parent_dedupKey"] == "p");
  CHECK(c["grouping_value"] == "db");
}

TEST_CASE("a deleted event manager takes no events, its alerts stay readable",
          "[integration]") {
  auto& s = catalog_server();
  auto m = s.fresh_manager("host");
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c", {{"host", "h"}});
  auto c = s.await_alert(m, "c");
  REQUIRE(c["type"] == "child");
  REQUIRE(s.settle());
  auto before = s.alerts("event_manager_id=" + m);
  REQUIRE(before.size() == 2);
  REQUIRE(s.http().del("/v1/event-managers/" + m).status == 204);
  auto res = s.post_event(trigger_event(m, "after"));
  INFO(res.text);
  CHECK(res.status == 404);
  CHECK(res.error_code() == "NOT_FOUND");
  CHECK_THAT(res.error_message(), Catch::Contains(m));
  auto resolve = s.post_event(
      {{"event_manager_id", m}, {"action", "resolve"}, {"dedupKey", "p"}});
  CHECK(resolve.status == 404);
  REQUIRE(s.settle());
  CHECK(s.alerts("event_manager_id=" + m) == before);
  CHECK(s.alert(m, "p") == find_alert(before, "p"));
  auto children = s.http().get("/v1/alerts/p/children?event_manager_id=" + m);
  REQUIRE(children.status == 200);
  CHECK(children.data().size() == 1);
}
