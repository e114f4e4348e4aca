// Authentication and authorization (issue 14) against the real server with
// auth.mode: required on loopback: every endpoint with no key, a wrong, an
// expired and a revoked key; what each role may do; a key of another
// manager; the Alertmanager and PagerDuty error shapes; keys over restarts
// and through argusctl; the audit log; the failure counters.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <httplib.h>

#include <algorithm>
#include <set>

namespace {

using namespace argus::test;

/// An HTTP client of one server that sends `Authorization: Bearer <key>`
/// (none when the key is empty).
class keyed {
public:
  keyed(uint16_t port, const std::string& key) : cli_("127.0.0.1", port) {
    cli_.set_connection_timeout(5, 0);
    cli_.set_read_timeout(15, 0);
    if (!key.empty())
      cli_.set_default_headers({{"Authorization", "Bearer " + key}});
  }

  response get(const std::string& path) { return of(cli_.Get(path.c_str())); }
  response post(const std::string& path, const json& body) {
    return of(cli_.Post(path.c_str(), body.dump(), "application/json"));
  }
  response put(const std::string& path, const json& body) {
    return of(cli_.Put(path.c_str(), body.dump(), "application/json"));
  }
  response del(const std::string& path) {
    return of(cli_.Delete(path.c_str()));
  }

private:
  static response of(const httplib::Result& r) {
    response out;
    if (!r)
      return out;
    out.status = r->status;
    out.text = r->body;
    out.body = json::parse(r->body, nullptr, false);
    return out;
  }

  httplib::Client cli_;
};

/// The bootstrap admin key every test server starts with.
const std::string admin_key = "argus_bootstrap_" + std::string(48, 'K');

/// A server with auth required, the bootstrap key in a file, and a client
/// sending the admin key (the harness's helpers send none).
struct auth_server {
  temp_dir keys_dir;
  std::unique_ptr<server> srv;
  std::unique_ptr<keyed> admin;

  explicit auth_server(bool remoting = false,
                       const std::string& extra_auth = "") {
    auto file = keys_dir.path() / "bootstrap.key";
    write_file(file, admin_key + "\n");
    server_options opts;
    opts.remoting = remoting;
    opts.extra_yaml =
        "auth:\n  mode: required\n  bootstrap_key_file: " + file.string() +
        "\n" + extra_auth;
    srv = std::make_unique<server>(opts); // started, /healthz is open
    admin = std::make_unique<keyed>(srv->port(), admin_key);
  }

  /// A new key made through the API; returns its text.
  std::string make_key(const json& request) {
    auto r = admin->post("/v1/keys", request);
    REQUIRE(r.status == 201);
    REQUIRE(r.data()["key"].is_string());
    return r.data()["key"].get<std::string>();
  }

  /// A client of the server sending `key` (none when empty).
  std::unique_ptr<keyed> as(const std::string& key) {
    return std::make_unique<keyed>(srv->port(), key);
  }

  /// A fresh manager with a fresh rule grouping by `class`; its id.
  std::string fresh_manager() {
    auto rule = admin->post("/v1/grouping-rules", {{"name", "rule"},
                                                   {"grouping_key", "class"},
                                                   {"time_window_minutes", 5}});
    REQUIRE(rule.status == 201);
    auto id = unique_name("m");
    auto m = admin->post(
        "/v1/event-managers",
        {{"id", id}, {"name", id}, {"grouping_rule_id", rule.data()["id"]}});
    REQUIRE(m.status == 201);
    return id;
  }

  void trigger(const std::string& manager, const std::string& dedup) {
    REQUIRE(admin->post("/v1/events", trigger_event(manager, dedup)).status ==
            202);
  }

  /// Polls until the alert (`manager`, `dedup`) is stored; whether it was.
  bool await_alert(const std::string& manager, const std::string& dedup) {
    return eventually([&] {
      auto r = admin->get("/v1/alerts/" + url_encode(dedup) +
                          "?event_manager_id=" + manager);
      return r.status == 200;
    });
  }

