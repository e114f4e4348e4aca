// Delivery rules: receivers and their validation, the retry policy (verdicts,
// backoff with jitter, Retry-After, dead letter, manual retry), the circuit
// breaker, and the order and limits of dispatch. Pure functions, so time is
// a parameter and the tests need no clock.

#include "domain/delivery.hpp"
#include "domain/dispatch.hpp"
#include "domain/error.hpp"
#include "domain/receiver.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace argus::domain;
using argus::code_of;
using argus::ec;
using argus::message_of;

const time_point t0 = from_millis(1'800'000'000'000);

receiver valid_receiver() {
  receiver r;
  r.name = "ops";
  r.url = "https://hooks.example.com/argus";
  return r;
}

/// The validation message for `r`, empty when it is valid.
std::string problem(const receiver& r) {
  auto err = validate(r, "r");
  return err ? message_of(err) : std::string{};
}

attempt_result answer(int status) {
  attempt_result r;
  r.status = status;
  return r;
}

attempt_result transport(std::string error, bool timed_out = false) {
  attempt_result r;
  r.error = std::move(error);
  r.timed_out = timed_out;
  return r;
}

retry_policy policy() {
  retry_policy p;
  p.initial = 1s;
  p.max = 60s;
  p.max_attempts = 5;
  p.max_age = 1h;
  return p;
}

delivery pending_for(const std::string& receiver, const std::string& group,
                     uint64_t seq, time_point now = t0) {
  auto d = make_delivery("n" + std::to_string(seq), receiver, "m", group,
                         notification_kind::parent_opened, now);
  d.seq = seq;
  return d;
}

} // namespace

TEST_CASE("receiver formats and notification kinds spell and parse",
          "[unit][delivery]") {
  for (auto f : {receiver_format::argus, receiver_format::alertmanager,
                 receiver_format::slack, receiver_format::pagerduty})
    CHECK(parse_receiver_format(to_string(f)) == f);
  CHECK(to_string(receiver_format::alertmanager) == "alertmanager");
  CHECK_FALSE(parse_receiver_format("teams"));
  CHECK(to_string(notification_kind::child_added) == "child_added");
  CHECK(parse_notification_kind("parent_resolved") ==
        notification_kind::parent_resolved);
  CHECK_FALSE(parse_notification_kind("child_resolved"));
  CHECK(parse_notification_kind("parent_acknowledged") ==
        notification_kind::parent_acknowledged);
  CHECK(parse_delivery_state("failed") == delivery_state::failed);
  CHECK(to_string(delivery_state::pending) == "pending");
  CHECK_FALSE(parse_delivery_state("dead"));
}

TEST_CASE("a receiver is validated field by field", "[unit][delivery]") {
  CHECK(problem(valid_receiver()).empty());
  auto r = valid_receiver();
  SECTION("name") {
    r.name = "";
    CHECK(problem(r).find("r.name") == 0);
    r.name = "has space";
    CHECK(problem(r).find("r.name") == 0);
    r.name = std::string(65, 'a');
    CHECK(problem(r).find("r.name") == 0);
  }
  SECTION("url") {
    for (auto url : {"ftp://x", "http://", "https:///path", "hooks.example",
                     "http://a b", "http://a\nb"}) {
      r.url = url;
      CHECK(problem(r).find("r.url") == 0);
    }
    r.url = "http://127.0.0.1:9000/x?y=1";
    CHECK(problem(r).empty());
  }
  SECTION("timeout") {
    r.timeout_ms = 99;
    CHECK(problem(r).find("r.timeout_ms") == 0);
    r.timeout_ms = 120001;
    CHECK(problem(r).find("r.timeout_ms") == 0);
  }
  SECTION("headers") {
    r.headers = {{"X-Team", "db"}};
    CHECK(problem(r).empty());
    r.headers = {{"Bad Name", "x"}};
    CHECK(problem(r).find("r.headers") == 0);
    r.headers = {{"X-Team", "a\r\nInjected: 1"}};
    CHECK(problem(r).find("r.headers.X-Team") == 0);
    r.headers = {{"idempotency-KEY", "mine"}};
    CHECK(problem(r) == "r.headers: idempotency-KEY is set by Argus");
    r.headers = {{"Content-Type", "text/plain"}};
    CHECK_FALSE(problem(r).empty());
  }
  SECTION("types and rate cap") {
    r.types = {};
    CHECK(problem(r).find("r.types") == 0);
    r.types = {notification_kind::child_added, notification_kind::child_added};
    CHECK(problem(r) == "r.types lists child_added twice");
    r.types = {notification_kind::child_added};
    r.child_added_per_minute = 0;
    CHECK(problem(r).find("r.child_added_per_minute") == 0);
  }
  SECTION("pagerduty needs a routing key") {
    r.format = receiver_format::pagerduty;
    CHECK(problem(r).find("r.routing_key is required") == 0);
    r.routing_key = "R0UT1NG";
    CHECK(problem(r).empty());
  }
  SECTION("errors are validation failures") {
    r.name = "";
    CHECK(code_of(validate(r, "r")) == ec::validation_failed);
  }
}

