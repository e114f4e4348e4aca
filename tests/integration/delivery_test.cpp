// Delivery end to end: the real server, real HTTP receivers started by the
// test, the outbox read back over the API; a kill -9 between store and
// delivery.

#include "delivery/receiver_server.hpp"
#include "integration/harness.hpp"

#include <catch2/catch.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>

namespace {

using namespace argus::test;

/// Retries come quickly in these tests.
const std::string fast_retries = R"(notifications:
  retry:
    initial_ms: 50
    max_ms: 200
    max_attempts: 4
)";

server_options delivery_options() {
  server_options opts;
  opts.extra_yaml = fast_retries;
  return opts;
}

/// A manager grouping on `class` whose one receiver is `receiver`.
std::string manager_with(server& s, const json& receiver) {
  auto rule = s.create_rule("class", 300, unique_name("rule"));
  json body{{"id", unique_name("em")},
            {"name", "delivery"},
            {"grouping_rule_id", rule["id"]},
            {"notification_config", {{"receivers", json::array({receiver})}}}};
  auto res = s.http().post("/v1/event-managers", body);
  INFO(res.text);
  REQUIRE(res.status == 201);
  return res.data()["id"].get<std::string>();
}

std::string header(const httplib::Request& req, const char* name) {
  return req.get_header_value(name);
}

/// The receiver's side of X-Argus-Signature, with OpenSSL directly.
bool signature_ok(const httplib::Request& req, const std::string& secret) {
  auto sig = header(req, "X-Argus-Signature");
  auto comma = sig.find(",v1=");
  if (sig.rfind("t=", 0) != 0 || comma == std::string::npos)
    return false;
  auto t = sig.substr(2, comma - 2);
  auto message = t + "." + req.body;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       mac, &len);
  std::string hex;
  char byte[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", mac[i]);
    hex += byte;
  }
  return sig.substr(comma + 4) == hex;
}

} // namespace

TEST_CASE("a receiver hears each parent opened and resolved, signed, with "
          "the listed id",
          "[integration]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  server s{delivery_options()};
  auto m = manager_with(s, {{"name", "ops"},
                            {"url", rx.url()},
                            {"secret", "s3cret"},
                            {"headers", {{"X-Team", "db"}}}});
  s.trigger(m, "p", {{"class", "db"}});
  s.trigger(m, "c", {{"class", "db"}});
  s.resolve(m, "c");
  s.resolve(m, "p");
  REQUIRE(eventually([&] { return rx.requests().size() >= 2; }));
  REQUIRE(s.settle());
  auto reqs = rx.requests();
  REQUIRE(reqs.size() == 2); // children are not notified unless asked for
  auto first = json::parse(reqs[0].body);
  auto second = json::parse(reqs[1].body);
  CHECK(first["notification"]["type"] == "parent_opened");
  CHECK(second["notification"]["type"] == "parent_resolved");
  CHECK(first["alert"]["dedupKey"] == "p");
  CHECK(second["alert"]["status"] == "resolved");
  for (auto& req : reqs) {
    CHECK(signature_ok(req, "s3cret"));
    CHECK_FALSE(signature_ok(req, "other"));
    CHECK(header(req, "X-Team") == "db");
    CHECK(header(req, "Idempotency-Key") ==
          header(req, "X-Argus-Notification-Id"));
    CHECK(header(req, "Content-Type") == "application/json");
  }
  // The listing shows the same ids, delivered, newest first.
  auto notes = s.notifications_of(m, "state=delivered&receiver=ops");
  REQUIRE(eventually([&] {
    notes = s.notifications_of(m, "state=delivered&receiver=ops");
    return notes.size() == 2;
  }));
  CHECK(notes[0]["id"] == header(reqs[1], "Idempotency-Key"));
  CHECK(notes[1]["id"] == header(reqs[0], "Idempotency-Key"));
  CHECK(notes[0]["deliveries"][0]["state"] == "delivered");
  CHECK(notes[0]["deliveries"][0]["attempts"] == 1);
  CHECK(notes[0]["deliveries"][0]["receiver"] == "ops");
  // The secret is never shown back.
  auto got = s.http().get("/v1/event-managers/" + m);
  CHECK(got.text.find("s3cret") == std::string::npos);
}

