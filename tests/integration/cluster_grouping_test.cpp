// Grouping in a cluster of three real nodes sharing one PostgreSQL: events
// sent to any node group as one node groups them; a node killed with
// SIGKILL under load, or drained, loses no acknowledged event; a node that
// rejoins takes its share back. Tagged [postgres]: only the "pg/" set runs
// them.

#include "domain/cluster.hpp"
#include "integration/cluster_harness.hpp"

#include <catch2/catch.hpp>

#include <httplib.h>
#include <set>

#include <signal.h>

#include <atomic>
#include <future>
#include <mutex>
#include <random>
#include <thread>

using namespace argus::test;

namespace {

const std::map<std::string, std::string> all_three_up{
    {"n1", "up"}, {"n2", "up"}, {"n3", "up"}};

void require_all_up(cluster& c) {
  for (size_t i = 0; i < c.nodes.size(); ++i) {
    INFO("node n" << i + 1 << " log:\n" << c[i].log());
    REQUIRE(eventually([&] { return c.sees(i, all_three_up); },
                       membership_deadline));
  }
}

/// Waits until every running node applied what it accepted and stored it
/// (a read flushes a node's write-behind).
void settle_all(cluster& c) {
  for (auto& n : c.nodes)
    if (n->running()) {
      REQUIRE(n->settle());
      n->alerts("limit=1");
    }
}

/// What grouping decided about an alert, without ids and times.
json structure(const json& a) {
  return {{"type", a["type"]},
          {"status", a["status"]},
          {"parent", a.value("parent_dedupKey", json{})},
          {"child_count", a["child_count"]},
          {"resolve_requested", a["resolve_requested"]},
          {"event_count", a["event_count"]}};
}

/// A manager grouping by `class` with an hour's window, visible on every
/// node of `c`.
std::string shared_manager(cluster& c) {
  auto m = c[0].fresh_manager("class", 3600);
  for (size_t i = 1; i < c.nodes.size(); ++i)
    REQUIRE(eventually([&] {
      return c[i].http().get("/v1/event-managers/" + m).status == 200;
    }));
  return m;
}

json event(const std::string& manager, const std::string& action,
           const std::string& dedup, const std::string& cls) {
  json e{{"event_manager_id", manager},
         {"action", action},
         {"dedupKey", dedup},
         {"summary", action + " " + dedup},
         {"severity", "medium"}};
  if (!cls.empty())
    e["class"] = cls;
  return e;
}

// ---------------------------------------------------------------------------
// Load with a model of what each acknowledged batch must leave behind.

constexpr int classes_per_batch = 4;
constexpr int triggers_per_class = 5;

/// One batch of one load thread: fresh classes, each opened by its first
/// trigger, plus resolves for the thread's previous acknowledged batch: all
/// children of its class 0, and the parent of its class 1 (which keeps
/// active children, so it is only resolve_requested).
struct batch_record {
  std::string name;
  bool acked = false;
  /// No clear answer (connection cut, 503 with part accepted): anything.
  bool uncertain = false;
  /// The batch whose resolves target this one (empty: none).
  std::string resolved_by;
};

std::string key(const std::string& batch, int cls, int i) {
  return batch + "-" + std::to_string(cls) + "-" + std::to_string(i);
}

json make_batch(const std::string& manager, const std::string& name,
                const std::string& previous) {
  json events = json::array();
  for (int c = 0; c < classes_per_batch; ++c)
    for (int i = 0; i < triggers_per_class; ++i)
      events.push_back(event(manager, "trigger", key(name, c, i),
                             name + "c" + std::to_string(c)));
  if (!previous.empty()) {
    // Half the resolves carry their class, half do not (the node then finds
    // the group through the store).
    for (int i = 1; i < triggers_per_class; ++i)
      events.push_back(event(manager, "resolve", key(previous, 0, i),
                             i % 2 == 0 ? previous + "c0" : ""));
    events.push_back(
        event(manager, "resolve", key(previous, 1, 0), previous + "c1"));
  }
  return events;
}

struct load_log {
  std::mutex mtx;
  std::map<std::string, batch_record> batches;
};

/// Sends batches to `ports` (round robin, skipping a port that fails) until
/// `stop`; records every outcome.
void run_load(const std::string& manager, const std::string& thread_name,
              std::vector<uint16_t> ports, std::atomic<bool>& stop,
              load_log& log) {
  std::string previous; // the last acknowledged batch, not yet resolved
  size_t turn = 0;
  for (int b = 0; !stop; ++b) {
    auto name = thread_name + "b" + std::to_string(b);
    auto port = ports[turn++ % ports.size()];
    httplib::Client http{"127.0.0.1", port};
    http.set_connection_timeout(2);
    http.set_read_timeout(15);
    auto body = make_batch(manager, name, previous).dump();
    auto res = http.Post("/v1/events/batch", body, "application/json");
    batch_record rec;
    rec.name = name;
    if (res && res->status == 202 &&
        json::parse(res->body)["data"]["rejected"].empty())
      rec.acked = true;
    else if (!res || res->status == 503)
      rec.uncertain = true; // may be partly in: the resolves target nothing
    {
      std::lock_guard<std::mutex> guard{log.mtx};
      if (!previous.empty() && (rec.acked || rec.uncertain))
        log.batches[previous].resolved_by = name;
      log.batches[name] = rec;
    }
    if (rec.acked)
      previous = name;
    else if (rec.uncertain)
      previous.clear(); // its resolves may or may not have landed
    if (!rec.acked)
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

/// Checks the store against the model of every batch sent.
void check_model(server& srv, const std::string& m, load_log& log) {
  auto alerts = all_alerts(srv, m);
  size_t checked = 0;
  for (auto& [name, b] : log.batches) {
    if (!b.acked)
      continue;
    std::string outcome = "none";
    if (!b.resolved_by.empty()) {
      auto& r = log.batches[b.resolved_by];
      outcome = r.acked ? "acked" : "uncertain";
    }
    for (int c = 0; c < classes_per_batch; ++c)
      for (int i = 0; i < triggers_per_class; ++i) {
        auto k = key(name, c, i);
        INFO("key " << k << ", resolves: " << outcome);
        auto it = alerts.find(k);
        REQUIRE(it != alerts.end());
        auto& a = it->second;
        ++checked;
        if (i == 0) {
          CHECK(a["type"] == "parent");
          CHECK(a["child_count"] == triggers_per_class - 1);
        } else {
          CHECK(a["type"] == "child");
          CHECK(a["parent_dedupKey"] == key(name, c, 0));
        }
        if (outcome == "uncertain")
          continue;
        bool resolved = outcome == "acked";
        if (c == 0 && i > 0)
          CHECK(a["status"] == (resolved ? "resolved" : "active"));
        else if (c == 1 && i == 0) {
          CHECK(a["status"] == "active");
          CHECK(a["resolve_requested"] == resolved);
        } else
          CHECK(a["status"] == "active");
        bool targeted = (c == 0 && i > 0) || (c == 1 && i == 0);
        CHECK(a["event_count"] == (targeted && resolved ? 2 : 1));
      }
  }
  CHECK(checked > 0);
}

size_t count_acked(load_log& log) {
  std::lock_guard<std::mutex> guard{log.mtx};
  size_t n = 0;
  for (auto& [name, b] : log.batches)
    n += b.acked ? 1 : 0;
  return n;
}

/// Runs load threads, one per port list, while `during` runs.
void with_load(const std::string& manager,
               const std::vector<std::vector<uint16_t>>& targets, load_log& log,
               const std::string& tag, const std::function<void()>& during) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < targets.size(); ++t)
    threads.emplace_back([&, t] {
      run_load(manager, tag + "t" + std::to_string(t), targets[t], stop, log);
    });
  during();
  stop = true;
  for (auto& t : threads)
    t.join();
}

} // namespace