TEST_CASE("a receiver list has unique names and a size limit",
          "[unit][delivery]") {
  std::vector<receiver> rs{valid_receiver(), valid_receiver()};
  rs[1].name = "pager";
  CHECK_FALSE(validate(rs));
  rs[1].name = "ops";
  CHECK(message_of(validate(rs)) ==
        "notification_config.receivers[1].name \"ops\" is used twice");
  rs[1].name = "pager";
  rs[1].url = "nope";
  CHECK(message_of(validate(rs)).find("notification_config.receivers[1].url") ==
        0);
  rs.assign(max_receivers + 1, valid_receiver());
  CHECK(code_of(validate(rs)) == ec::validation_failed);
}

TEST_CASE("a legacy webhook_url is one argus receiver", "[unit][delivery]") {
  auto r = webhook_receiver("http://h/x");
  CHECK(r.name == "webhook");
  CHECK(r.format == receiver_format::argus);
  CHECK(r.url == "http://h/x");
  CHECK(r.wants(notification_kind::parent_opened));
  CHECK(r.wants(notification_kind::parent_resolved));
  CHECK_FALSE(r.wants(notification_kind::child_added));
  CHECK_FALSE(validate(r, "w"));
}

TEST_CASE("child_added is capped per group and minute", "[unit][delivery]") {
  rate_window w;
  CHECK(admit(w, 2, t0));
  CHECK(admit(w, 2, t0 + 10s));
  CHECK_FALSE(admit(w, 2, t0 + 59s));
  CHECK(admit(w, 2, t0 + 60s)); // a new minute
  CHECK(w.count == 1);
  CHECK(admit(w, 2, t0 + 61s));
  CHECK_FALSE(admit(w, 2, t0 + 62s));
}

TEST_CASE("outcomes are classified as the issue says", "[unit][delivery]") {
  for (int s : {200, 201, 202, 204, 299})
    CHECK(classify(answer(s)) == verdict::delivered);
  for (int s : {500, 502, 503, 504, 599, 408, 429})
    CHECK(classify(answer(s)) == verdict::retry);
  for (int s : {400, 401, 403, 404, 410, 413, 422, 301, 302, 100})
    CHECK(classify(answer(s)) == verdict::permanent);
  CHECK(classify(transport("connection refused")) == verdict::retry);
  CHECK(classify(transport("", true)) == verdict::retry);
  CHECK(describe(answer(503), 1000) == "HTTP 503");
  CHECK(describe(transport("", true), 1500) == "timeout after 1500 ms");
  CHECK(describe(transport("Connection refused"), 1) == "Connection refused");
}

