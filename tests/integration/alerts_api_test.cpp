// The read side of the API: alert listing and filters, single alerts,
// children, /healthz and unknown routes.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace argus::test;

server& alerts_server() {
  static server instance;
  return instance;
}

/// Triggers the keys one after another, each visible before the next, so
/// that their created_at times strictly increase.
void trigger_in_order(server& s, const std::string& m,
                      const std::vector<std::pair<std::string, json>>& keys) {
  for (auto& [key, extra] : keys) {
    s.trigger(m, key, extra);
    auto a = s.await_alert(m, key);
    REQUIRE(a.is_object());
    REQUIRE(wait_until(parse_time(a["created_at"].get<std::string>()) + 2ms));
  }
}

} // namespace

TEST_CASE("GET /v1/alerts filters, pages and sorts newest first",
          "[integration]") {
  auto& s = alerts_server();
  auto m = s.fresh_manager("host");
  auto other = s.fresh_manager("host");
  trigger_in_order(s, m,
                   {{"a1", {{"host", "x"}}},
                    {"a2", {{"host", "x"}}},
                    {"a3", {{"host", "y"}}},
                    {"a4", {{"host", "x"}}}});
  s.trigger(other, "o1", {{"host", "x"}});
  s.resolve(m, "a3");
  REQUIRE(s.await_alert(m, "a3", [](const json& a) {
    return a["status"] == "resolved";
  })["status"] == "resolved");
  REQUIRE(s.await_alert(other, "o1").is_object());
  REQUIRE(s.settle());
  auto by = "event_manager_id=" + m;

  SECTION("by event manager, newest first") {
    auto all = s.alerts(by);
    CHECK(dedup_keys_of(all) ==
          std::vector<std::string>{"a4", "a3", "a2", "a1"});
    for (auto& a : all)
      CHECK(a["event_manager_id"] == m);
    auto others = s.alerts("event_manager_id=" + other);
    CHECK(dedup_keys_of(others) == std::vector<std::string>{"o1"});
    CHECK(s.alerts("event_manager_id=" + unique_name("nobody")).empty());
  }

  SECTION("without a manager filter every tenant is listed") {
    auto all = s.alerts("limit=1000");
    CHECK(find_alert(all, "a1").is_object());
    CHECK(find_alert(all, "o1").is_object());
    for (size_t i = 1; i < all.size(); ++i)
      CHECK(parse_time(all[i - 1]["created_at"].get<std::string>()) >=
            parse_time(all[i]["created_at"].get<std::string>()));
  }

  SECTION("by status") {
    CHECK(dedup_keys_of(s.alerts(by + "&status=resolved")) ==
          std::vector<std::string>{"a3"});
    CHECK(dedup_keys_of(s.alerts(by + "&status=active")) ==
          std::vector<std::string>{"a4", "a2", "a1"});
  }

  SECTION("by type") {
    CHECK(dedup_keys_of(s.alerts(by + "&type=parent")) ==
          std::vector<std::string>{"a3", "a1"});
    CHECK(dedup_keys_of(s.alerts(by + "&type=child")) ==
          std::vector<std::string>{"a4", "a2"});
    CHECK(dedup_keys_of(s.alerts(by + "&type=child&status=resolved")).empty());
    CHECK(dedup_keys_of(s.alerts(by + "&type=parent&status=active")) ==
          std::vector<std::string>{"a1"});
  }

  SECTION("limit and offset") {
    CHECK(dedup_keys_of(s.alerts(by + "&limit=2")) ==
          std::vector<std::string>{"a4", "a3"});
    CHECK(dedup_keys_of(s.alerts(by + "&limit=2&offset=2")) ==
          std::vector<std::string>{"a2", "a1"});
    CHECK(dedup_keys_of(s.alerts(by + "&limit=2&offset=3")) ==
          std::vector<std::string>{"a1"});
    CHECK(s.alerts(by + "&offset=4").empty());
    CHECK(dedup_keys_of(s.alerts(by + "&offset=1")) ==
          std::vector<std::string>{"a3", "a2", "a1"});
  }
}