TEST_CASE("cluster: events sent to any node group as one node groups them",
          "[integration][postgres][cluster]") {
  cluster c{3};
  server single;
  require_all_up(c);
  auto cm = shared_manager(c);
  auto sm = single.fresh_manager("class", 3600);

  // A fixed script: triggers over 12 classes and 60 dedupKeys (repeats
  // included), and resolves of children and parents, all with their class.
  std::mt19937 rng{7};
  std::map<std::string, std::string> class_of;
  std::vector<std::pair<std::string, std::string>> script; // action, key
  for (int i = 0; i < 360; ++i) {
    auto k = "k" + std::to_string(rng() % 60);
    if (class_of.count(k) == 0)
      class_of[k] = "c" + std::to_string(rng() % 12);
    script.emplace_back(rng() % 3 == 0 ? "resolve" : "trigger", k);
  }
  auto send = [&](server& srv, const std::string& m, size_t i) {
    auto& [action, k] = script[i];
    auto res = srv.post_event(event(m, action, k, class_of[k]));
    INFO(res.text);
    REQUIRE(res.status == 202);
  };
  for (size_t i = 0; i < script.size(); ++i) {
    send(c[i % 3], cm, i);
    send(single, sm, i);
  }
  // Resolves without the grouping field, once the triggers are stored:
  // a node finds their group through the store.
  settle_all(c);
  std::vector<std::string> keys;
  for (auto& [k, cls] : class_of)
    keys.push_back(k);
  for (size_t i = 0; i < keys.size(); i += 4) {
    REQUIRE(c[i % 3].post_event(event(cm, "resolve", keys[i], "")).status ==
            202);
    REQUIRE(single.post_event(event(sm, "resolve", keys[i], "")).status == 202);
  }
  settle_all(c);
  REQUIRE(single.settle());

  auto clustered = all_alerts(c[0], cm);
  auto alone = all_alerts(single, sm);
  REQUIRE(clustered.size() == alone.size());
  size_t parents = 0;
  for (auto& [k, a] : alone) {
    INFO("dedupKey " << k);
    REQUIRE(clustered.count(k) == 1);
    CHECK(structure(clustered[k]) == structure(a));
    parents += a["type"] == "parent" ? 1 : 0;
  }
  CHECK(parents >= 12);
  // Every node serves the same answer from the shared store.
  CHECK(all_alerts(c[1], cm).size() == alone.size());
  // The notifications about parents were stored once each (by their
  // owners, in the shared outbox every node lists).
  std::map<std::string, size_t> sent_by_cluster;
  std::map<std::string, size_t> sent_alone;
  std::set<std::string> ids;
  for (auto& n : c[0].notifications_of(cm)) {
    ++sent_by_cluster[n["kind"].get<std::string>()];
    ids.insert(n["id"].get<std::string>());
  }
  CHECK(ids.size() == c[0].notifications_of(cm).size());
  CHECK(c[2].notifications_of(cm).size() == ids.size());
  for (auto& n : single.notifications_of(sm))
    ++sent_alone[n["kind"].get<std::string>()];
  CHECK(sent_by_cluster == sent_alone);
  CHECK(sent_alone["parent_opened"] >= parents); // reopened ones again
}