TEST_CASE("Retry-After takes seconds or an HTTP-date", "[unit][delivery]") {
  CHECK(parse_retry_after("120", t0) == std::optional<duration>{120s});
  CHECK(parse_retry_after(" 0 ", t0) == std::optional<duration>{0s});
  CHECK(parse_retry_after("99999999", t0) == std::optional<duration>{24h});
  auto now = from_millis(1'799'971'200'000); // 2027-01-15T00:00:00Z
  CHECK(parse_retry_after("Fri, 15 Jan 2027 00:00:30 GMT", now) ==
        std::optional<duration>{30s});
  CHECK(parse_retry_after("Thu, 14 Jan 2027 00:00:30 GMT", now) ==
        std::optional<duration>{0s});
  CHECK_FALSE(parse_retry_after("soon", now));
  CHECK_FALSE(parse_retry_after("-5", now));
  CHECK_FALSE(parse_retry_after("", now));
  CHECK_FALSE(parse_retry_after("1.5", now));
}

TEST_CASE("backoff doubles up to max with equal jitter", "[unit][delivery]") {
  auto p = policy();
  CHECK(backoff(p, 1, 0.0) == 500ms);
  CHECK(backoff(p, 1, 0.999999) > 999ms);
  CHECK(backoff(p, 1, 0.999999) < 1s);
  CHECK(backoff(p, 2, 0.0) == 1s);
  CHECK(backoff(p, 3, 0.5) == 3s);  // 4 s: 2 fixed + 0.5 * 2
  CHECK(backoff(p, 7, 0.0) == 30s); // 64 s capped at 60
  CHECK(backoff(p, 1000, 0.0) == 30s);
  for (double j : {0.0, 0.25, 0.5, 0.75, 0.99}) {
    auto d = backoff(p, 4, j);
    CHECK(d >= 4s);
    CHECK(d < 8s);
  }
  CHECK(backoff(p, 4, 0.25) < backoff(p, 4, 0.75));
}

TEST_CASE("the retry policy is validated", "[unit][delivery]") {
  auto p = policy();
  CHECK_FALSE(validate(p));
  p.max = 500ms;
  CHECK(message_of(validate(p)).find("notifications.retry.max_ms") == 0);
  p = policy();
  p.max_attempts = 0;
  CHECK(message_of(validate(p)).find("notifications.retry.max_attempts") == 0);
  p = policy();
  p.initial = 0ms;
  CHECK(message_of(validate(p)).find("notifications.retry.initial_ms") == 0);
  p = policy();
  p.max_age = 0s;
  CHECK(message_of(validate(p)).find("notifications.retry.max_age") == 0);
}

TEST_CASE("a 2xx delivers", "[unit][delivery]") {
  auto d = pending_for("ops", "g", 1);
  CHECK(record_attempt(d, answer(204), 1000, policy(), 0.5, t0 + 1s) ==
        verdict::delivered);
  CHECK(d.state == delivery_state::delivered);
  CHECK(d.attempts == 1);
  CHECK(d.last_error.empty());
  CHECK(d.updated_at == t0 + 1s);
}

TEST_CASE("a retryable failure schedules the next attempt",
          "[unit][delivery]") {
  auto d = pending_for("ops", "g", 1);
  CHECK(record_attempt(d, answer(500), 1000, policy(), 0.0, t0) ==
        verdict::retry);
  CHECK(d.state == delivery_state::pending);
  CHECK(d.attempts == 1);
  CHECK(d.last_error == "HTTP 500");
  CHECK(d.next_attempt_at == t0 + 500ms);
  record_attempt(d, transport("", true), 2500, policy(), 0.0, t0 + 1s);
  CHECK(d.last_error == "timeout after 2500 ms");
  CHECK(d.next_attempt_at == t0 + 2s); // 2 s: 1 fixed, no jitter
  CHECK(record_attempt(d, answer(200), 1000, policy(), 0.0, t0 + 3s) ==
        verdict::delivered);
  CHECK(d.attempts == 3);
}

TEST_CASE("Retry-After is honoured over a shorter backoff",
          "[unit][delivery]") {
  auto d = pending_for("ops", "g", 1);
  auto r = answer(429);
  r.retry_after = 7s;
  record_attempt(d, r, 1000, policy(), 0.0, t0);
  CHECK(d.next_attempt_at == t0 + 7s);
  CHECK(d.last_error == "HTTP 429");
  // A shorter Retry-After than the backoff does not hurry the retry.
  r.retry_after = 0s;
  record_attempt(d, r, 1000, policy(), 0.0, t0 + 7s);
  CHECK(d.next_attempt_at == t0 + 8s);
}

