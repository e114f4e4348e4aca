// Per event manager rate limits: the token bucket (refill, burst,
// fractional rates, requests of n events, unlimited), its validation,
// stored text and wire form, Retry-After's rounding, and the node's
// limiter over several managers.

#include "actors/rate_limiter.hpp"
#include "domain/catalog.hpp"
#include "domain/error.hpp"
#include "domain/rate_limit.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

using argus::ec;
using argus::domain::admit;
using argus::domain::from_millis;
using argus::domain::rate_limit;
using argus::domain::token_bucket;

const auto t0 = from_millis(1'700'000'000'000);

rate_limit limit(double rate, int64_t burst = 0) {
  return rate_limit{rate, burst};
}

} // namespace

TEST_CASE("rate limit: a fresh bucket is full and admits up to the burst",
          "[unit]") {
  token_bucket b;
  auto l = limit(2, 5);
  for (int i = 0; i < 5; ++i)
    CHECK(admit(b, l, 1, t0));
  auto refused = admit(b, l, 1, t0);
  REQUIRE_FALSE(refused);
  // One token at 2 per second: half a second.
  CHECK(refused.retry_after == 500ms);
  CHECK(argus::domain::retry_after_seconds(refused.retry_after) == 1);
}

TEST_CASE("rate limit: tokens refill at the rate and cap at the burst",
          "[unit]") {
  token_bucket b;
  auto l = limit(10, 3);
  REQUIRE(admit(b, l, 3, t0));
  CHECK_FALSE(admit(b, l, 1, t0 + 50ms));
  CHECK(admit(b, l, 1, t0 + 100ms));
  CHECK_FALSE(admit(b, l, 1, t0 + 100ms));
  // A long pause saves no more than the burst.
  CHECK(admit(b, l, 3, t0 + 1h));
  CHECK_FALSE(admit(b, l, 1, t0 + 1h));
}

TEST_CASE("rate limit: fractional rates", "[unit]") {
  token_bucket b;
  auto l = limit(0.1); // one event every 10 s, burst 1
  REQUIRE(admit(b, l, 1, t0));
  auto refused = admit(b, l, 1, t0 + 3s);
  REQUIRE_FALSE(refused);
  // 0.7 tokens short at 0.1 per second (to the nanosecond, rounded up).
  CHECK(refused.retry_after >= 7s - 1us);
  CHECK(refused.retry_after <= 7s + 1us);
  CHECK(argus::domain::retry_after_seconds(refused.retry_after) == 7);
  // Ten seconds earn exactly one token, rounding notwithstanding.
  CHECK(admit(b, l, 1, t0 + 10s));
  CHECK_FALSE(admit(b, l, 1, t0 + 19s));
  CHECK(admit(b, l, 1, t0 + 20s));
}

TEST_CASE("rate limit: a request of n events takes n tokens or none",
          "[unit]") {
  token_bucket b;
  auto l = limit(1, 10);
  REQUIRE(admit(b, l, 7, t0));
  // 3 left: a request of 4 is refused whole and takes nothing...
  auto refused = admit(b, l, 4, t0);
  REQUIRE_FALSE(refused);
  CHECK(refused.retry_after == 1s);
  // ...so the 3 are still there.
  CHECK(admit(b, l, 3, t0));
  CHECK_FALSE(admit(b, l, 1, t0));
  CHECK(admit(b, l, 0, t0)); // an empty request needs nothing
}

TEST_CASE("rate limit: a request larger than the burst needs a full bucket "
          "and leaves a debt",
          "[unit]") {
  token_bucket b;
  auto l = limit(2, 4);
  REQUIRE(admit(b, l, 1, t0));
  // 3 of 4: not full, so 10 events wait for the one missing token.
  auto refused = admit(b, l, 10, t0);
  REQUIRE_FALSE(refused);
  CHECK(refused.retry_after == 500ms);
  REQUIRE(admit(b, l, 10, t0 + 500ms));
  // 4 - 10 = -6 tokens: one more event waits for 7 tokens, 3.5 s.
  refused = admit(b, l, 1, t0 + 500ms);
  REQUIRE_FALSE(refused);
  CHECK(refused.retry_after == 3500ms);
  CHECK(argus::domain::retry_after_seconds(refused.retry_after) == 4);
  CHECK(admit(b, l, 1, t0 + 4s));
}

