// The web console's server side (issue 16): its embedded files served
// without a key, `GET /v1/whoami` for every kind of caller, and
// `GET /v1/groups` (open groups with children counted, window, state,
// filters, pages, a scoped key's view). The page itself is tested in a
// real browser by tests/browser.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace argus::test;

const std::string admin_key = "argus_bootstrap_" + std::string(48, 'C');

/// One request with `Authorization: Bearer <key>` (none when empty).
response call(uint16_t port, const std::string& method, const std::string& path,
              const std::string& key, const json& body = nullptr) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(15, 0);
  httplib::Headers headers;
  if (!key.empty())
    headers.emplace("Authorization", "Bearer " + key);
  auto r = method == "GET" ? cli.Get(path.c_str(), headers)
                           : cli.Post(path.c_str(), headers,
                                      body.is_null() ? "" : body.dump(),
                                      "application/json");
  response out;
  if (!r)
    return out;
  out.status = r->status;
  out.text = r->body;
  out.body = json::parse(r->body, nullptr, false);
  return out;
}

/// The dedupKeys of a /v1/groups page, in order.
std::vector<std::string> keys_of(const response& r) {
  std::vector<std::string> out;
  auto data = r.data(); // a copy: iterate over it, not a temporary
  for (auto& g : data["groups"])
    out.push_back(g["dedupKey"].get<std::string>());
  return out;
}

} // namespace

TEST_CASE("the console's files are embedded and served at / and /ui/",
          "[integration][console]") {
  server srv;
  auto& http = srv.http();
  for (auto path : {"/", "/ui/"}) {
    auto r = http.get(path);
    REQUIRE(r.status == 200);
    CHECK(r.text.find("<script type=\"module\" src=\"/ui/app.js\">") !=
          std::string::npos);
  }
  auto js = call(srv.port(), "GET", "/ui/app.js", "");
  REQUIRE(js.status == 200);
  CHECK(js.body.is_discarded()); // JavaScript, not JSON
  auto css = http.get("/ui/style.css");
  CHECK(css.status == 200);
  CHECK(css.text.find(":root") != std::string::npos);
  auto missing = http.get("/ui/nope.js");
  CHECK(missing.status == 404);
  CHECK(missing.error_code() == "NOT_FOUND");
  // With auth off the console needs no sign-in: the caller may do all.
  auto who = http.get("/v1/whoami");
  REQUIRE(who.status == 200);
  CHECK(who.data()["auth"] == "off");
  CHECK(who.data()["role"] == "admin");
  CHECK(who.data()["key_id"].is_null());
}

TEST_CASE("GET /v1/groups lists open groups with their children and window "
          "and state",
          "[integration][console]") {
  server srv;
  auto m = srv.fresh_manager("class", 300);
  srv.trigger(m, "db-1", {{"class", "database"}, {"summary", "DB down"}});
  srv.trigger(m, "db-2", {{"class", "database"}}, "medium");
  auto db_1 = srv.await_alert(m, "db-1");
  REQUIRE(db_1.is_object());
  REQUIRE(srv.await_alert(m, "db-2").is_object());
  // Newest first, by the millisecond: in the same one, db-1 would sort
  // first by its dedupKey.
  REQUIRE(wait_until(parse_time(db_1["created_at"].get<std::string>()) + 2ms));
  srv.trigger(m, "web-1", {{"class", "web"}}, "low");
  REQUIRE(srv.await_alert(m, "web-1").is_object());
  auto& http = srv.http();
  auto all = http.get("/v1/groups?event_manager_id=" + m);
  REQUIRE(all.status == 200);
  CHECK(all.data()["total"] == 2);
  CHECK(keys_of(all) == std::vector<std::string>{"web-1", "db-1"});
  auto db = all.data()["groups"][1];
  CHECK(db["active_children"] == 1);
  CHECK(db["child_count"] == 1);
  CHECK(db["grouping_value"] == "database");
  CHECK(db["state"] == "active");
  CHECK(db["window_left_seconds"].get<int64_t>() > 0);
  CHECK(db["window_left_seconds"].get<int64_t>() <= 300);
  CHECK(db["window_ends_at"].is_string());
  CHECK(db["silenced_by"].empty());

  auto high = http.get("/v1/groups?severity=high&event_manager_id=" + m);
  CHECK(keys_of(high) == std::vector<std::string>{"db-1"});
  auto text = http.get("/v1/groups?q=DB%20DOWN&event_manager_id=" + m);
  CHECK(keys_of(text) == std::vector<std::string>{"db-1"});
  auto paged = http.get("/v1/groups?limit=1&offset=1&event_manager_id=" + m);
  CHECK(paged.data()["total"] == 2);
  CHECK(keys_of(paged) == std::vector<std::string>{"db-1"});

  REQUIRE(http.post("/v1/alerts/db-1/acknowledge?event_manager_id=" + m,
                    json::object())
              .status == 202);
  CHECK(eventually([&] {
    auto acked =
        http.get("/v1/groups?state=acknowledged&event_manager_id=" + m);
    return keys_of(acked) == std::vector<std::string>{"db-1"};
  }));
  REQUIRE(http.post("/v1/silences", {{"event_manager_id", m},
                                     {"matchers",
                                      {{{"name", "class"},
                                        {"value", "web"},
                                        {"isRegex", false},
                                        {"isEqual", true}}}},
                                     {"endsAt", "2099-01-01T00:00:00Z"},
                                     {"createdBy", "test"},
                                     {"comment", "console"}})
              .status == 201);
  auto silenced = http.get("/v1/groups?state=silenced&event_manager_id=" + m);
  REQUIRE(keys_of(silenced) == std::vector<std::string>{"web-1"});
  CHECK(silenced.data()["groups"][0]["silenced_by"].size() == 1);

  srv.resolve(m, "web-1");
  CHECK(eventually([&] {
    return keys_of(http.get("/v1/groups?event_manager_id=" + m)) ==
           std::vector<std::string>{"db-1"};
  }));

  auto bad = http.get("/v1/groups?state=open");
  CHECK(bad.status == 400);
  CHECK(bad.error_message().find("query parameter 'state'") == 0);
  CHECK(http.get("/v1/groups?limit=0")
            .error_message()
            .find("query parameter 'limit'") == 0);
  CHECK(http.get("/v1/groups?offset=x").status == 400);
}

