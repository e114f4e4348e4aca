// A clustered node's journal lock (its fence) lives with a PostgreSQL
// session. When every session of a node is lost (the server restarted, or
// the node was cut off), the node must take the lock back at once, not at
// its next membership change; and a node that a peer fenced meanwhile (it
// took the node for dead and took its groups over) must stop rather than
// write on. Here the test ends the node's sessions itself, as a server
// restart would for every node. Tagged [postgres]: only the "pg/" set
// runs them.

#include "integration/cluster_harness.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>

#include <map>
#include <regex>
#include <string>

using namespace argus::test;

namespace {

/// The incarnation node `s` logged when it joined.
std::string incarnation_of(server& s) {
  std::smatch m;
  auto log = s.log();
  static const std::regex joined{R"(\(incarnation ([^)]+)\) joining)"};
  if (!std::regex_search(log, m, joined))
    FAIL("no incarnation in the log:\n" << log);
  return m[1];
}

/// What selects the sessions that hold `incarnation`'s locks: its fence's
/// and its writers'.
std::string sessions_of(const std::string& incarnation) {
  return "FROM pg_locks WHERE locktype = 'advisory' AND granted AND"
         " ((classid = 418581919"
         " AND objid::bigint = (hashtext('" +
         incarnation +
         "')::bigint & 4294967295)) OR (classid = 418581920 AND"
         " objid::bigint = (hashtext(current_schema() || ':' || '" +
         incarnation + "')::bigint & 4294967295)))";
}

bool fence_lock_held(const pg_schema& schema, const std::string& incarnation) {
  return schema.query_int("SELECT count(*) FROM pg_locks WHERE"
                          " locktype = 'advisory' AND granted AND"
                          " classid = 418581919 AND objid::bigint ="
                          " (hashtext('" +
                          incarnation + "')::bigint & 4294967295)") > 0;
}

/// Ends every session that holds one of `incarnation`'s locks, and waits
/// until they are gone (the node may connect again at once).
void drop_sessions(const pg_schema& schema, const std::string& incarnation) {
  schema.exec("CREATE TABLE dropped AS SELECT DISTINCT pid " +
              sessions_of(incarnation));
  REQUIRE(schema.query_int("SELECT count(*) FROM dropped") > 0);
  schema.exec("SELECT pg_terminate_backend(pid) FROM dropped");
  REQUIRE(eventually([&] {
    return schema.query_int("SELECT count(*) FROM pg_stat_activity WHERE"
                            " pid IN (SELECT pid FROM dropped)") == 0;
  }));
  schema.exec("DROP TABLE dropped");
}

/// Whether `s`'s process has exited (not reaped: `stop` reaps it).
bool exited(const server& s) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(s.pid()), &info,
                  WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == s.pid();
}

const std::map<std::string, std::string> both_up{{"n1", "up"}, {"n2", "up"}};

/// Waits until both nodes of `c` see each other up, then opens `groups`
/// groups through n1; answers their manager.
std::string open_groups(cluster& c, int groups) {
  for (size_t i = 0; i < 2; ++i)
    REQUIRE(
        eventually([&] { return c.sees(i, both_up); }, membership_deadline));
  auto manager = c[0].fresh_manager("class");
  for (int g = 0; g < groups; ++g)
    c[0].trigger(manager, unique_name("p"),
                 {{"class", "c" + std::to_string(g)}});
  REQUIRE(c[0].settle());
  return manager;
}

} // namespace

TEST_CASE("cluster fence: a node that lost its sessions takes its journal "
          "lock back at once",
          "[integration][postgres][cluster]") {
  cluster c{2};
  auto manager = open_groups(c, 10);
  auto n1 = incarnation_of(c[0]);
  REQUIRE(fence_lock_held(c.schema, n1));

  drop_sessions(c.schema, n1);
  // Taken again within a few seconds, with no event and no change of
  // membership to make the node reconnect.
  INFO("n1 log:\n" << c[0].log());
  REQUIRE(eventually([&] { return fence_lock_held(c.schema, n1); }));
  CHECK_THAT(c[0].log(),
             Catch::Contains("took this node's journal lock again"));
  // It goes on as before.
  c[0].trigger(manager, unique_name("p"), {{"class", "after"}});
  REQUIRE(c[0].settle());
  CHECK(c[0].running());
  CHECK(c.sees(1, both_up));
}

TEST_CASE("cluster fence: a paused node that a peer fenced stops when it "
          "resumes",
          "[integration][postgres][cluster]") {
  cluster c{2};
  constexpr int groups = 20;
  auto manager = open_groups(c, groups);
  REQUIRE(eventually([&] { return total(c.owned(1)) == groups; }));
  auto n1 = incarnation_of(c[0]);

  // n1 hangs, and its sessions end (a server restart would end them all;
  // here only n1's). n2 takes it for dead, finds none of its sessions
  // left, fences it and takes its groups over.
  REQUIRE(::kill(c[0].pid(), SIGSTOP) == 0);
  drop_sessions(c.schema, n1);
  std::map<std::string, std::string> n1_down{{"n1", "down"}, {"n2", "up"}};
  REQUIRE(eventually([&] { return c.sees(1, n1_down); }, membership_deadline));
  REQUIRE(eventually(
      [&] {
        return c.schema.query_int(
                   "SELECT count(*) FROM fenced_writers WHERE writer = '" + n1 +
                   "'") == 1;
      },
      membership_deadline));
  REQUIRE(eventually([&] { return c.owned(1)["n2"] == groups; }));

  // Resumed, n1 learns it was fenced and stops, writing nothing more.
  REQUIRE(::kill(c[0].pid(), SIGCONT) == 0);
  REQUIRE(eventually([&] { return exited(c[0]); }, membership_deadline));
  INFO("n1 log:\n" << c[0].log());
  CHECK(c[0].stop(SIGCONT) == 3);
  CHECK_THAT(c[0].log(), Catch::Contains("a peer fenced this node"));
  // n2 holds every group and takes new events for all of them.
  std::map<std::string, std::string> n1_gone{{"n1", "down"}, {"n2", "up"}};
  REQUIRE(eventually([&] { return c.sees(1, n1_gone); }, membership_deadline));
  for (int g = 0; g < groups; ++g)
    c[1].trigger(manager, unique_name("c"),
                 {{"class", "c" + std::to_string(g)}});
  REQUIRE(c[1].settle());
  CHECK(c[1].alerts("event_manager_id=" + manager +
                    "&type=parent&status=active&limit=1000")
            .size() == groups);
  CHECK(c[1].alerts("event_manager_id=" + manager +
                    "&type=child&status=active&limit=1000")
            .size() == groups);
}
