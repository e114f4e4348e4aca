// A clustered node dies with deliveries pending: the survivor delivers them,
// each once, with the ids the shared outbox lists.

#include "delivery/receiver_server.hpp"
#include "integration/cluster_harness.hpp"

#include <catch2/catch.hpp>

#include <set>

namespace {

using namespace argus::test;

const std::map<std::string, std::string> both_up{{"n1", "up"}, {"n2", "up"}};

} // namespace

TEST_CASE("cluster: a dead node's pending deliveries are delivered by the "
          "survivor",
          "[integration][postgres][cluster]") {
  // Quick retries: the deliveries keep trying while the receiver is down.
  cluster c{2, "",
            "notifications:\n  retry:\n    initial_ms: 50\n"
            "    max_ms: 500\n    max_attempts: 1000\n"};
  for (size_t i = 0; i < 2; ++i)
    REQUIRE(
        eventually([&] { return c.sees(i, both_up); }, membership_deadline));
  auto port = static_cast<int>(free_port());
  auto rule = c[0].create_rule("class", 3600, unique_name("rule"));
  json body{{"id", unique_name("em")},
            {"name", "cluster delivery"},
            {"grouping_rule_id", rule["id"]},
            {"notification_config",
             {{"receivers",
               json::array({{{"name", "down"},
                             {"url", "http://127.0.0.1:" +
                                         std::to_string(port) + "/hook"}}})}}}};
  auto created = c[0].http().post("/v1/event-managers", body);
  REQUIRE(created.status == 201);
  auto m = created.data()["id"].get<std::string>();
  REQUIRE(eventually([&] {
    return c[1].http().get("/v1/event-managers/" + m).status == 200;
  }));
  // Twenty groups, split between the nodes by ownership; the receiver is
  // down, so every opening stays pending with its owner.
  const size_t groups = 20;
  for (size_t i = 0; i < groups; ++i)
    c[i % 2].trigger(m, "p" + std::to_string(i),
                     {{"class", "g" + std::to_string(i)}});
  json pending;
  REQUIRE(eventually([&] {
    pending = c[0].notifications_of(m, "state=pending");
    return pending.size() == groups;
  }));
  std::set<std::string> ids;
  for (auto& n : pending)
    ids.insert(n["id"].get<std::string>());
  REQUIRE(ids.size() == groups);

  c[1].kill9();
  REQUIRE(eventually(
      [&] {
        return c.sees(0, {{"n1", "up"}, {"n2", "down"}});
      },
      membership_deadline));
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }, port};
  INFO("n1 log:\n" << c[0].log());
  REQUIRE(eventually(
      [&] {
        return c[0].notifications_of(m, "state=delivered").size() == groups;
      },
      std::chrono::seconds{60}));
  std::set<std::string> heard;
  for (auto& req : rx.requests())
    heard.insert(req.get_header_value("Idempotency-Key"));
  CHECK(heard == ids);
  CHECK(rx.requests().size() == groups); // n2 is gone: nobody else sent
}
