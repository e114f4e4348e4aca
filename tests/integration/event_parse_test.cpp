// Event bodies through the DOM-free reader (http/event_json.hpp), end to
// end: details come back as sent, escapes decoded; a body nested too deep
// is a 400 and the server stays up.

#include "integration/harness.hpp"

#include <catch2/catch.hpp>

namespace {

using namespace argus::test;

} // namespace

TEST_CASE("event bodies are read without a DOM", "[integration]") {
  server s;
  auto m = s.fresh_manager("host");
  auto& http = s.http();
  std::string body =
      R"({"event_manager_id":")" + m +
      R"(","action":"trigger","dedupKey":"p-1","summary":"caf\u00e9",)"
      R"("severity":"high","host":"h\u0031","n":1.5e3,)"
      R"("labels":{"zone":"eu \"1\"","list":[1,true,null]}})";
  auto res = http.post_raw("/v1/events", body);
  INFO(res.text);
  REQUIRE(res.status == 202);
  auto a = s.await_alert(m, "p-1");
  REQUIRE(a.is_object());
  CHECK(a["summary"] == "caf\xc3\xa9");
  CHECK(a["grouping_value"] == "h1");
  CHECK(a["details"]["n"] == 1500.0);
  CHECK(a["details"]["host"] == "h1");
  CHECK(a["details"]["labels"] ==
        json{{"zone", "eu \"1\""}, {"list", {1, true, nullptr}}});

  SECTION("a body nested too deep is refused whole") {
    std::string deep = R"({"event_manager_id":")" + m +
                       R"(","action":"trigger","dedupKey":"p-deep",)"
                       R"("summary":"s","severity":"low","x":)" +
                       std::string(100000, '[') + std::string(100000, ']') +
                       "}";
    auto r = http.post_raw("/v1/events", deep);
    INFO(r.text);
    CHECK(r.status == 400);
    CHECK_THAT(r.error_message(), Catch::Contains("deeper than 1024"));
    auto b = http.post_raw("/v1/events/batch", "[" + deep + "]");
    CHECK(b.status == 400);
    CHECK(s.http().get("/healthz").status == 200);
    REQUIRE(s.settle());
    CHECK(s.alert(m, "p-deep").is_null());
  }
}
