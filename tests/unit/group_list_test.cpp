// The console's list of open groups (GET /v1/groups): which groups a query
// selects, the state an operator sees, the window left, and the merge of
// several managers' pages. Pure functions with explicit times; the paging of
// a selection is the store's (`list_where`, tests/unit/storage_test.cpp).

#include "domain/error.hpp"
#include "domain/group_list.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::domain::alert;
using argus::domain::from_millis;
using argus::domain::group_filter;
using argus::domain::group_query;
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

/// A silence test that matches `dedup` and counts how often it is asked.
argus::domain::silence_test silenced_if(std::string dedup, int* asked) {
  return [dedup, asked](const alert& a) {
    ++*asked;
    return a.dedup_key == dedup;
  };
}

} // namespace

TEST_CASE("a group's row shows its window left and leaves children to count",
          "[unit][groups]") {
  auto db = parent("db-1", "database");
  db.child_count = 3;
  auto row = argus::domain::group_row_of(db, {}, t0);
  CHECK(row.parent.dedup_key == "db-1");
  CHECK(row.active_children == 0); // the store counts them for the page
  CHECK(row.parent.child_count == 3);
  CHECK(row.window_left == 5min);
  CHECK(row.state == "active");
  auto web = parent("web-1", "web");
  web.window_ends_at = t0 - 1s; // closed
  CHECK(argus::domain::group_row_of(web, {}, t0).window_left == 0s);
  auto lone = parent("x-1", "");
  lone.has_grouping_value = false; // no value: never groups
  CHECK(argus::domain::group_row_of(lone, {}, t0).window_left == 0s);
}

TEST_CASE("a group's state: resolve requested, acknowledged, silenced, active",
          "[unit][groups]") {
  auto a = parent("a", "v");
  CHECK(argus::domain::shown_state(a, false) == "active");
  CHECK(argus::domain::shown_state(a, true) == "silenced");
  a.acknowledged = true;
  CHECK(argus::domain::shown_state(a, true) == "acknowledged");
  a.resolve_requested = true;
  CHECK(argus::domain::shown_state(a, true) == "resolve_requested");
  auto row = argus::domain::group_row_of(parent("b", "v"), {"s1"}, t0);
  CHECK(row.state == "silenced");
  CHECK(row.silenced_by == std::vector<std::string>{"s1"});
}

TEST_CASE("groups filter by manager, state, severity and text",
          "[unit][groups]") {
  auto db = parent("db-1", "database", severity::high);
  db.summary = "Primary DOWN";
  auto web = parent("web-1", "web", severity::low, "shop");
  auto acked = parent("q-1", "queue", severity::medium);
  acked.acknowledged = true;
  auto waiting = parent("w-1", "queue", severity::medium);
  waiting.resolve_requested = true;
  auto resolved = parent("old-1", "database");
  resolved.status = argus::domain::alert_status::resolved;
  auto child = parent("c-1", "database");
  child.type = argus::domain::alert_type::child;
  std::vector<alert> all{db, web, acked, waiting, resolved, child};
  int asked = 0;
  auto keys = [&](group_query q) {
    group_filter selects{q, silenced_if("web-1", &asked)};
    std::vector<std::string> out;
    for (auto& a : all)
      if (selects(a))
        out.push_back(a.dedup_key.str());
    return out;
  };
  using v = std::vector<std::string>;
  // Resolved groups are not open, and children are not groups.
  CHECK(keys({}) == v{"db-1", "web-1", "q-1", "w-1"});
  group_query q;
  q.event_manager_id = "shop";
  CHECK(keys(q) == v{"web-1"});
  CHECK(asked == 0); // without a state to filter by, no silence is read
  q = {};
  q.state = "acknowledged";
  CHECK(keys(q) == v{"q-1"});
  q.state = "resolve_requested";
  CHECK(keys(q) == v{"w-1"});
  // Only groups whose state the silences decide are checked against them.
  asked = 0;
  q.state = "silenced";
  CHECK(keys(q) == v{"web-1"});
  CHECK(asked == 2); // db-1 and web-1
  q.state = "active";
  CHECK(keys(q) == v{"db-1"});
  q = {};
  q.severity = "medium";
  CHECK(keys(q) == v{"q-1", "w-1"});
  q = {};
  q.text = "primary down"; // case-insensitive, in the summary
  CHECK(keys(q) == v{"db-1"});
  q.text = "QUEUE"; // the grouping value
  CHECK(keys(q) == v{"q-1", "w-1"});
  q.text = "shop"; // the manager
  CHECK(keys(q) == v{"web-1"});
  q.text = "DB-"; // the dedupKey
  CHECK(keys(q) == v{"db-1"});
}