TEST_CASE("a permanent error fails at once", "[unit][delivery]") {
  auto d = pending_for("ops", "g", 1);
  CHECK(record_attempt(d, answer(400), 1000, policy(), 0.0, t0) ==
        verdict::permanent);
  CHECK(d.state == delivery_state::failed);
  CHECK(d.attempts == 1);
  CHECK(d.last_error == "HTTP 400 (not retried)");
  CHECK(d.next_attempt_at == no_time);
}

TEST_CASE("running out of attempts dead-letters", "[unit][delivery]") {
  auto p = policy();
  auto d = pending_for("ops", "g", 1);
  auto now = t0;
  for (int i = 1; i < p.max_attempts; ++i) {
    record_attempt(d, answer(503), 1000, p, 0.0, now);
    REQUIRE(d.state == delivery_state::pending);
    now = d.next_attempt_at;
  }
  record_attempt(d, transport("Connection refused"), 1000, p, 0.0, now);
  CHECK(d.state == delivery_state::failed);
  CHECK(d.attempts == p.max_attempts);
  CHECK(d.last_error == "Connection refused (gave up after 5 attempts)");
}

TEST_CASE("running out of age dead-letters", "[unit][delivery]") {
  auto p = policy();
  p.max_age = 10s;
  auto d = pending_for("ops", "g", 1);
  auto r = answer(503);
  r.retry_after = 30s; // past the age limit
  record_attempt(d, r, 1000, p, 0.0, t0 + 1s);
  CHECK(d.state == delivery_state::failed);
  CHECK(d.last_error == "HTTP 503 (gave up: max_age reached)");

  auto waiting = pending_for("ops", "g", 2);
  CHECK_FALSE(expire(waiting, p, t0 + 9s));
  CHECK(expire(waiting, p, t0 + 10s));
  CHECK(waiting.state == delivery_state::failed);
  CHECK(waiting.last_error == "not sent (gave up: max_age reached)");
  CHECK_FALSE(expire(waiting, p, t0 + 20s));
}

TEST_CASE("a manual retry revives a failed delivery only", "[unit][delivery]") {
  auto d = pending_for("ops", "g", 1);
  CHECK(code_of(retry_now(d, t0)) == ec::conflict);
  record_attempt(d, answer(404), 1000, policy(), 0.0, t0);
  REQUIRE(d.state == delivery_state::failed);
  CHECK_FALSE(retry_now(d, t0 + 1h));
  CHECK(d.state == delivery_state::pending);
  CHECK(d.attempts == 0);
  CHECK(d.created_at == t0 + 1h); // a fresh age budget
  CHECK(d.next_attempt_at == t0 + 1h);
  CHECK(d.last_error == "HTTP 404 (not retried)"); // kept for the record
  record_attempt(d, answer(200), 1000, policy(), 0.0, t0 + 1h);
  CHECK(code_of(retry_now(d, t0 + 2h)) == ec::conflict);
}

TEST_CASE("notification ids are stable and distinct", "[unit][delivery]") {
  auto a =
      notification_id_for("alert-1", notification_kind::parent_opened, t0, 7);
  CHECK(a == notification_id_for("alert-1", notification_kind::parent_opened,
                                 t0, 7));
  CHECK(a.size() == 36);
  CHECK(a != notification_id_for("alert-1", notification_kind::parent_resolved,
                                 t0, 7));
  CHECK(a != notification_id_for("alert-1", notification_kind::parent_opened,
                                 t0 + 1ms, 7));
  CHECK(a != notification_id_for("alert-1", notification_kind::parent_opened,
                                 t0, 8));
  CHECK(a != notification_id_for("alert-2", notification_kind::parent_opened,
                                 t0, 7));
  CHECK(notification_id_for("a", notification_kind::child_added, t0, 1, "c1") !=
        notification_id_for("a", notification_kind::child_added, t0, 1, "c2"));
}