  /// Whether the alert exists now.
  bool has_alert(const std::string& manager, const std::string& dedup) {
    return admin
               ->get("/v1/alerts/" + url_encode(dedup) +
                     "?event_manager_id=" + manager)
               .status == 200;
  }
};

/// The key id of a key text (`argus_<id>_<secret>`).
std::string id_of(const std::string& key) {
  auto start = key.find('_') + 1;
  return key.substr(start, key.find('_', start) - start);
}

/// The value of one series in a /metrics text; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos)
    return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

struct endpoint {
  std::string method;
  std::string path;
  json body = nullptr;
};

response call(keyed& c, const endpoint& e) {
  if (e.method == "GET")
    return c.get(e.path);
  if (e.method == "POST")
    return c.post(e.path, e.body);
  if (e.method == "PUT")
    return c.put(e.path, e.body);
  return c.del(e.path);
}

/// Every keyed route of the API (ids need not exist: the key is checked
/// first).
std::vector<endpoint> endpoints(const std::string& m) {
  return {{"GET", "/v1/alerts"},
          {"GET", "/v1/alerts/x"},
          {"GET", "/v1/alerts/x/children"},
          {"POST", "/v1/alerts/x/acknowledge", json::object()},
          {"POST", "/v1/events", trigger_event(m, "d1")},
          {"POST", "/v1/events/batch", json::array({trigger_event(m, "d2")})},
          {"GET", "/v1/grouping-rules"},
          {"POST", "/v1/grouping-rules", json::object()},
          {"GET", "/v1/grouping-rules/r"},
          {"PUT", "/v1/grouping-rules/r", json::object()},
          {"DELETE", "/v1/grouping-rules/r"},
          {"GET", "/v1/event-managers"},
          {"GET", "/v1/event-managers/" + m},
          {"POST", "/v1/event-managers", json::object()},
          {"PUT", "/v1/event-managers/" + m, json::object()},
          {"DELETE", "/v1/event-managers/" + m},
          {"POST", "/v1/event-managers/" + m + "/routing-key", json::object()},
          {"GET", "/v1/notifications"},
          {"POST", "/v1/notifications/n/retry", json::object()},
          {"GET", "/v1/silences"},
          {"POST", "/v1/silences", json::object()},
          {"GET", "/v1/silences/s"},
          {"DELETE", "/v1/silences/s"},
          {"GET", "/v1/keys"},
          {"POST", "/v1/keys", json{{"role", "admin"}}},
          {"DELETE", "/v1/keys/k"},
          {"GET", "/v1/audit"},
          {"GET", "/am/" + m + "/api/v2/alerts"},
          {"POST", "/am/" + m + "/api/v2/alerts", json::array()},
          {"GET", "/am/" + m + "/api/v2/status"},
          {"GET", "/am/" + m + "/api/v2/silences"},
          {"POST", "/am/" + m + "/api/v2/silences", json::object()},
          {"DELETE", "/am/" + m + "/api/v2/silence/s"}};
}

/// A 401 in the shape of the API `path` belongs to.
void check_unauthorized(const endpoint& e, const response& r) {
  INFO(e.method << " " << e.path << " -> " << r.status << " " << r.text);
  CHECK(r.status == 401);
  if (e.path.rfind("/am/", 0) == 0) {
    CHECK(r.body.is_string()); // Alertmanager: the message as a JSON string
  } else {
    CHECK(r.is_error_envelope());
    CHECK(r.error_code() == "UNAUTHORIZED");
  }
}

} // namespace