TEST_CASE("retries, the dead letter and a manual retry", "[integration]") {
  std::atomic<int> mode{500}; // what the receiver answers after the first
  receiver_server flaky{
      [](auto&, auto& res, int nth) { res.status = nth == 1 ? 500 : 200; }};
  receiver_server strict{[&](auto&, auto& res, int) { res.status = mode; }};
  auto opts = delivery_options();
  opts.remoting = true; // argusctl too
  server s{opts};
  auto ctl = [&](std::vector<std::string> args) {
    args.insert(args.begin(),
                {"--node", "127.0.0.1:" + std::to_string(s.node_port())});
    return run_argusctl(args);
  };
  auto retried = manager_with(s, {{"name", "flaky"}, {"url", flaky.url()}});
  auto refused = manager_with(s, {{"name", "strict"}, {"url", strict.url()}});
  mode = 400;
  s.trigger(retried, "p", {{"class", "db"}});
  s.trigger(refused, "q", {{"class", "db"}});

  // 500 then 200: delivered on the second attempt.
  json delivered;
  REQUIRE(eventually([&] {
    delivered = s.notifications_of(retried, "state=delivered");
    return delivered.size() == 1;
  }));
  CHECK(delivered[0]["deliveries"][0]["attempts"] == 2);
  CHECK(flaky.requests().size() == 2);
  CHECK(header(flaky.requests()[0], "Idempotency-Key") ==
        header(flaky.requests()[1], "Idempotency-Key"));

  // 400 is permanent: failed at once, with its error, never retried.
  json failed;
  REQUIRE(eventually([&] {
    failed = s.notifications_of(refused, "state=failed");
    return failed.size() == 1;
  }));
  CHECK(failed[0]["deliveries"][0]["last_error"].get<std::string>().find(
            "HTTP 400") != std::string::npos);
  CHECK(strict.requests().size() == 1);
  auto id = failed[0]["id"].get<std::string>();

  // argusctl shows the same dead letter.
  auto dead = ctl(
      {"notifications", "--state", "failed", "--receiver", "strict", "--json"});
  INFO(dead.err);
  REQUIRE(dead.exit_code == 0);
  REQUIRE(dead.json_out().size() >= 1);
  CHECK(dead.json_out()[0]["id"] == id);
  CHECK(ctl({"notifications", "--state", "lost"}).exit_code == 2);
  auto unknown = ctl({"notifications", "retry", "nope"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.err.find("nope") != std::string::npos);

  // Bad requests name the problem.
  auto bad = s.http().get("/v1/notifications?state=lost");
  CHECK(bad.status == 400);
  CHECK(bad.error_message().find("state") != std::string::npos);
  CHECK(s.http().get("/v1/notifications?limit=0").status == 400);
  CHECK(s.http().post("/v1/notifications/nope/retry", json::object()).status ==
        404);
  auto not_failed = s.http().post(
      "/v1/notifications/" + delivered[0]["id"].get<std::string>() + "/retry",
      json::object());
  CHECK(not_failed.status == 409);

  // The receiver is fixed; a manual retry delivers (HTTP answers 202,
  // argusctl says so; the second one is a conflict: it is pending now).
  mode = 200;
  auto retry =
      s.http().post("/v1/notifications/" + id + "/retry", json::object());
  INFO(retry.text);
  CHECK(retry.status == 202);
  CHECK(ctl({"notifications", "retry", id}).exit_code == 1);
  REQUIRE(eventually([&] {
    return s.notifications_of(refused, "state=delivered").size() == 1;
  }));
  CHECK(strict.requests().size() == 2);
  CHECK(header(strict.requests()[1], "Idempotency-Key") == id);
}

TEST_CASE("kill -9 before delivery: delivered after restart, same id",
          "[integration]") {
  auto port = static_cast<int>(free_port());
  auto url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  // Enough attempts that the delivery is still pending when the receiver
  // comes up (not dead-lettered while it was down).
  server_options opts;
  opts.extra_yaml = R"(notifications:
  retry:
    initial_ms: 50
    max_ms: 200
    max_attempts: 200
)";
  server s{opts};
  auto m = manager_with(s, {{"name", "later"}, {"url", url}});
  s.trigger(m, "p", {{"class", "db"}});
  // Stored, not delivered: the receiver is down.
  json pending;
  REQUIRE(eventually([&] {
    pending = s.notifications_of(m, "state=pending");
    return pending.size() == 1;
  }));
  auto id = pending[0]["id"].get<std::string>();
  s.kill9();
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }, port};
  s.start();
  REQUIRE(eventually([&] { return !rx.requests().empty(); }));
  CHECK(header(rx.requests()[0], "Idempotency-Key") == id);
  REQUIRE(eventually(
      [&] { return s.notifications_of(m, "state=delivered").size() == 1; }));
  // One notification, stored once across the crash.
  CHECK(s.notifications_of(m, "").size() == 1);
}