TEST_CASE("with auth required the console's files are open and the rest is "
          "not and whoami tells each key its role",
          "[integration][console]") {
  temp_dir keys;
  write_file(keys.path() / "bootstrap.key", admin_key + "\n");
  server_options opts;
  opts.extra_yaml = "auth:\n  mode: required\n  bootstrap_key_file: " +
                    (keys.path() / "bootstrap.key").string() + "\n";
  server srv(opts);
  auto port = srv.port();
  CHECK(call(port, "GET", "/", "").status == 200);
  CHECK(call(port, "GET", "/ui/", "").status == 200);
  auto js = call(port, "GET", "/ui/app.js", "");
  CHECK(js.status == 200);
  CHECK(call(port, "GET", "/ui/config.js", "").status == 200);
  // Only reads of the console's paths are open.
  CHECK(call(port, "POST", "/", "").status == 401);
  CHECK(call(port, "POST", "/ui/app.js", "").status == 401);
  CHECK(call(port, "GET", "/v1/whoami", "").status == 401);
  CHECK(call(port, "GET", "/v1/groups", "").status == 401);
  CHECK(call(port, "GET", "/v1/whoami", "argus_nope_" + std::string(40, 'x'))
            .status == 401);

  auto admin = call(port, "GET", "/v1/whoami", admin_key);
  REQUIRE(admin.status == 200);
  CHECK(admin.data()["auth"] == "required");
  CHECK(admin.data()["role"] == "admin");
  CHECK(admin.data()["key_id"] == "bootstrap");
  CHECK(admin.data()["managers"].empty());

  auto make = [&](const json& request) {
    auto r = call(port, "POST", "/v1/keys", admin_key, request);
    REQUIRE(r.status == 201);
    return r.data();
  };
  auto rule = call(
      port, "POST", "/v1/grouping-rules", admin_key,
      {{"name", "r"}, {"grouping_key", "class"}, {"time_window_minutes", 5}});
  REQUIRE(rule.status == 201);
  for (auto id : {"a", "b"})
    REQUIRE(
        call(
            port, "POST", "/v1/event-managers", admin_key,
            {{"id", id}, {"name", id}, {"grouping_rule_id", rule.data()["id"]}})
            .status == 201);
  auto reader = make({{"role", "reader"}, {"managers", {"a"}}});
  auto ingest = make({{"role", "ingest"}, {"managers", {"a"}}});
  auto r_who = call(port, "GET", "/v1/whoami", reader["key"]);
  REQUIRE(r_who.status == 200);
  CHECK(r_who.data()["role"] == "reader");
  CHECK(r_who.data()["key_id"] == reader["id"]);
  CHECK(r_who.data()["managers"] == json::array({"a"}));
  // whoami answers any valid key, even one that may read nothing.
  auto i_who = call(port, "GET", "/v1/whoami", ingest["key"]);
  REQUIRE(i_who.status == 200);
  CHECK(i_who.data()["role"] == "ingest");
  CHECK(call(port, "GET", "/v1/groups", ingest["key"]).status == 403);

  for (auto m : {"a", "b"})
    REQUIRE(call(port, "POST", "/v1/events", admin_key,
                 {{"event_manager_id", m},
                  {"action", "trigger"},
                  {"dedupKey", std::string{"k-"} + m},
                  {"summary", "s"},
                  {"severity", "high"},
                  {"class", "c"}})
                .status == 202);
  REQUIRE(eventually([&] {
    return call(port, "GET", "/v1/groups", admin_key).data()["total"] == 2;
  }));
  auto scoped = call(port, "GET", "/v1/groups", reader["key"]);
  REQUIRE(scoped.status == 200);
  CHECK(keys_of(scoped) == std::vector<std::string>{"k-a"});
  auto other =
      call(port, "GET", "/v1/groups?event_manager_id=b", reader["key"]);
  CHECK(other.status == 200);
  CHECK(other.data()["total"] == 0);

  // A key of two managers (of three) pages their groups as one list: each
  // manager's repository sends its first page, and the pages are merged.
  REQUIRE(
      call(
          port, "POST", "/v1/event-managers", admin_key,
          {{"id", "c"}, {"name", "c"}, {"grouping_rule_id", rule.data()["id"]}})
          .status == 201);
  for (auto [m, k] :
       {std::pair{"a", "k-a2"}, {"b", "k-b2"}, {"c", "k-c1"}, {"b", "k-b3"}})
    REQUIRE(call(port, "POST", "/v1/events", admin_key,
                 {{"event_manager_id", m},
                  {"action", "trigger"},
                  {"dedupKey", k},
                  {"summary", "s"},
                  {"severity", "low"},
                  {"class", k}})
                .status == 202);
  auto pair = make({{"role", "reader"}, {"managers", {"a", "b"}}});
  REQUIRE(eventually([&] {
    return call(port, "GET", "/v1/groups", pair["key"]).data()["total"] == 5;
  }));
  auto all = keys_of(call(port, "GET", "/v1/groups?limit=10", pair["key"]));
  REQUIRE(all.size() == 5);
  CHECK(std::find(all.begin(), all.end(), "k-c1") == all.end());
  auto page = call(port, "GET", "/v1/groups?limit=2&offset=1", pair["key"]);
  REQUIRE(page.status == 200);
  CHECK(page.data()["total"] == 5);
  CHECK(page.data()["offset"] == 1);
  CHECK(keys_of(page) ==
        std::vector<std::string>(all.begin() + 1, all.begin() + 3));
  CHECK(keys_of(call(port, "GET", "/v1/groups?limit=2&offset=4",
                     pair["key"])) == std::vector<std::string>{all[4]});
  // A silence of one manager decides the state of its groups alone.
  auto silence = call(port, "POST", "/v1/silences", admin_key,
                      {{"matchers",
                        {{{"name", "severity"},
                          {"value", "low"},
                          {"isRegex", false},
                          {"isEqual", true}}}},
                       {"event_manager_id", "b"},
                       {"endsAt", "2200-01-01T00:00:00Z"},
                       {"createdBy", "alice"},
                       {"comment", "maintenance"}});
  REQUIRE(silence.status == 201);
  auto silenced =
      call(port, "GET", "/v1/groups?state=silenced&limit=10", pair["key"]);
  REQUIRE(silenced.status == 200);
  CHECK(silenced.data()["total"] == 2);
  auto muted = keys_of(silenced);
  std::sort(muted.begin(), muted.end());
  CHECK(muted == std::vector<std::string>{"k-b2", "k-b3"});
  for (auto& g : silenced.data()["groups"]) {
    CHECK(g["state"] == "silenced");
    CHECK(g["silenced_by"] == json::array({silence.data()["id"]}));
  }
  auto active =
      call(port, "GET", "/v1/groups?state=active&severity=high", pair["key"]);
  CHECK(active.data()["total"] == 2); // k-a and k-b (high), not muted
  auto low = call(port, "GET", "/v1/groups?severity=low", pair["key"]);
  CHECK(low.data()["total"] == 3); // k-a2, k-b2, k-b3
}