TEST_CASE("GET /v1/alerts returns at most 100 alerts by default",
          "[integration]") {
  auto& s = alerts_server();
  auto m = s.fresh_manager("host");
  constexpr int n = 105;
  for (int i = 0; i < n; ++i)
    s.trigger(m, "k" + std::to_string(i));
  auto by = "event_manager_id=" + m;
  CHECK(eventually([&] {
    return s.alerts(by + "&offset=" + std::to_string(n - 1)).size() == 1;
  }));
  REQUIRE(s.settle());
  CHECK(s.alerts(by).size() == 100);
  CHECK(s.alerts(by + "&limit=1000").size() == n);
  CHECK(s.alerts(by + "&offset=100").size() == n - 100);
}

TEST_CASE("GET /v1/alerts rejects bad filter values", "[integration]") {
  auto& s = alerts_server();
  for (auto query :
       {"status=open", "status=ACTIVE", "type=grandchild", "limit=0",
        "limit=-1", "limit=abc", "limit=10x", "limit=", "offset=-1",
        "offset=abc", "limit=99999999999999999999999"}) {
    INFO("GET /v1/alerts?" << query);
    auto res = s.http().get(std::string{"/v1/alerts?"} + query);
    INFO(res.text);
    CHECK(res.status == 400);
    CHECK(res.is_error_envelope());
    CHECK(res.error_code() == "BAD_REQUEST");
    std::string param{query};
    param = param.substr(0, param.find('='));
    CHECK_THAT(res.error_message(), Catch::Contains(param));
  }
  CHECK(s.health()["status"] == "ok");
}

TEST_CASE("GET /v1/alerts/:dedupKey picks the tenant", "[integration]") {
  auto& s = alerts_server();
  auto m1 = s.fresh_manager("host");
  auto m2 = s.fresh_manager("host");
  auto shared = unique_name("shared-key");
  auto only = unique_name("only-key");
  s.trigger(m1, shared, {{"host", "a"}});
  s.trigger(m2, shared, {{"host", "b"}});
  s.trigger(m1, only, {{"host", "c"}});
  REQUIRE(s.await_alert(m1, shared).is_object());
  REQUIRE(s.await_alert(m2, shared).is_object());
  REQUIRE(s.await_alert(m1, only).is_object());
  auto& http = s.http();

  SECTION("a key used by one manager needs no choice") {
    auto res = http.get("/v1/alerts/" + only);
    INFO(res.text);
    REQUIRE(res.status == 200);
    CHECK(res.body["success"] == true);
    CHECK(res.data()["dedupKey"] == only);
    CHECK(res.data()["event_manager_id"] == m1);
  }

  SECTION("a key used by several managers is ambiguous without a choice") {
    auto res = http.get("/v1/alerts/" + shared);
    INFO(res.text);
    CHECK(res.status == 409);
    CHECK(res.is_error_envelope());
    CHECK(res.error_code() == "CONFLICT");
    CHECK_THAT(res.error_message(), Catch::Contains("event_manager_id"));
    auto one = http.get("/v1/alerts/" + shared + "?event_manager_id=" + m1);
    REQUIRE(one.status == 200);
    CHECK(one.data()["event_manager_id"] == m1);
    CHECK(one.data()["grouping_value"] == "a");
    auto two = http.get("/v1/alerts/" + shared + "?event_manager_id=" + m2);
    REQUIRE(two.status == 200);
    CHECK(two.data()["event_manager_id"] == m2);
    CHECK(two.data()["grouping_value"] == "b");
  }

  SECTION("children of an ambiguous key need a choice too") {
    auto res = http.get("/v1/alerts/" + shared + "/children");
    INFO(res.text);
    CHECK(res.status == 409);
    CHECK(res.error_code() == "CONFLICT");
    auto one =
        http.get("/v1/alerts/" + shared + "/children?event_manager_id=" + m1);
    CHECK(one.status == 200);
    CHECK(one.data() == json::array());
  }

  SECTION("unknown keys and managers are 404") {
    auto unknown = http.get("/v1/alerts/" + unique_name("nope"));
    CHECK(unknown.status == 404);
    CHECK(unknown.is_error_envelope());
    CHECK(unknown.error_code() == "NOT_FOUND");
    CHECK(http.get("/v1/alerts/" + only + "?event_manager_id=" + m2).status ==
          404);
    CHECK(http.get("/v1/alerts/" + only +
                   "?event_manager_id=" + unique_name("nobody"))
              .status == 404);
  }

  SECTION("keys with reserved characters round-trip") {
    auto odd = "a b/c?d=" + unique_name("e");
    s.trigger(m1, odd, {{"host", "z"}});
    auto a = s.await_alert(m1, odd);
    REQUIRE(a.is_object());
    CHECK(a["dedupKey"] == odd);
  }

  SECTION("non-ASCII keys round-trip") {
    auto key = "ключ-\xc3\xa9-" + unique_name("k");
    s.trigger(m1, key, {{"host", "z"}});
    auto a = s.await_alert(m1, key);
    REQUIRE(a.is_object());
    CHECK(a["dedupKey"] == key);
  }
}

