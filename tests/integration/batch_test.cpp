// POST /v1/events/batch and the bound on pending events, through real HTTP.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

namespace {

using namespace argus::test;

json batch_event(const std::string& manager, const std::string& dedup,
                 const std::string& cls) {
  return {{"event_manager_id", manager}, {"action", "trigger"},
          {"dedupKey", dedup},           {"summary", "s " + dedup},
          {"severity", "high"},          {"class", cls}};
}

} // namespace

TEST_CASE("a batch takes the valid events and names the invalid ones",
          "[integration]") {
  server srv;
  auto m = srv.fresh_manager("class", 300);
  json batch = json::array();
  batch.push_back(batch_event(m, "b-1", "db"));
  batch.push_back({{"action", "trigger"}}); // no manager
  batch.push_back(batch_event(m, "b-2", "db"));
  batch.push_back(42); // not an object
  batch.push_back(batch_event("no-such-manager", "b-3", "db"));
  batch.push_back(batch_event(m, "b-4", "web"));
  auto r = srv.http().post("/v1/events/batch", batch);
  REQUIRE(r.status == 202);
  auto data = r.data();
  CHECK(data["accepted"] == 3);
  REQUIRE(data["rejected"].size() == 3);
  CHECK(data["rejected"][0]["index"] == 1);
  CHECK(data["rejected"][0]["error"]["code"] == "VALIDATION_FAILED");
  CHECK(data["rejected"][0]["error"]["message"].get<std::string>().find(
            "event_manager_id") != std::string::npos);
  CHECK(data["rejected"][1]["index"] == 3);
  CHECK(data["rejected"][1]["error"]["code"] == "BAD_REQUEST");
  CHECK(data["rejected"][2]["index"] == 4);
  CHECK(data["rejected"][2]["error"]["code"] == "NOT_FOUND");
  // The batch keeps its order within a group: b-1 is the parent.
  auto child = srv.await_alert(m, "b-2");
  REQUIRE(child.is_object());
  CHECK(child["type"] == "child");
  CHECK(child["parent_dedupKey"] == "b-1");
  auto other = srv.await_alert(m, "b-4");
  CHECK(other["type"] == "parent");
  REQUIRE(srv.settle());
  CHECK(srv.alerts("event_manager_id=" + m).size() == 3);
}

TEST_CASE("a large batch keeps arrival order within each group",
          "[integration]") {
  server srv;
  auto m = srv.fresh_manager("class", 300);
  json batch = json::array();
  for (int i = 0; i < 1000; ++i)
    batch.push_back(
        batch_event(m, "o-" + std::to_string(i), "c" + std::to_string(i % 10)));
  auto r = srv.http().post("/v1/events/batch", batch);
  REQUIRE(r.status == 202);
  CHECK(r.data()["accepted"] == 1000);
  CHECK(r.data()["rejected"].empty());
  REQUIRE(srv.settle());
  auto parents = srv.alerts("event_manager_id=" + m + "&type=parent");
  REQUIRE(parents.size() == 10);
  for (auto& p : parents) {
    // The first event of each class (o-0 .. o-9) opened its group.
    auto n = std::stoi(p["dedupKey"].get<std::string>().substr(2));
    CHECK(n < 10);
    CHECK(p["child_count"] == 99);
  }
}

TEST_CASE("a batch that is not an array, or too long, takes nothing",
          "[integration]") {
  server_options opts;
  server srv;
  auto m = srv.fresh_manager("class", 300);
  SECTION("not an array") {
    auto r = srv.http().post("/v1/events/batch", batch_event(m, "x", "db"));
    CHECK(r.status == 400);
    CHECK(r.error_code() == "BAD_REQUEST");
    CHECK(r.error_message().find("array") != std::string::npos);
  }
  SECTION("invalid JSON") {
    auto r = srv.http().post_raw("/v1/events/batch", "[{", "application/json");
    CHECK(r.status == 400);
  }
  SECTION("over max_batch_events") {
    json batch = json::array();
    for (int i = 0; i < 10001; ++i)
      batch.push_back(json::object());
    auto r = srv.http().post("/v1/events/batch", batch);
    CHECK(r.status == 413);
    CHECK(r.error_code() == "PAYLOAD_TOO_LARGE");
    CHECK(r.error_message().find("10000") != std::string::npos);
  }
  REQUIRE(srv.settle());
  CHECK(srv.alerts("event_manager_id=" + m).empty());
  CHECK(srv.health()["status"] == "ok");
}

TEST_CASE("ingestion answers 503 with Retry-After past the pending bound",
          "[integration]") {
  server_options opts;
  opts.extra_yaml = "ingest: {max_pending_events: 50}\n";
  server srv{opts};
  auto m = srv.fresh_manager("class", 300);
  json batch = json::array();
  for (int i = 0; i < 51; ++i)
    batch.push_back(batch_event(m, "p-" + std::to_string(i), "db"));
  // A raw client, to see the Retry-After header.
  httplib::Client raw{"127.0.0.1", srv.port()};
  auto r = raw.Post("/v1/events/batch", batch.dump(), "application/json");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(r->get_header_value("Retry-After") == "1");
  CHECK(json::parse(r->body)["error"]["code"] == "UNAVAILABLE");
  REQUIRE(srv.settle());
  CHECK(srv.alerts("event_manager_id=" + m).empty());
  // Within the bound the same server takes work again.
  batch.erase(batch.begin());
  CHECK(srv.http().post("/v1/events/batch", batch).status == 202);
}