TEST_CASE("rate limit: zero is unlimited and keeps no state", "[unit]") {
  token_bucket b;
  auto l = limit(0);
  CHECK(l.unlimited());
  for (int i = 0; i < 1000; ++i)
    REQUIRE(admit(b, l, 1000, t0));
  CHECK_FALSE(b.started);
}

TEST_CASE("rate limit: time going backwards adds nothing", "[unit]") {
  token_bucket b;
  auto l = limit(1, 1);
  REQUIRE(admit(b, l, 1, t0));
  CHECK_FALSE(admit(b, l, 1, t0 - 1h));
  CHECK_FALSE(admit(b, l, 1, t0 + 500ms));
  CHECK(admit(b, l, 1, t0 + 1s));
}

TEST_CASE("rate limit: a lower burst caps the saved tokens", "[unit]") {
  token_bucket b;
  REQUIRE(admit(b, limit(100, 100), 1, t0)); // 99 left
  auto lower = limit(1, 2);
  CHECK(admit(b, lower, 2, t0));
  CHECK_FALSE(admit(b, lower, 1, t0));
}

TEST_CASE("rate limit: the default burst is a second's worth, at least 1",
          "[unit]") {
  using argus::domain::default_burst;
  CHECK(default_burst(0.2) == 1);
  CHECK(default_burst(1) == 1);
  CHECK(default_burst(2.5) == 3);
  CHECK(default_burst(100) == 100);
  CHECK(argus::domain::normalized(limit(7)).burst == 7);
  CHECK(argus::domain::normalized(limit(7, 2)).burst == 2);
  CHECK(argus::domain::normalized(limit(0)).burst == 0);
}

TEST_CASE("rate limit: validation names the field", "[unit]") {
  using argus::domain::validate;
  CHECK_FALSE(validate(limit(0), "rate_limit"));
  CHECK_FALSE(validate(limit(0.5, 3), "rate_limit"));
  CHECK_FALSE(validate(limit(0.001), "rate_limit"));
  for (auto bad : {-1.0, 0.0001, 2e9, std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()}) {
    auto err = validate(limit(bad), "rate_limit");
    REQUIRE(err);
    CHECK(argus::code_of(err) == ec::validation_failed);
    CHECK(argus::message_of(err).find("'rate_limit.events_per_second'") !=
          std::string::npos);
  }
  auto err = validate(limit(1, -1), "x.rate_limit");
  REQUIRE(err);
  CHECK(argus::message_of(err).find("'x.rate_limit.burst'") !=
        std::string::npos);
}

TEST_CASE("rate limit: the stored text round-trips", "[unit]") {
  using argus::domain::decode_rate_limit;
  for (auto l : {limit(0.1, 1), limit(2.5, 0), limit(1000, 5000)}) {
    auto text = argus::domain::encode(l);
    auto back = decode_rate_limit(text);
    REQUIRE(back);
    CHECK(*back == l);
  }
  CHECK_FALSE(decode_rate_limit(""));
  CHECK_FALSE(decode_rate_limit("1"));
  CHECK_FALSE(decode_rate_limit("x 1"));
  CHECK_FALSE(decode_rate_limit("-1 1"));
  CHECK_FALSE(decode_rate_limit("1 2 3"));
}

TEST_CASE("rate limit: Retry-After rounds up to whole seconds", "[unit]") {
  using argus::domain::retry_after_seconds;
  CHECK(retry_after_seconds(0s) == 1);
  CHECK(retry_after_seconds(1ns) == 1);
  CHECK(retry_after_seconds(1s) == 1);
  CHECK(retry_after_seconds(1001ms) == 2);
  CHECK(retry_after_seconds(90s) == 90);
}