TEST_CASE("GET /v1/alerts/:dedupKey/children", "[integration]") {
  auto& s = alerts_server();
  auto m = s.fresh_manager("host");
  auto& http = s.http();
  s.trigger(m, "p", {{"host", "h"}});
  s.trigger(m, "c1", {{"host", "h"}});
  s.trigger(m, "c2", {{"host", "h"}});
  s.trigger(m, "lonely", {{"host", "other"}});
  REQUIRE(s.await_alert(m, "p", [](const json& a) {
    return a["child_count"] == 2;
  })["child_count"] == 2);
  REQUIRE(s.await_alert(m, "lonely").is_object());
  auto q = "?event_manager_id=" + m;

  auto children = http.get("/v1/alerts/p/children" + q);
  INFO(children.text);
  REQUIRE(children.status == 200);
  CHECK(children.body["success"] == true);
  auto keys = dedup_keys_of(children.data());
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"c1", "c2"});
  for (auto& c : children.data()) {
    CHECK(c["type"] == "child");
    CHECK(c["parent_dedupKey"] == "p");
  }

  auto none = http.get("/v1/alerts/lonely/children" + q);
  REQUIRE(none.status == 200);
  CHECK(none.data() == json::array());

  auto of_child = http.get("/v1/alerts/c1/children" + q);
  INFO(of_child.text);
  CHECK(of_child.status == 400);
  CHECK(of_child.is_error_envelope());
  CHECK(of_child.error_code() == "BAD_REQUEST");
  CHECK_THAT(of_child.error_message(), Catch::Contains("c1"));

  auto unknown = http.get("/v1/alerts/" + unique_name("nope") + "/children");
  CHECK(unknown.status == 404);
  CHECK(unknown.error_code() == "NOT_FOUND");

  // A resolved child is still listed.
  s.resolve(m, "c1");
  REQUIRE(s.await_alert(m, "c1", [](const json& a) {
    return a["status"] == "resolved";
  })["status"] == "resolved");
  CHECK(http.get("/v1/alerts/p/children" + q).data().size() == 2);
}

TEST_CASE("GET /healthz reports the node", "[integration]") {
  auto& s = alerts_server();
  auto res = s.http().get("/healthz");
  INFO(res.text);
  REQUIRE(res.status == 200);
  CHECK(res.body["success"] == true);
  auto data = res.data();
  CHECK(data["status"] == "ok");
  CHECK(data["storage"] == test_backend());
  CHECK(data["version"].is_string());
  CHECK(data["events"].is_object());
  CHECK(data["events"]["accepted"].is_number_unsigned());
}

TEST_CASE("unknown routes are 404 in the envelope", "[integration]") {
  auto& s = alerts_server();
  auto& http = s.http();
  // (`GET /` is the web console, console_test.cpp.)
  for (auto path : {"/v1", "/v1/nope", "/v2/alerts", "/healthz/more"}) {
    INFO("GET " << path);
    auto res = http.get(path);
    INFO(res.text);
    CHECK(res.status == 404);
    CHECK(res.is_error_envelope());
    CHECK(res.error_code() == "NOT_FOUND");
  }
  auto post = http.post("/v1/nothing-here", json::object());
  CHECK(post.status == 404);
  CHECK(post.is_error_envelope());
  auto del = http.del("/v1/whatever/1");
  CHECK(del.status == 404);
  CHECK(del.is_error_envelope());
  CHECK(s.health()["status"] == "ok");
}