TEST_CASE("auth: every endpoint refuses no key, a wrong, an expired and a "
          "revoked key",
          "[integration][auth]") {
  auth_server a;
  auto m = a.fresh_manager();
  auto expiring = a.make_key({{"role", "admin"}, {"expires_in", 1}});
  auto revoked = a.make_key({{"role", "admin"}});
  REQUIRE(a.admin->del("/v1/keys/" + id_of(revoked)).status == 200);
  auto wrong = admin_key;
  wrong.back() = 'L';
  // Past the expiry (whole seconds, as the API takes them).
  REQUIRE(eventually(
      [&] { return a.as(expiring)->get("/v1/alerts").status == 401; }, 5s));
  for (auto key : {std::string{}, std::string{"garbage"}, wrong, expiring,
                   revoked, "argus_nosuchid_" + std::string(40, 'x')}) {
    auto c = a.as(key);
    for (auto& e : endpoints(m))
      check_unauthorized(e, call(*c, e));
  }
  // The expired and the revoked key say why.
  CHECK_THAT(a.as(expiring)->get("/v1/alerts").error_message(),
             Catch::Contains("expired"));
  CHECK_THAT(a.as(revoked)->get("/v1/alerts").error_message(),
             Catch::Contains("revoked"));
  auto r = a.as("")->get("/v1/alerts");
  CHECK(r.status == 401);
  // /healthz stays open; /metrics is open by default.
  CHECK(a.as("")->get("/healthz").status == 200);
  CHECK(a.as("")->get("/metrics").status == 200);
  // PagerDuty's shape, for a missing and an unknown routing key.
  for (auto key : {std::string{}, wrong}) {
    auto pd = a.as("")->post(
        "/v2/enqueue",
        {{"routing_key", key},
         {"event_action", "trigger"},
         {"payload",
          {{"summary", "s"}, {"source", "h"}, {"severity", "critical"}}}});
    INFO(pd.text);
    CHECK(pd.status == 401);
    CHECK(pd.body["status"] == "unauthorized");
    CHECK(pd.body["message"].is_string());
    CHECK(pd.body["errors"].is_array());
  }
  // Failures are counted by reason, and no key text is logged.
  auto metrics = a.as("")->get("/metrics").text;
  for (auto reason : {"missing", "malformed", "unknown", "expired", "revoked"})
    CHECK(sample(metrics, std::string{"argus_auth_failures_total{reason=\""} +
                              reason + "\"}") > 0);
  CHECK_THAT(a.srv->log(), !Catch::Contains(std::string(48, 'K')));
  CHECK_THAT(a.srv->log(), !Catch::Contains(std::string(40, 'x')));
}