TEST_CASE("cluster: a node killed under load loses no acknowledged event, "
          "and takes its share back when it returns",
          "[integration][postgres][cluster]") {
  cluster c{3};
  require_all_up(c);
  auto m = shared_manager(c);
  auto p = [&](size_t i) { return c[i].port(); };
  load_log log;
  // Each thread prefers one node; the one on n3 moves on when n3 is gone.
  with_load(m, {{p(0)}, {p(1)}, {p(2), p(0)}, {p(2), p(1)}}, log, "kill", [&] {
    REQUIRE(eventually([&] { return count_acked(log) >= 8; }));
    c[2].kill9();
    std::map<std::string, std::string> n3_down{
        {"n1", "up"}, {"n2", "up"}, {"n3", "down"}};
    REQUIRE(
        eventually([&] { return c.sees(0, n3_down); }, membership_deadline));
    auto acked = count_acked(log);
    // The survivors took n3's groups over and accept events again.
    REQUIRE(eventually([&] { return count_acked(log) >= acked + 8; },
                       membership_deadline));
  });
  settle_all(c);
  {
    INFO("n1 log:\n" << c[0].log());
    check_model(c[0], m, log);
  }
  // Back again: it takes its share back, and the groups it gets were
  // rebuilt from the store (children join the parents opened meanwhile).
  auto before = c.owned(0);
  c[2].start();
  require_all_up(c);
  with_load(m, {{p(0)}, {p(1)}, {p(2)}}, log, "back", [&] {
    auto acked = count_acked(log);
    REQUIRE(eventually([&] { return count_acked(log) >= acked + 12; }));
  });
  settle_all(c);
  auto after = c.owned(0);
  CHECK(after["n3"] > 0);
  CHECK(total(after) >= total(before));
  INFO("n1 log:\n" << c[0].log() << "\nn3 log:\n" << c[2].log());
  check_model(c[0], m, log);
}

