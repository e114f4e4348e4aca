// The DOM-free reader of Alertmanager posts (http/am_alert_reader.hpp):
// a body it reads must give exactly the alerts the DOM path
// (parse_body, then parse_postable_alert per element) gives; a body it is
// not sure of must be left to the DOM path, which words the errors.

#include "http/alertmanager_json.hpp"
#include "http/am_alert_reader.hpp"
#include "http/json.hpp"
#include "http/strict_json.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using argus::domain::postable_alert;
using argus::http::parse_body;
using argus::http::parse_postable_alert;
using argus::http::read_postable_alerts;

/// The alerts as the DOM path reads `body`; fails the test if it cannot.
std::vector<postable_alert> dom_alerts(const std::string& body) {
  auto parsed = parse_body(body);
  REQUIRE(parsed);
  REQUIRE(parsed->is_array());
  std::vector<postable_alert> out;
  for (auto& j : *parsed) {
    auto a = parse_postable_alert(j);
    REQUIRE(a);
    out.push_back(std::move(*a));
  }
  return out;
}

void check_same(const std::vector<postable_alert>& fast,
                const std::vector<postable_alert>& dom) {
  REQUIRE(fast.size() == dom.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    CHECK(fast[i].labels == dom[i].labels);
    CHECK(fast[i].annotations == dom[i].annotations);
    CHECK(fast[i].starts_at == dom[i].starts_at);
    CHECK(fast[i].ends_at == dom[i].ends_at);
    CHECK(fast[i].generator_url == dom[i].generator_url);
  }
}

} // namespace

TEST_CASE("the fast reader reads Alertmanager posts as the DOM path does",
          "[alertmanager][json]") {
  std::vector<std::string> bodies = {
      "[]",
      " [ ] \n",
      R"([{"labels":{"alertname":"Up","job":"api"}}])",
      // As Prometheus posts: times, URL, several alerts.
      R"([{"labels":{"alertname":"HighLatency","severity":"critical"},)"
      R"("annotations":{"summary":"p99 over 1 s"},)"
      R"("startsAt":"2026-12-02T11:33:32.083Z",)"
      R"("endsAt":"2026-12-02T11:37:32.083+00:00",)"
      R"("generatorURL":"http://prom:9090/graph?g0.expr=up"},)"
      R"({"labels":{"alertname":"Down"},"endsAt":"0001-01-01T00:00:00Z"}])",
      // Nulls count as missing; empty values are kept as sent.
      R"([{"labels":{"a":"","b":"x"},"annotations":null,"startsAt":null,)"
      R"("endsAt":null,"generatorURL":null}])",
      // Members parse_postable_alert does not read, of every kind.
      R"([{"status":{"state":"active","silencedBy":[]},"n":-1.5e3,)"
      R"("t":true,"f":false,"z":null,"arr":[1,[2,{"x":"y"}]],)"
      R"("labels":{"alertname":"X"},"fingerprint":"abc"}])",
      // Escapes in keys and values, and text beyond ASCII.
      R"([{"lab\u0065ls":{"a\"b":"c\\d\n\t\u00e9 \ud83d\ude80","g":"grö"}}])",
      // Labels not in order (Prometheus sorts them; amtool need not).
      R"([{"labels":{"zone":"z","alertname":"A","job":"j","b":"1"}}])",
      // Escapes at and across the strict checker's 8-byte words.
      R"([{"labels":{"abcdefg\"hij":"abcdefgh\\ijklmnop\u0041qrstuvw\n"}}])",
      // Unknown members given twice are not read, as in the DOM path.
      R"([{"labels":{"a":"b"},"x":1,"x":2}])",
      // White space wherever JSON allows it, around keys and colons too.
      " [ { \"labels\" :\n{ \"a\"\t: \"b\" , \"c\" : \"\" } ,\r\n"
      " \"x\" : [ 1 , { \"y\" : null } ] , \"startsAt\" : null } ] ",
      // Escaped keys of members not read, and escapes next to quotes.
      R"([{"labels":{"\\":"\"","q\"":"\\"},"x\u0079":"\/","\"":{}}])",
  };
  // Many labels in reverse order: sorted once, not moved per insert.
  std::string many = R"([{"labels":{)";
  for (int i = 100000; i > 0; --i)
    many += "\"k" + std::to_string(i) + "\":\"v\",";
  many.back() = '}';
  bodies.push_back(many + "}]");
  for (auto& body : bodies) {
    INFO(body);
    auto fast = read_postable_alerts(body);
    REQUIRE(fast);
    check_same(*fast, dom_alerts(body));
  }
}

TEST_CASE("the fast reader reads large posts with buffers of their own",
          "[alertmanager][json]") {
  // Past 32 KiB the thread's buffers are not used; twice in a row, so a
  // second large body finds nothing left over from the first.
  for (int round = 0; round < 2; ++round) {
    std::string body = "[";
    for (int i = 0; i < 400; ++i)
      body += std::string{i == 0 ? "" : ","} +
              R"({"labels":{"alertname":"Big","instance":"host-)" +
              std::to_string(i + round) +
              R"("},"annotations":{"summary":"a long enough summary"}})";
    body += "]";
    REQUIRE(body.size() > (size_t{32} << 10));
    auto fast = read_postable_alerts(body);
    REQUIRE(fast);
    REQUIRE(fast->size() == 400);
    check_same(*fast, dom_alerts(body));
  }
}