TEST_CASE("a notification id names its alert change as it always did",
          "[unit][delivery]") {
  // Ids are stored and compared with replays after a restart, so the text
  // hashed must not change with how it is hashed.
  auto at = t0 + 123ms;
  auto text = [&](std::string_view kind, uint64_t seq, std::string_view extra) {
    return std::string{kind} + "@" +
           std::to_string(at.time_since_epoch().count()) + "#" +
           std::to_string(seq) + "/" + std::string{extra};
  };
  auto id = alert_id_for("6f1c0c52-0000-8000-8000-000000000001",
                         text("parent_opened", 42, ""));
  CHECK(notification_id_for("6f1c0c52-0000-8000-8000-000000000001",
                            notification_kind::parent_opened, at, 42) == id);
  CHECK(notification_id_for("p", notification_kind::child_added, at,
                            18446744073709551615ULL, "child-id#3") ==
        alert_id_for(
            "p", text("child_added", 18446744073709551615ULL, "child-id#3")));
  // Before the epoch, the count is negative, and written with its sign.
  auto before = from_millis(-5);
  CHECK(
      notification_id_for("p", notification_kind::parent_resolved, before, 0) ==
      alert_id_for("p", "parent_resolved@" +
                            std::to_string(before.time_since_epoch().count()) +
                            "#0/"));
}

TEST_CASE("the breaker opens after consecutive failures and probes",
          "[unit][delivery]") {
  breaker_policy p;
  p.failure_threshold = 3;
  p.cool_down = 10s;
  circuit_breaker b;
  record(b, verdict::retry, p, t0);
  record(b, verdict::retry, p, t0);
  CHECK(b.state == breaker_state::closed);
  record(b, verdict::delivered, p, t0); // success resets the count
  CHECK(b.consecutive_failures == 0);
  for (int i = 0; i < 3; ++i)
    record(b, verdict::retry, p, t0);
  CHECK(b.state == breaker_state::open);
  CHECK_FALSE(allow_send(b, t0 + 9s));
  CHECK(allow_send(b, t0 + 10s)); // the probe
  CHECK(b.state == breaker_state::half_open);
  CHECK_FALSE(allow_send(b, t0 + 10s)); // only one probe
  record(b, verdict::retry, p, t0 + 11s);
  CHECK(b.state == breaker_state::open);
  CHECK(b.open_until == t0 + 21s);
  CHECK(allow_send(b, t0 + 21s));
  record(b, verdict::delivered, p, t0 + 22s);
  CHECK(b.state == breaker_state::closed);
  CHECK(allow_send(b, t0 + 22s));
}

TEST_CASE("a permanent error does not count against the breaker",
          "[unit][delivery]") {
  breaker_policy p;
  p.failure_threshold = 2;
  circuit_breaker b;
  record(b, verdict::retry, p, t0);
  record(b, verdict::permanent, p, t0);
  record(b, verdict::retry, p, t0);
  CHECK(b.state == breaker_state::closed);
}

TEST_CASE("dispatch keeps order per receiver and group", "[unit][delivery]") {
  dispatch_state st;
  std::vector<delivery> pending{
      pending_for("ops", "db", 1), pending_for("ops", "db", 2),
      pending_for("ops", "web", 3), pending_for("pager", "db", 4)};
  pending[1].kind = notification_kind::parent_resolved;
  dispatch_limits limits;
  CHECK(pick(st, pending, limits, t0) == std::vector<size_t>{0, 2, 3});
  // Nothing more while the heads are in flight.
  CHECK(pick(st, pending, limits, t0).empty());
  CHECK(st.in_flight == 3);
  // The opening failed and waits for its retry: the resolution waits too.
  record_attempt(pending[0], answer(503), 1000, policy(), 0.0, t0);
  finish(st, pending[0], verdict::retry, breaker_policy{}, t0);
  CHECK(pick(st, pending, limits, t0 + 100ms).empty());
  CHECK(next_wakeup(st, pending) == t0 + 500ms);
  CHECK(pick(st, pending, limits, t0 + 500ms) == std::vector<size_t>{0});
  record_attempt(pending[0], answer(200), 1000, policy(), 0.0, t0 + 600ms);
  finish(st, pending[0], verdict::delivered, breaker_policy{}, t0 + 600ms);
  CHECK(pick(st, pending, limits, t0 + 600ms) == std::vector<size_t>{1});
}