TEST_CASE("cluster: a drained node hands its groups over without losing "
          "anything",
          "[integration][postgres][cluster]") {
  cluster c{3};
  require_all_up(c);
  auto m = shared_manager(c);
  auto p = [&](size_t i) { return c[i].port(); };
  // Groups opened before the drain get children after it, on new owners.
  constexpr int groups = 30;
  for (int g = 0; g < groups; ++g)
    REQUIRE(c[g % 3]
                .post_event(event(m, "trigger", "early-" + std::to_string(g),
                                  "early" + std::to_string(g)))
                .status == 202);
  load_log log;
  with_load(m, {{p(0)}, {p(1), p(0)}, {p(2)}}, log, "drain", [&] {
    REQUIRE(eventually([&] { return count_acked(log) >= 8; }));
    auto r = run_argusctl({"--node", address_of(c.node_ports[1]), "drain"});
    INFO("stdout:\n" << r.out << "\nstderr:\n" << r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(eventually([&] { return c[1].http().get("/healthz").status == 0; },
                       membership_deadline));
    auto code = c[1].stop();
    INFO("n2 log:\n" << c[1].log());
    CHECK(code == 0);
    auto acked = count_acked(log);
    REQUIRE(eventually([&] { return count_acked(log) >= acked + 8; },
                       membership_deadline));
  });
  for (int g = 0; g < groups; ++g)
    REQUIRE(c[g % 2 == 0 ? 0 : 2]
                .post_event(event(m, "trigger", "late-" + std::to_string(g),
                                  "early" + std::to_string(g)))
                .status == 202);
  settle_all(c);
  INFO("n1 log:\n" << c[0].log() << "\nn2 log:\n" << c[1].log());
  check_model(c[0], m, log);
  auto alerts = all_alerts(c[0], m);
  for (int g = 0; g < groups; ++g) {
    auto late = alerts["late-" + std::to_string(g)];
    INFO("group " << g);
    CHECK(late["type"] == "child");
    CHECK(late["parent_dedupKey"] == "early-" + std::to_string(g));
  }
}

TEST_CASE("cluster: a hung node is not taken over while it might still "
          "write, and the groups of the others flow on",
          "[integration][postgres][cluster]") {
  cluster c{3};
  require_all_up(c);
  auto m = shared_manager(c);
  // A class n3 owns, and one n1 owns with or without n3.
  auto owner = [&](const std::vector<std::string>& live,
                   const std::string& cls) {
    return argus::domain::group_owner(live, m, true, cls);
  };
  std::string hung_class;
  std::string kept_class;
  for (int i = 0; hung_class.empty() || kept_class.empty(); ++i) {
    auto cls = "c" + std::to_string(i);
    if (owner({"n1", "n2", "n3"}, cls) == "n3")
      hung_class = cls;
    else if (owner({"n1", "n2", "n3"}, cls) == "n1" &&
             owner({"n1", "n2"}, cls) == "n1")
      kept_class = cls;
  }
  REQUIRE(c[0].post_event(event(m, "trigger", "hung-p", hung_class)).status ==
          202);
  REQUIRE(c[0].post_event(event(m, "trigger", "kept-p", kept_class)).status ==
          202);
  settle_all(c);

  REQUIRE(::kill(c[2].pid(), SIGSTOP) == 0);
  std::map<std::string, std::string> n3_down{
      {"n1", "up"}, {"n2", "up"}, {"n3", "down"}};
  REQUIRE(eventually([&] { return c.sees(0, n3_down); }, membership_deadline));
  // The group n1 keeps takes events at once.
  auto kept = c[0].post_event(event(m, "trigger", "kept-c", kept_class));
  INFO(kept.text);
  CHECK(kept.status == 202);
  // n3 still holds its journal lock: nobody takes its group over, so no
  // node applies an event to it behind n3's back. The event waits.
  auto hung = std::async(std::launch::async, [&] {
    return c[1].post_event(event(m, "trigger", "hung-c", hung_class)).status;
  });
  // Taken over, it would be applied within milliseconds; for a second it
  // must stay out of the store.
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    REQUIRE(c[0].http().get("/v1/alerts/hung-c?event_manager_id=" + m).status ==
            404);
  }
  REQUIRE(::kill(c[2].pid(), SIGCONT) == 0);
  // Resumed, n3 rejoins and the waiting event lands in its group.
  CHECK(hung.get() == 202);
  require_all_up(c);
  settle_all(c);
  auto alerts = all_alerts(c[0], m);
  INFO("n1 log:\n" << c[0].log() << "\nn3 log:\n" << c[2].log());
  CHECK(alerts["kept-c"]["parent_dedupKey"] == "kept-p");
  CHECK(alerts["hung-c"]["parent_dedupKey"] == "hung-p");
  CHECK(alerts["hung-p"]["child_count"] == 1);
  CHECK(alerts["kept-p"]["child_count"] == 1);
}
