// Per event manager rate limits (issue 14) against the real server: one
// tenant flooding past its limit gets 429 with Retry-After while another's
// events keep being taken; the Alertmanager and PagerDuty fronts answer in
// their own shapes; the per-manager override is stored, survives a restart
// and is validated; argusctl sets it.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace {

using namespace argus::test;

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Sets a manager's own limit through PUT; returns the manager's `data`.
json set_limit(server& s, const std::string& manager, const json& limit) {
  auto res = s.http().put("/v1/event-managers/" + manager,
                          json{{"rate_limit", limit}});
  INFO(res.text);
  REQUIRE(res.status == 200);
  return res.data();
}

/// The Retry-After header of a 429 as seconds (0 when missing or not a
/// positive integer).
int retry_after(const httplib::Result& r) {
  auto text = r->get_header_value("Retry-After");
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  return std::stoi(text);
}

/// The PagerDuty trigger of `routing_key` for `dedup`.
json pd_trigger(const std::string& routing_key, const std::string& dedup) {
  return json{{"routing_key", routing_key},
              {"dedup_key", dedup},
              {"event_action", "trigger"},
              {"payload",
               {{"summary", "disk full"},
                {"source", "db1"},
                {"severity", "critical"}}}};
}

} // namespace

TEST_CASE("rate limit: a manager flooding past its limit gets 429 while "
          "another's events are all taken",
          "[integration][rate_limit]") {
  // The node's default limits every manager that sets none: A floods under
  // it; B sets its own (unlimited) and sends at the same time.
  server_options opts;
  opts.extra_yaml = "rate_limit: {events_per_second: 0.5, burst: 3}\n";
  server s{opts};
  auto a = s.fresh_manager("class");
  auto b = s.fresh_manager("class");
  auto b_data = set_limit(s, b, {{"events_per_second", 0}});
  CHECK(b_data["rate_limit"] == json{{"events_per_second", 0}, {"burst", 0}});
  CHECK(s.http().get("/v1/event-managers/" + a).data()["rate_limit"] ==
        nullptr);

  httplib::Client raw{"127.0.0.1", s.port()};
  auto post = [&](const std::string& manager, const std::string& dedup) {
    auto r = raw.Post("/v1/events", trigger_event(manager, dedup).dump(),
                      "application/json");
    REQUIRE(r);
    return r;
  };
  auto started = std::chrono::steady_clock::now();
  int a_taken = 0;
  int a_refused = 0;
  int wait = 0;
  for (int i = 0; i < 12; ++i) {
    auto ra = post(a, "a-" + std::to_string(i));
    if (ra->status == 202) {
      ++a_taken;
    } else {
      INFO(ra->body);
      REQUIRE(ra->status == 429);
      ++a_refused;
      auto body = json::parse(ra->body);
      CHECK(body["success"] == false);
      CHECK(body["error"]["code"] == "RATE_LIMITED");
      CHECK(body["error"]["message"] ==
            "event manager " + a + " is over its rate limit of 0.5 events/s");
      wait = retry_after(ra);
      CHECK(wait >= 1);
      CHECK(wait <= 2); // one token at 0.5 events/s
    }
    // B's rate holds whatever A does.
    auto rb = post(b, "b-" + std::to_string(i));
    INFO(rb->body);
    CHECK(rb->status == 202);
  }
  auto elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  // The burst, plus what the rate earned while the flood lasted.
  CHECK(a_taken >= 3);
  CHECK(a_taken <= 3 + static_cast<int>(elapsed * 0.5) + 1);
  REQUIRE(a_refused > 0);

  // A batch of A's is refused whole and takes no token: after the wait,
  // the one token earned still admits a single event.
  std::this_thread::sleep_for(std::chrono::seconds{wait});
  json batch =
      json::array({trigger_event(a, "batch-1"), trigger_event(a, "batch-2"),
                   trigger_event(a, "batch-3"), trigger_event(a, "batch-4")});
  auto rbatch = raw.Post("/v1/events/batch", batch.dump(), "application/json");
  REQUIRE(rbatch);
  CHECK(rbatch->status == 429);
  CHECK(retry_after(rbatch) >= 1);
  auto again = post(a, "after-wait");
  INFO(again->body);
  CHECK(again->status == 202);

  REQUIRE(s.settle());
  auto a_alerts = all_alerts(s, a);
  CHECK(a_alerts.size() == static_cast<size_t>(a_taken + 1));
  CHECK(a_alerts.count("batch-1") == 0);
  CHECK(a_alerts.count("after-wait") == 1);
  CHECK(all_alerts(s, b).size() == 12);

  // Refused events are counted per manager; B has no series.
  auto m = raw.Get("/metrics");
  REQUIRE(m);
  INFO(m->body);
  CHECK(has(m->body, "argus_rate_limited_total{event_manager=\"" + a + "\"} " +
                         std::to_string(a_refused + 4)));
  CHECK_FALSE(has(m->body, "argus_rate_limited_total{event_manager=\"" + b));
}