TEST_CASE("auth: roles decide, and a key of one manager never sees another's",
          "[integration][auth]") {
  auth_server a;
  auto ma = a.fresh_manager();
  auto mb = a.fresh_manager();
  a.trigger(ma, "a1");
  a.trigger(mb, "b1");
  REQUIRE(a.await_alert(ma, "a1"));
  REQUIRE(a.await_alert(mb, "b1"));
  auto reader = a.as(a.make_key({{"role", "reader"}}));
  auto reader_a = a.as(a.make_key({{"role", "reader"}, {"managers", {ma}}}));
  auto ingest_a = a.make_key({{"role", "ingest"}, {"manager", ma}});
  auto ingest = a.as(ingest_a);

  SECTION("a reader reads everything and changes nothing") {
    CHECK(reader->get("/v1/alerts").data().size() >= 2);
    auto r = reader->post(
        "/v1/grouping-rules",
        {{"name", "x"}, {"grouping_key", "class"}, {"time_window_minutes", 5}});
    CHECK(r.status == 403);
    CHECK(r.error_code() == "FORBIDDEN");
    CHECK(reader->post("/v1/events", trigger_event(ma, "r1")).status == 403);
    CHECK(reader->post("/v1/alerts/a1/acknowledge", json::object()).status ==
          403);
    CHECK(reader->get("/v1/keys").status == 403);
    CHECK(reader->get("/v1/audit").status == 403);
    auto am = reader->post("/am/" + ma + "/api/v2/silences", json::object());
    CHECK(am.status == 403);
    CHECK(am.body.is_string());
  }
  SECTION("a scoped reader sees its manager only") {
    auto listed = reader_a->get("/v1/alerts").data();
    CHECK(dedup_keys_of(listed) == std::vector<std::string>{"a1"});
    CHECK(reader_a->get("/v1/alerts?event_manager_id=" + mb).data().empty());
    CHECK(reader_a->get("/v1/alerts/a1").status == 200);
    // Another manager's alert is not there for it.
    CHECK(reader_a->get("/v1/alerts/b1").status == 404);
    auto managers = reader_a->get("/v1/event-managers").data();
    REQUIRE(managers.size() == 1);
    CHECK(managers[0]["id"] == ma);
    CHECK(reader_a->get("/v1/event-managers/" + ma).status == 200);
    CHECK(reader_a->get("/v1/event-managers/" + mb).status == 403);
    CHECK(reader_a->get("/am/" + ma + "/api/v2/alerts").status == 200);
    auto am = reader_a->get("/am/" + mb + "/api/v2/alerts");
    CHECK(am.status == 403);
    CHECK(am.body.is_string());
  }
  SECTION("an ingest key sends for its manager only and reads nothing") {
    CHECK(ingest->post("/v1/events", trigger_event(ma, "i1")).status == 202);
    auto r = ingest->post("/v1/events", trigger_event(mb, "i2"));
    CHECK(r.status == 403);
    CHECK(r.error_code() == "FORBIDDEN");
    auto batch = ingest->post(
        "/v1/events/batch",
        json::array({trigger_event(ma, "i3"), trigger_event(mb, "i4")}));
    REQUIRE(batch.status == 202);
    CHECK(batch.data()["accepted"] == 1);
    REQUIRE(batch.data()["rejected"].size() == 1);
    CHECK(batch.data()["rejected"][0]["error"]["code"] == "FORBIDDEN");
    CHECK(ingest->get("/v1/alerts").status == 403);
    // Alertmanager: Prometheus's bearer token.
    json am_alert = json::array({{{"labels", {{"alertname", "Up"}}}}});
    CHECK(ingest->post("/am/" + ma + "/api/v2/alerts", am_alert).status == 200);
    auto am = ingest->post("/am/" + mb + "/api/v2/alerts", am_alert);
    CHECK(am.status == 403);
    CHECK(am.body.is_string());
    REQUIRE(a.await_alert(ma, "i1"));
    REQUIRE(a.await_alert(ma, "i3"));
    CHECK_FALSE(a.has_alert(mb, "i2"));
    CHECK_FALSE(a.has_alert(mb, "i4"));
  }
  SECTION("PagerDuty: the routing_key is the ingest key") {
    json pd{{"routing_key", ingest_a},
            {"event_action", "trigger"},
            {"dedup_key", "pd1"},
            {"payload",
             {{"summary", "s"}, {"source", "h"}, {"severity", "critical"}}}};
    auto r = a.as("")->post("/v2/enqueue", pd);
    INFO(r.text);
    CHECK(r.status == 202);
    REQUIRE(a.await_alert(ma, "pd1"));
    // A key of two managers cannot pick one: 403 in PagerDuty's shape.
    auto both = a.make_key({{"role", "ingest"}, {"managers", {ma, mb}}});
    pd["routing_key"] = both;
    r = a.as("")->post("/v2/enqueue", pd);
    CHECK(r.status == 403);
    CHECK(r.body["status"] == "forbidden");
    // With a bearer key, the routing key picks the manager as before.
    auto manager_b = a.admin->get("/v1/event-managers/" + mb).data();
    pd["routing_key"] = manager_b["routing_key"];
    pd["dedup_key"] = "pd2";
    CHECK(ingest->post("/v2/enqueue", pd).status == 403);
    CHECK(a.as(both)->post("/v2/enqueue", pd).status == 202);
    REQUIRE(a.await_alert(mb, "pd2"));
  }
}