TEST_CASE("a group query narrows the open groups only by state, severity or "
          "text",
          "[unit][groups]") {
  auto narrows = [](group_query q) {
    return group_filter{q, [](const alert&) { return false; }}.narrows();
  };
  group_query q;
  CHECK_FALSE(narrows(q));
  q.event_manager_id = "shop"; // the store's filter already
  q.limit = 10;
  q.offset = 20;
  CHECK_FALSE(narrows(q));
  for (auto set :
       {&group_query::state, &group_query::severity, &group_query::text}) {
    auto one = q;
    one.*set = set == &group_query::severity ? "low" : "active";
    CHECK(narrows(one));
  }
}

TEST_CASE("several managers' first pages merge into the page asked for",
          "[unit][groups]") {
  // Each manager's listing sends its first offset + limit alerts, newest
  // first; the union's page is cut from them in the same order.
  std::vector<alert> merged;
  for (auto [manager, dedup, second] : {std::tuple{"a", "a1", 9},
                                        {"a", "a2", 7},
                                        {"a", "a3", 5},
                                        {"b", "b1", 8},
                                        {"b", "b2", 7},
                                        {"b", "b3", 1}}) {
    auto a = parent(dedup, "v", severity::high, manager);
    a.created_at = t0 + std::chrono::seconds{second};
    merged.push_back(a);
  }
  auto same_time = parent("a2", "v", severity::high, "c"); // ties: manager
  same_time.created_at = t0 + 7s;
  merged.push_back(same_time);
  std::reverse(merged.begin(), merged.end());
  auto page = merged;
  argus::domain::cut_page(page, 1, 3);
  std::vector<std::string> got;
  for (auto& a : page)
    got.push_back(a.event_manager_id.str() + "/" + a.dedup_key.str());
  CHECK(got == std::vector<std::string>{"b/b1", "a/a2", "c/a2"});
  page = merged;
  argus::domain::cut_page(page, 6, 3);
  REQUIRE(page.size() == 1);
  CHECK(page[0].dedup_key == "b3");
  page = merged;
  argus::domain::cut_page(page, 9, 3);
  CHECK(page.empty());
  page = merged;
  argus::domain::cut_page(page, 2, 0);
  CHECK(page.empty());
  page = merged;
  argus::domain::cut_page(page, 5, -1); // no limit: the rest
  REQUIRE(page.size() == 2);
  CHECK(page[0].dedup_key == "a3");
  CHECK(page[1].dedup_key == "b3");
}

TEST_CASE("on_page tells the indexes of a selection a page shows",
          "[unit][groups]") {
  using argus::domain::on_page;
  std::vector<int64_t> shown;
  for (int64_t i = 0; i < 10; ++i)
    if (on_page(i, 3, 4))
      shown.push_back(i);
  CHECK(shown == std::vector<int64_t>{3, 4, 5, 6});
  CHECK_FALSE(on_page(0, 0, 0));  // an empty page shows nothing
  CHECK(on_page(1000000, 2, -1)); // no limit: all from the offset on
  CHECK_FALSE(on_page(1, 2, -1));
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
