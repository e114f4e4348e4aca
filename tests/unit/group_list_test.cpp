// The console's list of open groups (GET /v1/groups): children counted per
// parent, the window left, the state an operator sees, filters and pages.
// Pure functions with explicit times.

#include "domain/error.hpp"
#include "domain/group_list.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::domain::alert;
using argus::domain::from_millis;
using argus::domain::group_query;
using argus::domain::select_groups;
using argus::domain::severity;
using argus::domain::time_point;

const time_point t0 = from_millis(1'700'000'000'000);

alert parent(std::string dedup, std::string value,
             severity sev = severity::high, std::string manager = "payments") {
  alert a;
  a.dedup_key = std::move(dedup);
  a.event_manager_id = std::move(manager);
  a.summary = "summary of " + a.dedup_key;
  a.sev = sev;
  a.has_grouping_value = true;
  a.grouping_value = std::move(value);
  a.window_ends_at = t0 + 5min;
  return a;
}

argus::domain::silence_check silenced_if(std::string dedup) {
  return [dedup](const alert& a) {
    return a.dedup_key == dedup ? std::vector<std::string>{"s1"}
                                : std::vector<std::string>{};
  };
}

const auto none = silenced_if("");

std::vector<std::string> keys_of(const argus::domain::group_page& page) {
  std::vector<std::string> out;
  for (auto& r : page.rows)
    out.push_back(r.parent.dedup_key.str());
  return out;
}

} // namespace

TEST_CASE("groups show the window left and leave children to be counted",
          "[unit][groups]") {
  auto db = parent("db-1", "database");
  db.child_count = 3;
  auto web = parent("web-1", "web");
  web.window_ends_at = t0 - 1s; // closed
  auto lone = parent("x-1", "");
  lone.has_grouping_value = false;
  auto page = select_groups({db, web, lone}, none, {}, t0);
  REQUIRE(page.total == 3);
  REQUIRE(keys_of(page) == std::vector<std::string>{"db-1", "web-1", "x-1"});
  // The store counts active children for the page's rows alone.
  CHECK(page.rows[0].active_children == 0);
  CHECK(page.rows[0].parent.child_count == 3);
  CHECK(page.rows[0].window_left == 5min);
  CHECK(page.rows[1].window_left == 0s);
  CHECK(page.rows[2].window_left == 0s); // no value: never groups
}

TEST_CASE("a group's state: resolve requested, acknowledged, silenced, active",
          "[unit][groups]") {
  auto a = parent("a", "v");
  CHECK(argus::domain::group_state(a, false) == "active");
  CHECK(argus::domain::group_state(a, true) == "silenced");
  a.acknowledged = true;
  CHECK(argus::domain::group_state(a, true) == "acknowledged");
  a.resolve_requested = true;
  CHECK(argus::domain::group_state(a, true) == "resolve_requested");
  auto page = select_groups({parent("b", "v")}, silenced_if("b"), {}, t0);
  REQUIRE(page.rows.size() == 1);
  CHECK(page.rows[0].state == "silenced");
  CHECK(page.rows[0].silenced_by == std::vector<std::string>{"s1"});
}

TEST_CASE("groups filter by manager, state, severity and text",
          "[unit][groups]") {
  auto db = parent("db-1", "database", severity::high);
  db.summary = "Primary DOWN";
  auto web = parent("web-1", "web", severity::low, "shop");
  auto acked = parent("q-1", "queue", severity::medium);
  acked.acknowledged = true;
  auto resolved = parent("old-1", "database");
  resolved.status = argus::domain::alert_status::resolved;
  std::vector<alert> parents{db, web, acked, resolved};
  auto keys = [&](group_query q) {
    return keys_of(select_groups(parents, silenced_if("web-1"), q, t0));
  };
  using v = std::vector<std::string>;
  CHECK(keys({}) == v{"db-1", "web-1", "q-1"}); // resolved ones are not open
  group_query q;
  q.event_manager_id = "shop";
  CHECK(keys(q) == v{"web-1"});
  q = {};
  q.state = "acknowledged";
  CHECK(keys(q) == v{"q-1"});
  q.state = "silenced";
  CHECK(keys(q) == v{"web-1"});
  q.state = "active";
  CHECK(keys(q) == v{"db-1"});
  q = {};
  q.severity = "medium";
  CHECK(keys(q) == v{"q-1"});
  q = {};
  q.text = "primary down"; // case-insensitive, in the summary
  CHECK(keys(q) == v{"db-1"});
  q.text = "QUEUE"; // the grouping value
  CHECK(keys(q) == v{"q-1"});
  q.text = "shop"; // the manager
  CHECK(keys(q) == v{"web-1"});
}

TEST_CASE("groups are paged after filtering, with the total",
          "[unit][groups]") {
  std::vector<alert> parents;
  for (int i = 0; i < 10; ++i)
    parents.push_back(parent("p" + std::to_string(i), "v" + std::to_string(i),
                             i % 2 == 0 ? severity::high : severity::low));
  group_query q;
  q.severity = "high";
  q.limit = 2;
  q.offset = 1;
  auto page = select_groups(parents, none, q, t0);
  CHECK(page.total == 5);
  CHECK(keys_of(page) == std::vector<std::string>{"p2", "p4"});
  q.offset = 4;
  CHECK(keys_of(select_groups(parents, none, q, t0)) ==
        std::vector<std::string>{"p8"});
}

TEST_CASE("a group query names the parameter at fault", "[unit][groups]") {
  auto name = [](const std::string& f) {
    return "query parameter '" + f + "'";
  };
  auto message = [&](group_query q) {
    auto err = argus::domain::check_group_query(q, name);
    return err ? argus::message_of(err) : std::string{};
  };
  CHECK(message({}).empty());
  group_query q;
  q.state = "open";
  CHECK(message(q).find("query parameter 'state'") == 0);
  q = {};
  q.severity = "critical";
  CHECK(message(q).find("query parameter 'severity'") == 0);
  q = {};
  q.limit = 0;
  CHECK(message(q).find("query parameter 'limit'") == 0);
  q.limit = argus::domain::max_group_page + 1;
  CHECK(message(q).find("query parameter 'limit'") == 0);
  q = {};
  q.offset = -1;
  CHECK(message(q).find("query parameter 'offset'") == 0);
}