TEST_CASE("rate limit: Alertmanager and PagerDuty senders get 429 in their "
          "shapes",
          "[integration][rate_limit]") {
  server s;
  auto m = s.fresh_manager("class");
  // One event per 100 s: the second is refused whatever the machine's pace.
  auto data = set_limit(s, m, {{"events_per_second", 0.01}, {"burst", 1}});
  auto routing_key = data["routing_key"].get<std::string>();
  httplib::Client raw{"127.0.0.1", s.port()};

  json alert{{"labels", {{"alertname", "DiskFull"}, {"class", "disk"}}}};
  auto path = "/am/" + m + "/api/v2/alerts";
  auto first = raw.Post(path, json::array({alert}).dump(), "application/json");
  REQUIRE(first);
  CHECK(first->status == 200);
  auto am = raw.Post(path, json::array({alert}).dump(), "application/json");
  REQUIRE(am);
  CHECK(am->status == 429);
  CHECK(retry_after(am) > 90);
  // Alertmanager's shape: the message as a JSON string.
  auto am_body = json::parse(am->body);
  REQUIRE(am_body.is_string());
  CHECK(am_body.get<std::string>() ==
        "event manager " + m + " is over its rate limit of 0.01 events/s");

  // The bucket is the manager's, whichever front its events come through.
  auto pd = raw.Post("/v2/enqueue", pd_trigger(routing_key, "pd-1").dump(),
                     "application/json");
  REQUIRE(pd);
  CHECK(pd->status == 429);
  CHECK(retry_after(pd) > 90);
  auto pd_body = json::parse(pd->body);
  CHECK(pd_body["status"] == "throttle event");
  CHECK(pd_body["errors"] ==
        json::array({"event manager " + m +
                     " is over its rate limit of 0.01 events/s"}));
}

TEST_CASE("rate limit: a manager's own limit is validated, stored across a "
          "restart and set by argusctl",
          "[integration][rate_limit]") {
  server_options opts;
  opts.remoting = true;
  server s{opts};
  auto rule = s.create_rule("class", 300, unique_name("rule"));
  auto rule_id = rule["id"].get<std::string>();
  auto id = unique_name("em");
  auto created =
      s.http().post("/v1/event-managers",
                    json{{"id", id},
                         {"name", "limited"},
                         {"grouping_rule_id", rule_id},
                         {"rate_limit", {{"events_per_second", 0.01}}}});
  INFO(created.text);
  REQUIRE(created.status == 201);
  // The burst in force is shown: the rate rounded up, at least 1.
  CHECK(created.data()["rate_limit"] ==
        json{{"events_per_second", 0.01}, {"burst", 1}});

  struct bad_case {
    json limit;
    std::string field;
  };
  for (auto& c :
       {bad_case{{{"events_per_second", -1}}, "'rate_limit.events_per_second'"},
        bad_case{{{"events_per_second", "fast"}},
                 "'rate_limit.events_per_second'"},
        bad_case{{{"burst", 5}}, "'rate_limit.events_per_second'"},
        bad_case{{{"events_per_second", 1}, {"burst", -1}},
                 "'rate_limit.burst'"},
        bad_case{{{"events_per_second", 1}, {"burst", 1.5}},
                 "'rate_limit.burst'"},
        bad_case{{{"events_per_second", 1}, {"brust", 2}},
                 "'rate_limit.brust'"},
        bad_case{json(5), "'rate_limit'"}}) {
    auto res =
        s.http().put("/v1/event-managers/" + id, json{{"rate_limit", c.limit}});
    INFO(c.limit.dump() << " -> " << res.text);
    CHECK(res.status == 400);
    CHECK(has(res.error_message(), c.field));
  }
  // A refused update changed nothing.
  CHECK(s.http().get("/v1/event-managers/" + id).data()["rate_limit"] ==
        created.data()["rate_limit"]);

  REQUIRE(s.restart() == 0);
  CHECK(s.http().get("/v1/event-managers/" + id).data()["rate_limit"] ==
        created.data()["rate_limit"]);
  // ...and enforced: one event per 100 s.
  CHECK(s.post_event(trigger_event(id, "r-1")).status == 202);
  auto refused = s.post_event(trigger_event(id, "r-2"));
  CHECK(refused.status == 429);
  CHECK(refused.error_code() == "RATE_LIMITED");

  // argusctl sets and clears it.
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--node", s.node_address()});
    auto r = run_argusctl(args);
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    REQUIRE_FALSE(r.timed_out);
    return r;
  };
  auto set =
      ctl({"managers", "update", id, "--rate-limit", "2.5", "--burst", "7"});
  CHECK(set.exit_code == 0);
  CHECK(has(set.out, "2.5 events/s, burst 7"));
  CHECK(s.http().get("/v1/event-managers/" + id).data()["rate_limit"] ==
        json{{"events_per_second", 2.5}, {"burst", 7}});
  auto bad = ctl({"managers", "update", id, "--rate-limit", "2e10"});
  CHECK(bad.exit_code != 0);
  CHECK(has(bad.err, "rate_limit.events_per_second"));
  CHECK(ctl({"managers", "update", id, "--rate-limit", "default"}).exit_code ==
        0);
  CHECK(s.http().get("/v1/event-managers/" + id).data()["rate_limit"] ==
        nullptr);
}
