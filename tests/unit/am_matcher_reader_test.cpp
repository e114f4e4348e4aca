// What silence matchers read of a listed Alertmanager alert
// (http/alertmanager_json.hpp's `am_matcher_reader`): from the labels the
// listing already read when the details are plain, from a DOM otherwise,
// and the same answer either way as the DOM reader (`details_reader_of`).

#include "http/alertmanager_json.hpp"
#include "http/am_details_reader.hpp"
#include "http/silence_json.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <string>

namespace {

using argus::http::am_details_of;
using argus::http::am_matcher_reader;
using argus::http::details_reader_of;

const char* const names[] = {"labels.alertname",
                             "labels.instance",
                             "labels.missing",
                             "labels.a.b",
                             "labels.",
                             "labels",
                             "annotations",
                             "annotations.s",
                             "startsAt",
                             "endsAt",
                             "generatorURL",
                             "alertname",
                             "instance",
                             "other",
                             "other.x",
                             "labels.n",
                             "labels.obj",
                             "",
                             "."};

} // namespace

TEST_CASE("a silence matcher reads a listed alert's details as the DOM does",
          "[unit]") {
  auto details = GENERATE(
      as<std::string>{},
      // As the Alertmanager API writes them: plain.
      R"({"annotations":{"s":"x"},"endsAt":"e","generatorURL":"g",)"
      R"("labels":{"alertname":"A","instance":"h:1","a.b":"dotted","":"e"},)"
      R"("startsAt":"s"})",
      R"({"labels":{"alertname":"A"},"labels":{"instance":"h:2"}})",
      // Not plain: another top-level member, one named like a path, or a
      // label that is not a string.
      R"({"labels":{"alertname":"A"},"alertname":"top","other":{"x":1}})",
      R"({"labels":{"instance":"h"},"labels.instance":"shadowed"})",
      R"({"labels":{"n":1,"obj":{"k":"v"},"alertname":null,"instance":"h"}})",
      R"({"labels":{"n":"first","n":2}})", R"({"labels":{"n":2,"n":"last"}})",
      // Labels that are not an object, and text that is not JSON.
      R"({"labels":"text"})", R"({"labels":null})", "not json");
  CAPTURE(details);
  argus::domain::alert a;
  a.details = details;
  auto fields = am_details_of(a);
  auto fast = am_matcher_reader(a, fields);
  auto dom = details_reader_of(a);
  for (std::string name : names) {
    CAPTURE(name);
    CHECK(fast(name) == dom(name));
  }
}

TEST_CASE("plain details answer a label without a DOM", "[unit]") {
  auto plain = argus::http::read_am_filter_fields(
      R"({"labels":{"a":"1"},"annotations":{"b":2},"endsAt":"e"})");
  REQUIRE(plain);
  CHECK(plain->plain);
  // The last of a name given twice decides, as in the DOM.
  auto last_wins =
      argus::http::read_am_filter_fields(R"({"labels":{"a":1,"a":"1"}})");
  REQUIRE(last_wins);
  CHECK(last_wins->plain);
  for (auto text : {R"({"labels":{"a":"1"},"extra":1})",
                    R"({"labels":{"a":1}})", R"({"labels":{"a":"1","a":1}})"}) {
    CAPTURE(text);
    auto fields = argus::http::read_am_filter_fields(text);
    REQUIRE(fields);
    CHECK(!fields->plain);
  }
  // Details the DOM reads are never plain.
  argus::domain::alert a;
  a.details = "[]";
  CHECK(!am_details_of(a).plain);
}
