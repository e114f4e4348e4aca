// Bad inputs at POST /v1/events: every one is a 400 (404, 413) naming the
// field, nothing is stored, and the server stays up.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace argus::test;

server& validation_server() {
  static server instance;
  return instance;
}

/// A manager shared by the cases of this file (validation never reaches it).
const std::string& validation_manager() {
  static std::string id = validation_server().fresh_manager("host");
  return id;
}

/// Checks a rejected event: `status`, the envelope, a message naming
/// `field`, and a server that still answers.
void check_rejected(server& s, const response& res, int status,
                    const std::string& field) {
  INFO(res.text);
  CHECK(res.status == status);
  CHECK(res.is_error_envelope());
  if (status == 400)
    CHECK((res.error_code() == "BAD_REQUEST" ||
           res.error_code() == "VALIDATION_FAILED"));
  if (!field.empty())
    CHECK_THAT(res.error_message(), Catch::Contains(field));
  CHECK(s.http().get("/healthz").status == 200);
}

/// A valid trigger with `field` replaced by `value` (or removed if
/// `value` is discarded).
json with(const std::string& field, const json& value) {
  auto e = trigger_event(validation_manager(), "v-key");
  if (value.is_discarded())
    e.erase(field);
  else
    e[field] = value;
  return e;
}

json without(const std::string& field) {
  return with(field, json(json::value_t::discarded));
}

} // namespace

TEST_CASE("malformed bodies are rejected", "[integration]") {
  auto& s = validation_server();
  auto& http = s.http();
  SECTION("invalid JSON") {
    for (auto body : {"{", "{\"event_manager_id\": }", "not json", "",
                      "{\"a\":1}}", "{'a': 1}"}) {
      INFO("body: " << body);
      auto res = http.post_raw("/v1/events", body);
      check_rejected(s, res, 400, "");
      CHECK_THAT(res.error_message(), Catch::Contains("JSON"));
    }
  }
  SECTION("invalid UTF-8") {
    auto m = validation_manager();
    std::string bad = "{\"event_manager_id\":\"" + m +
                      "\",\"action\":\"trigger\",\"dedupKey\":\"u\xff\xfe"
                      "\",\"summary\":\"s\",\"severity\":\"high\"}";
    auto res = http.post_raw("/v1/events", bad);
    check_rejected(s, res, 400, "UTF-8");
    std::string truncated = "{\"event_manager_id\":\"" + m +
                            "\",\"action\":\"trigger\",\"dedupKey\":\"u\","
                            "\"summary\":\"caf\xc3\",\"severity\":\"high\"}";
    check_rejected(s, http.post_raw("/v1/events", truncated), 400, "UTF-8");
  }
  SECTION("bodies that are not objects") {
    for (auto body : {"[]", "[{\"action\":\"trigger\"}]", "\"text\"", "42",
                      "null", "true"}) {
      INFO("body: " << body);
      auto res = http.post_raw("/v1/events", body);
      check_rejected(s, res, 400, "object");
    }
  }
  REQUIRE(s.settle());
  CHECK(s.alerts("event_manager_id=" + validation_manager()).empty());
}

TEST_CASE("required event fields are checked", "[integration]") {
  auto& s = validation_server();
  auto bad = [&](const json& event, const std::string& field) {
    INFO("event: " << event.dump());
    check_rejected(s, s.post_event(event), 400, field);
  };
  for (std::string field :
       {"event_manager_id", "action", "dedupKey", "summary", "severity"}) {
    INFO("field " << field);
    bad(without(field), field);
    bad(with(field, ""), field);
    bad(with(field, 5), field);
    bad(with(field, true), field);
    bad(with(field, json::array({"x"})), field);
    bad(with(field, json{{"x", 1}}), field);
    bad(with(field, 1.5), field);
  }
  SECTION("null counts as missing") {
    bad(with("dedupKey", nullptr), "dedupKey");
    bad(with("event_manager_id", nullptr), "event_manager_id");
  }
  SECTION("bad action and severity values") {
    bad(with("action", "fire"), "action");
    bad(with("action", "TRIGGER"), "action");
    bad(with("severity", "critical"), "severity");
    bad(with("severity", "High"), "severity");
  }
  SECTION("resolves need no summary or severity, but check them if given") {
    json resolve{{"event_manager_id", validation_manager()},
                 {"action", "resolve"},
                 {"dedupKey", "v-none"}};
    CHECK(s.post_event(resolve).status == 202);
    auto no_key = resolve;
    no_key.erase("dedupKey");
    bad(no_key, "dedupKey");
    auto no_manager = resolve;
    no_manager.erase("event_manager_id");
    bad(no_manager, "event_manager_id");
    auto bad_severity = resolve;
    bad_severity["severity"] = "urgent";
    bad(bad_severity, "severity");
    auto bad_summary = resolve;
    bad_summary["summary"] = 3;
    bad(bad_summary, "summary");
  }
  REQUIRE(s.settle());
  CHECK(s.alerts("event_manager_id=" + validation_manager()).empty());
}

TEST_CASE("ids and dedupKeys are limited to 1024 bytes", "[integration]") {
  auto& s = validation_server();
  auto m = validation_manager();
  std::string long_key(1025, 'k');
  check_rejected(s, s.post_event(with("dedupKey", long_key)), 400, "dedupKey");
  std::string long_manager(1025, 'm');
  check_rejected(s, s.post_event(with("event_manager_id", long_manager)), 400,
                 "event_manager_id");
  // Multi-byte characters count in bytes: 513 two-byte characters.
  std::string wide;
  for (int i = 0; i < 513; ++i)
    wide += "\xc3\xa9";
  check_rejected(s, s.post_event(with("dedupKey", wide)), 400, "dedupKey");
  // Exactly 1024 bytes is fine.
  std::string max_key(1024, 'k');
  auto ok = s.post_event(with("dedupKey", max_key));
  INFO(ok.text);
  CHECK(ok.status == 202);
  auto a = s.await_alert(m, max_key);
  REQUIRE(a.is_object());
  CHECK(a["dedupKey"] == max_key);
}