TEST_CASE(
    "auth: keys survive a restart, and changes are audited with their key",
    "[integration][auth]") {
  auth_server a;
  auto m = a.fresh_manager();
  auto reader = a.make_key({{"role", "reader"}});
  auto created = a.admin->get("/v1/keys").data();
  // Listings show prefixes, never a key.
  for (auto& k : created) {
    CHECK(k["prefix"].get<std::string>().size() < 30);
    CHECK_FALSE(k.contains("key"));
  }
  CHECK_THAT(a.admin->get("/v1/keys").text,
             !Catch::Contains(reader.substr(30)));
  a.trigger(m, "d1");
  REQUIRE(a.await_alert(m, "d1"));
  REQUIRE(a.admin->post("/v1/alerts/d1/acknowledge", json::object()).status ==
          202);
  REQUIRE(a.srv->restart() == 0);
  CHECK(a.as(reader)->get("/v1/alerts").status == 200);
  REQUIRE(a.admin->del("/v1/keys/" + id_of(reader)).status == 200);
  REQUIRE(a.srv->restart() == 0);
  CHECK(a.as(reader)->get("/v1/alerts").status == 401);
  // The bootstrap key stays (it is stored once, not replaced).
  CHECK(a.admin->get("/v1/alerts").status == 200);

  auto audit = a.admin->get("/v1/audit?limit=100").data();
  std::set<std::string> seen;
  for (auto& e : audit) {
    CHECK(e["actor"] == "bootstrap");
    seen.insert(e["action"].get<std::string>() + " " +
                e["kind"].get<std::string>());
  }
  CHECK(seen.count("create rule") == 1);
  CHECK(seen.count("create manager") == 1);
  CHECK(seen.count("create key") == 1);
  CHECK(seen.count("revoke key") == 1);
  CHECK(seen.count("acknowledge alert") == 1);
  auto ack = std::find_if(audit.begin(), audit.end(), [](const json& e) {
    return e["action"] == "acknowledge";
  });
  REQUIRE(ack != audit.end());
  CHECK((*ack)["object_id"] == "d1");
  CHECK((*ack)["event_manager_id"] == m);
  CHECK(a.admin->get("/v1/audit?limit=1").data().size() == 1);
  CHECK(a.admin->get("/v1/audit?limit=0").status == 400);
}

TEST_CASE("auth: argusctl creates, lists and revokes keys, and audit shows it",
          "[integration][auth]") {
  auth_server a{true};
  auto m = a.fresh_manager();
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--node", a.srv->node_address()});
    auto r = run_argusctl(args);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  };
  auto made = ctl({"--json", "keys", "create", "--role", "ingest", "--manager",
                   m, "--expires", "1d"})
                  .json_out();
  auto key = made["key"].get<std::string>();
  CHECK(made["role"] == "ingest");
  CHECK(made["managers"] == json::array({m}));
  CHECK(made["state"] == "active");
  CHECK_FALSE(made["expires_at"].is_null());
  CHECK(a.as(key)->post("/v1/events", trigger_event(m, "c1")).status == 202);
  auto listed = ctl({"keys", "list"}).out;
  CHECK_THAT(listed, Catch::Contains(made["prefix"].get<std::string>()));
  CHECK_THAT(listed, !Catch::Contains(key));
  ctl({"keys", "revoke", made["id"].get<std::string>()});
  CHECK(a.as(key)->post("/v1/events", trigger_event(m, "c2")).status == 401);
  auto audit = ctl({"--json", "audit", "--limit", "10"}).json_out();
  REQUIRE(audit.is_array());
  std::set<std::string> by_ctl;
  for (auto& e : audit)
    if (e["actor"] == "argusctl")
      by_ctl.insert(e["action"].get<std::string>() + " " +
                    e["kind"].get<std::string>());
  CHECK(by_ctl == std::set<std::string>{"create key", "revoke key"});
  auto bad = run_argusctl(
      {"--node", a.srv->node_address(), "keys", "create", "--role", "ingest"});
  CHECK(bad.exit_code != 0);
}

TEST_CASE("auth: a keyed /metrics needs a key that reads every manager",
          "[integration][auth]") {
  auth_server a{false, "  metrics: required\n"};
  auto m = a.fresh_manager();
  CHECK(a.as("")->get("/metrics").status == 401);
  CHECK(a.as(a.make_key({{"role", "reader"}}))->get("/metrics").status == 200);
  CHECK(a.as(a.make_key({{"role", "reader"}, {"manager", m}}))
            ->get("/metrics")
            .status == 403);
  CHECK(a.as("")->get("/healthz").status == 200);
}