TEST_CASE("a dead-lettered head unblocks its lane", "[unit][delivery]") {
  dispatch_state st;
  std::vector<delivery> pending{pending_for("ops", "db", 1),
                                pending_for("ops", "db", 2)};
  CHECK(pick(st, pending, {}, t0) == std::vector<size_t>{0});
  record_attempt(pending[0], answer(400), 1000, policy(), 0.0, t0);
  finish(st, pending[0], verdict::permanent, breaker_policy{}, t0);
  CHECK(pick(st, pending, {}, t0) == std::vector<size_t>{1});
}

TEST_CASE("dispatch respects the limits", "[unit][delivery]") {
  dispatch_state st;
  std::vector<delivery> pending;
  for (uint64_t i = 1; i <= 6; ++i)
    pending.push_back(pending_for("ops", "g" + std::to_string(i), i));
  for (uint64_t i = 7; i <= 9; ++i)
    pending.push_back(pending_for("pager", "g" + std::to_string(i), i));
  dispatch_limits limits;
  limits.per_receiver = 2;
  limits.total = 3;
  CHECK(pick(st, pending, limits, t0) == std::vector<size_t>{0, 1, 6});
  CHECK(st.in_flight_per_receiver["ops"] == 2);
  finish(st, pending[6], verdict::delivered, breaker_policy{}, t0);
  pending[6].state = delivery_state::delivered;
  CHECK(pick(st, pending, limits, t0) == std::vector<size_t>{7});
  // Finishing something not in flight changes nothing.
  finish(st, pending[8], verdict::delivered, breaker_policy{}, t0);
  CHECK(st.in_flight == 3);
}

TEST_CASE("an open breaker pauses one receiver, not the others",
          "[unit][delivery]") {
  dispatch_state st;
  breaker_policy bp;
  bp.failure_threshold = 1;
  bp.cool_down = 30s;
  std::vector<delivery> pending{pending_for("dead", "a", 1),
                                pending_for("dead", "b", 2),
                                pending_for("ok", "a", 3)};
  CHECK(pick(st, pending, {}, t0) == std::vector<size_t>{0, 1, 2});
  record_attempt(pending[0], transport("refused"), 1000, policy(), 0.0, t0);
  finish(st, pending[0], verdict::retry, bp, t0);
  CHECK(st.breakers["dead"].state == breaker_state::open);
  finish(st, pending[1], verdict::retry, bp, t0);
  record_attempt(pending[1], transport("refused"), 1000, policy(), 0.0, t0);
  finish(st, pending[2], verdict::delivered, bp, t0);
  pending[2].state = delivery_state::delivered;
  pending.push_back(pending_for("ok", "c", 4, t0 + 1s));
  // Both "dead" deliveries are due in 500 ms but the breaker holds them.
  CHECK(pick(st, pending, {}, t0 + 1s) == std::vector<size_t>{3});
  CHECK(next_wakeup(st, pending) == t0 + 30s);
  // After the cool-down, one probe only.
  CHECK(pick(st, pending, {}, t0 + 30s) == std::vector<size_t>{0});
}

TEST_CASE("held openings are looked at once per poll interval, less often "
          "when a look is costly",
          "[unit][delivery]") {
  duration poll = 1s;
  // A cheap look: the poll interval.
  CHECK(review_pause(2ms, poll) == poll);
  CHECK(review_pause(0ms, poll) == poll);
  // A costly one (every active alert of a large manager, or a store behind
  // on writes): looks take a twentieth of the time.
  CHECK(review_pause(100ms, poll) == 1900ms);
  // Never longer than 10 poll intervals.
  CHECK(review_pause(5s, poll) == 10s);
  CHECK(review_pause(5s, 50ms) == 500ms);
}