TEST_CASE("the fast reader leaves what it is not sure of to the DOM path",
          "[alertmanager][json]") {
  const std::vector<std::string> bodies = {
      "",
      "{}",
      "[1]",
      "[null]",
      R"([{"labels":{"a":"b"}}] x)",
      R"([{"labels":{"a":"b"}})",
      R"([{"annotations":{}}])",                      // no labels
      R"([{"labels":null}])",                         // labels null
      R"([{"labels":[]}])",                           // not an object
      R"([{"labels":{"a":1}}])",                      // a value not a string
      R"([{"labels":{"a":"b","a":"c"}}])",            // a label twice
      R"([{"labels":{"b":"1","a":"2","b":"3"}}])",    // not in a row
      R"([{"labels":{"a":"b"},"labels":{"c":"d"}}])", // labels twice
      R"([{"labels":{"a":"b"},"annotations":"x"}])",
      R"([{"labels":{"a":"b"},"startsAt":"yesterday"}])",
      R"([{"labels":{"a":"b"},"endsAt":5}])",
      R"([{"labels":{"a":"b"},"generatorURL":{}}])",
      // Bad text in a member the reader does not read: the DOM refuses
      // the whole body.
      R"([{"labels":{"a":"b"},"x":01}])",
      R"([{"labels":{"a":"b"},"x":"\q"}])",
      R"([{"labels":{"a":"b"},"x":"\ud800"}])",
      R"([{"labels":{"a":"b"},"x":1e999}])",
      R"([{"labels":{"a":"b"},"x":tru}])",
      // A raw control byte inside a long string, and long strings left
      // open, as the strict checker scans them a word at a time.
      "[{\"labels\":{\"a\":\"b\"},\"x\":\"abcdefghij\x01kl\"}]",
      "[{\"labels\":{\"a\":\"abcdefghijkl\x1fmnopqrstu\"}}]",
      R"([{"labels":{"a":"b"},"x":"abcdefghijklmnop)",
      R"([{"labels":{"a":"b"},"x":"abcdefghijklmnop\)",
      // Structure the reader walks: what On-Demand checks as it goes.
      R"([{"labels":{"a":"b",}}])",
      R"([{"labels":{"a":"b"},}])",
      R"([{"labels":{"a":"b"}},])",
      R"([{"labels":{"a" "b"}}])",
      R"([{"labels":{"a":"b"} "x":1}])",
      R"([{"labels":{"a":"b"}} {"labels":{"c":"d"}}])",
      // Bad escapes in keys and values the reader reads or skips.
      R"([{"labels":{"a\q":"b"}}])",
      R"([{"labels":{"a":"b\ud800"}}])",
      R"([{"labels":{"a":"b"},"x\q":1}])",
      R"([{"labels":{"a":"b"},"\u12":1}])",
      R"([{"labels":{"a":"b"},"startsAt":"\udc00"}])",
      R"([{"labels":{"a":"b"},"generatorURL":"http://x/\x"}])",
      // Bad text inside containers the reader does not read.
      R"([{"labels":{"a":"b"},"x":[1,,2]}])",
      R"([{"labels":{"a":"b"},"x":{"a" 1}}])",
      R"([{"labels":{"a":"b"},"x":{"a":[tru]}}])",
      R"([{"labels":{"a":"b"},"annotations":nul}])",
      R"([{"labels":{"a":"b"},"annotations":nullx}])",
      // A string followed by a colon in a member the reader does not
      // read: On-Demand would skip it as a key and the rest as its value.
      R"([{"labels":{"a":"b"},"x":"":1},"y":2}])",
      R"([{"x":"":1},"labels":{"a":"b"}}])",
      R"([{"labels":{"a":"b"},"x":"":1}},{"labels":{"c":"d"}}])",
      // Raw control bytes in keys, which stage 1 refuses.
      "[{\"labels\":{\"a\x02\":\"b\"}}]",
      "[{\"labels\":{\"a\":\"b\"},\"x\n\":1}]",
  };
  for (auto& body : bodies) {
    INFO(body);
    CHECK_FALSE(read_postable_alerts(body));
  }
}

TEST_CASE("the fast reader leaves members past the depth limit to the DOM "
          "path",
          "[alertmanager][json]") {
  // The body's array and the alert's object are two levels of 1,024.
  auto nested = [](size_t levels) {
    return R"([{"labels":{"a":"b"},"x":)" + std::string(levels, '[') +
           std::string(levels, ']') + "}]";
  };
  auto deepest = nested(argus::http::max_event_depth - 2);
  auto fast = read_postable_alerts(deepest);
  REQUIRE(fast);
  check_same(*fast, dom_alerts(deepest));
  CHECK_FALSE(read_postable_alerts(nested(argus::http::max_event_depth - 1)));
}