TEST_CASE("an unknown event manager is a 404 at ingest", "[integration]") {
  auto& s = validation_server();
  auto nobody = unique_name("nobody");
  auto e = trigger_event(nobody, "k");
  check_rejected(s, s.post_event(e), 404, nobody);
  CHECK(s.post_event(e).error_code() == "NOT_FOUND");
  json resolve{
      {"event_manager_id", nobody}, {"action", "resolve"}, {"dedupKey", "k"}};
  check_rejected(s, s.post_event(resolve), 404, nobody);
  REQUIRE(s.settle());
  CHECK(s.alerts("event_manager_id=" + nobody).empty());
}

TEST_CASE("bodies over max_body_bytes are 413", "[integration]") {
  server_options opts;
  opts.max_body_bytes = 2048;
  server s{opts};
  auto m = s.fresh_manager("host");
  auto big = trigger_event(m, "big");
  big["padding"] = std::string(3000, 'x');
  auto res = s.post_event(big);
  INFO(res.text);
  CHECK(res.status == 413);
  CHECK(res.is_error_envelope());
  CHECK(res.error_code() == "PAYLOAD_TOO_LARGE");
  CHECK(s.http().get("/healthz").status == 200);
  // Just under the limit is fine.
  auto fits = trigger_event(m, "fits");
  fits["padding"] = std::string(1500, 'x');
  REQUIRE(fits.dump().size() < 2048);
  CHECK(s.post_event(fits).status == 202);
  CHECK(s.await_alert(m, "fits").is_object());
  REQUIRE(s.settle());
  CHECK(s.alert(m, "big").is_null());

  SECTION("a chunked body is limited too") {
    auto chunked = trigger_event(m, "big-chunked");
    chunked["padding"] = std::string(3000, 'x');
    auto res = s.http().post_chunked("/v1/events", chunked.dump());
    INFO(res.text);
    CHECK(res.status == 413);
    CHECK(res.error_code() == "PAYLOAD_TOO_LARGE");
    REQUIRE(s.settle());
    CHECK(s.alert(m, "big-chunked").is_null());
    // A small chunked body is fine.
    auto small = trigger_event(m, "small-chunked");
    CHECK(s.http().post_chunked("/v1/events", small.dump()).status == 202);
    CHECK(s.await_alert(m, "small-chunked").is_object());
  }
  CHECK(s.stop() == 0);
}

TEST_CASE("the default body limit is 1 MiB", "[integration]") {
  auto& s = validation_server();
  auto m = validation_manager();
  auto big = trigger_event(m, "mib");
  big["padding"] = std::string(1024 * 1024 + 10, 'x');
  auto res = s.post_event(big);
  INFO(res.text.substr(0, 200));
  CHECK(res.status == 413);
  CHECK(res.error_code() == "PAYLOAD_TOO_LARGE");
  auto fits = trigger_event(m, "almost-mib");
  fits["padding"] = std::string(1000 * 1000, 'x');
  CHECK(s.post_event(fits).status == 202);
  CHECK(s.await_alert(m, "almost-mib").is_object());
  CHECK(s.health()["status"] == "ok");
}

TEST_CASE("numbers beyond a double are invalid JSON (400), not a 500",
          "[integration]") {
  auto& s = validation_server();
  auto m = validation_manager();
  auto event = trigger_event(m, "overflow").dump();
  event.pop_back();
  for (auto number : {"1e999", "-1e400"}) {
    INFO("number " << number);
    auto res =
        s.http().post_raw("/v1/events", event + ",\"n\":" + number + "}");
    check_rejected(s, res, 400, "");
    auto rule =
        s.http().post_raw("/v1/grouping-rules",
                          std::string{"{\"name\":\"r\",\"grouping_key\":\"h\","
                                      "\"time_window_minutes\":"} +
                              number + "}");
    check_rejected(s, rule, 400, "");
  }
  REQUIRE(s.settle());
  CHECK(s.alert(m, "overflow").is_null());
}

TEST_CASE("the server survives a burst of bad inputs", "[integration]") {
  auto& s = validation_server();
  auto& http = s.http();
  std::vector<std::string> bodies = {
      "",
      "{",
      "}",
      "[",
      std::string("\x00\x01\x02", 3),
      "{\"a\":",
      "\xff\xff\xff",
      "{\"event_manager_id\": {\"deep\": [[[[[[[[[[]]]]]]]]]]}}",
      std::string(5000, '['),
      "{\"event_manager_id\": \"\\ud800\"}"};
  for (auto& body : bodies) {
    auto res = http.post_raw("/v1/events", body);
    INFO("body: " << body.substr(0, 60) << " -> " << res.text);
    CHECK(res.status == 400);
    CHECK(res.is_error_envelope());
  }
  auto wrong_type = http.post_raw("/v1/events", "{}", "text/plain");
  CHECK(wrong_type.status == 400);
  CHECK(s.health()["status"] == "ok");
  // Still working: a valid event goes through.
  auto m = s.fresh_manager("host");
  s.trigger(m, "after-burst");
  CHECK(s.await_alert(m, "after-burst").is_object());
}