TEST_CASE("rate limit: the refusal names the manager and its rate", "[unit]") {
  argus::domain::rate_refusal r{"checkout", limit(2.5), 3, 1s};
  auto err = argus::domain::to_error(r);
  CHECK(argus::code_of(err) == ec::rate_limited);
  CHECK(argus::message_of(err) ==
        "event manager checkout is over its rate limit of 2.5 events/s");
}

TEST_CASE("rate limit: a manager's own limit crosses the wire with it",
          "[unit]") {
  // Managers reach other nodes through the catalog's sync messages, which
  // CAF serializes with `inspect`.
  argus::domain::event_manager m;
  m.id = "checkout";
  m.name = "Checkout";
  m.grouping_rule_id = "r1";
  m.has_rate_limit = true;
  m.rate = limit(0.25, 4);
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  REQUIRE_FALSE(sink(m));
  argus::domain::event_manager back;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE_FALSE(source(back));
  CHECK(back.has_rate_limit);
  CHECK(back.rate == limit(0.25, 4));
  CHECK(argus::domain::rate_limit_of(back, limit(100)) == limit(0.25, 4));
  // Without its own, the node's default applies, its burst filled in.
  back.has_rate_limit = false;
  CHECK(argus::domain::rate_limit_of(back, limit(2.5)) == limit(2.5, 3));
}

namespace {

argus::domain::event event_of(const std::string& manager) {
  argus::domain::event e;
  e.event_manager_id = manager;
  e.dedup_key = "k";
  return e;
}

argus::domain::event_manager manager_with(const std::string& id,
                                          std::optional<rate_limit> own) {
  argus::domain::event_manager m;
  m.id = id;
  m.has_rate_limit = own.has_value();
  if (own)
    m.rate = *own;
  return m;
}

} // namespace

TEST_CASE("rate limiter: a request takes every manager's tokens or none",
          "[unit]") {
  auto registry = std::make_shared<argus::metrics::registry>();
  // The node's default: 1 event/s, burst 2; "b" has 2 of its own, "free"
  // none at all.
  argus::actors::rate_limiter limiter{limit(1, 2), registry};
  argus::domain::catalog c;
  c.managers["a"] = manager_with("a", std::nullopt);
  c.managers["b"] = manager_with("b", limit(1, 2));
  c.managers["free"] = manager_with("free", limit(0));
  std::vector<argus::domain::event> mixed{event_of("a"), event_of("b"),
                                          event_of("a"), event_of("free")};
  CHECK_FALSE(limiter.admit(c, mixed, t0)); // a: 2 of 2, b: 1 of 2
  // a is empty: a request with one more of a's is refused whole, and b's
  // event in it takes nothing.
  std::vector<argus::domain::event> again{event_of("b"), event_of("a")};
  auto refusal = limiter.admit(c, again, t0);
  REQUIRE(refusal);
  CHECK(refusal->event_manager_id == "a");
  CHECK(refusal->events == 1);
  CHECK(refusal->retry_after == 1s);
  std::vector<argus::domain::event> b_only{event_of("b")};
  CHECK_FALSE(limiter.admit(c, b_only, t0)); // b's last token
  CHECK(limiter.admit(c, b_only, t0));
  // The unlimited manager never waits.
  std::vector<argus::domain::event> lots(100, event_of("free"));
  CHECK_FALSE(limiter.admit(c, lots, t0));
  // Refused events are counted for the managers that were over.
  auto text = registry->scrape();
  INFO(text);
  CHECK(text.find("argus_rate_limited_total{event_manager=\"a\"} 1") !=
        std::string::npos);
  CHECK(text.find("argus_rate_limited_total{event_manager=\"b\"} 1") !=
        std::string::npos);
  CHECK(text.find("event_manager=\"free\"") == std::string::npos);
}
