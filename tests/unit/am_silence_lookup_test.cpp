// What silence matchers read of a listed Alertmanager alert: the reader
// every silence check uses (`details_reader_of`, a walk of the details
// for strings, a DOM otherwise) must give, for the details the
// Alertmanager API writes and their variants, what `grouping_text` gives
// on the DOM.

#include "http/json.hpp"
#include "http/silence_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace {

using argus::http::details_reader_of;

std::optional<std::string> dom_text(const std::string& details,
                                    const std::string& name) {
  auto j = nlohmann::json::parse(details, nullptr, false);
  return argus::http::grouping_text(
      j.is_object() ? j : nlohmann::json::object(), name);
}

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
  for (std::string name : names) {
    CAPTURE(name);
    // A fresh reader per name: each answer from the walk where it can.
    CHECK(details_reader_of(a)(name) == dom_text(details, name));
  }
}
