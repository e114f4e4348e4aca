// The DOM-free reader of what an Alertmanager listing filters on
// (http/am_details_reader.hpp): the labels and endsAt it reads out of an
// alert's details must be what nlohmann-json's DOM of the same text holds,
// and a text it cannot read must be left to the DOM path. What it reads
// for the listed alerts' texts is checked by gettable_alert_text_test.cpp.

#include "http/alertmanager_json.hpp"
#include "http/am_details_reader.hpp"
#include "http/silence_json.hpp"

#include "domain/alertmanager.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using argus::domain::label_set;
using argus::http::am_fields;
using argus::http::am_parts;
using nlohmann::json;

/// `read_am_fields` of `text`, none when it fails.
std::optional<am_fields> read_am_fields(std::string_view text, am_parts parts) {
  am_fields out;
  if (!argus::http::read_am_fields(text, parts, out))
    return std::nullopt;
  return out;
}

/// The fields as a DOM of `text` holds them (its duplicate members keep
/// the last value).
am_fields dom_fields(const std::string& text) {
  auto j = json::parse(text);
  am_fields out;
  if (auto labels = j.find("labels"); labels != j.end() && labels->is_object())
    for (auto& [name, value] : labels->items())
      if (value.is_string())
        out.labels.emplace(name, value.get<std::string>());
  if (auto ends = j.find("endsAt"); ends != j.end() && ends->is_string())
    out.ends_at = ends->get<std::string>();
  return out;
}

} // namespace

TEST_CASE("the details reader gives the labels and endsAt a DOM holds",
          "[unit]") {
  auto text =
      GENERATE(as<std::string>{},
               // As am_details_text writes them.
               R"({"labels":{"alertname":"DiskFull","class":"db"},)"
               R"("annotations":{"summary":"disk full"},)"
               R"("startsAt":"2026-12-07T10:00:00Z",)"
               R"("endsAt":"2026-12-07T10:05:00Z",)"
               R"("generatorURL":"http://prom/graph"})",
               // Members in any order, nested values skipped.
               R"({"endsAt":"x","extra":{"labels":{"a":"b"}},)"
               R"("labels":{"z":"1","a":"2"},"more":[1,{"endsAt":2}]})",
               // Non-string label values are not labels.
               R"({"labels":{"a":1,"b":"two","c":null,"d":{"e":"f"},)"
               R"("g":["h"],"i":true,"j":""}})",
               // Of a member given twice, the last.
               R"({"labels":{"a":"1","a":"2","b":"3"},"endsAt":"t1",)"
               R"("endsAt":"t2"})",
               R"({"labels":{"a":"1"},"labels":{"b":"2"}})",
               R"({"labels":{"a":"1"},"labels":"not an object"})",
               R"({"endsAt":"t1","endsAt":5})",
               // A last value that is not a string drops the name.
               R"({"labels":{"a":"b","a":1}})",
               R"({"labels":{"a":"b","\u0061":[],"c":"d"}})",
               R"({"labels":{"a":null,"a":"b","a":{}}})",
               R"({"labels":{"a":null,"a":"b"}})",
               R"({"labels":{"a":"b"},"labels":{"c":"d","c":1}})",
               // Names in any order, given twice or not.
               R"({"labels":{"z":"1","b":"2","z":"3","a":"4"}})",
               // Escapes in keys and values.
               R"({"labe\u006cs":{"k\"ey":"v\\al\u00e9"},)"
               R"("ends\u0041t":"\u0032026"})",
               // Labels or endsAt of other types, or missing.
               R"({"labels":["a","b"],"endsAt":null})", R"({"labels":null})",
               R"({})", R"({"summary":"a native event's details"})",
               // White space.
               " { \"labels\" : { \"a\" : \"b\" } , \"endsAt\" : "
               "\"t\" } ");
  auto parts = GENERATE(am_parts::filter, am_parts::both);
  CAPTURE(text, static_cast<int>(parts));
  auto fast = read_am_fields(text, parts);
  REQUIRE(fast);
  auto dom = dom_fields(text);
  CHECK(fast->labels == dom.labels);
  CHECK(fast->ends_at == dom.ends_at);
}

TEST_CASE("the details reader leaves what is not a JSON object to the DOM",
          "[unit]") {
  auto text =
      GENERATE(as<std::string>{}, "", "not json", "[1,2]", "\"text\"",
               "{\"labels\":{\"a\":\"b\"}", "{\"labels\":{\"a\":\"b\"}}x",
               "{\"labels\":{\"a\":\"b\"}} {}", "{\"labels\":{\"a\":}}",
               "{\"labels\":{\"a\" \"b\"}}", "{\"a\":\"\xff\"}");
  CAPTURE(text);
  // (The listing part alone skips the labels, and does not check what
  // it skips.)
  for (auto parts : {am_parts::filter, am_parts::both})
    CHECK(!read_am_fields(text, parts));
}

TEST_CASE("the details reader reads details larger than a thread keeps",
          "[unit]") {
  std::string big(100 * 1024, 'x');
  auto text = R"({"annotations":{"description":")" + big +
              R"("},"labels":{"a":")" + big + R"("},"endsAt":"t"})";
  auto fast = read_am_fields(text, am_parts::both);
  REQUIRE(fast);
  CHECK(fast->labels == label_set{{"a", big}});
  CHECK(fast->annotations == label_set{{"description", big}});
  CHECK(fast->ends_at == "t");
  // The thread's own parser still reads small details after it.
  auto small = read_am_fields(R"({"labels":{"b":"c"}})", am_parts::filter);
  REQUIRE(small);
  CHECK(small->labels == label_set{{"b", "c"}});
}

TEST_CASE("an alert's listing fields come from its details, read either way",
          "[unit]") {
  argus::domain::alert a;
  a.details = R"({"labels":{"alertname":"X","job":"api"},)"
              R"("endsAt":"2026-12-07T10:05:00Z"})";
  auto details = argus::http::am_details_of(a);
  CHECK(details.walked == am_parts::filter);
  CHECK(details.fields.labels == label_set{{"alertname", "X"}, {"job", "api"}});
  CHECK(details.ends_at ==
        *argus::domain::parse_am_time("2026-12-07T10:05:00Z"));
  // Both parts, an annotation that is not a string: the labels and end
  // still come from the walk (the alert's text will come from a DOM).
  a.details = R"({"labels":{"alertname":"X"},"annotations":{"n":1},)"
              R"("endsAt":"2026-12-07T10:05:00Z"})";
  details = argus::http::am_details_of(a, am_parts::both);
  CHECK(details.walked == am_parts::both);
  CHECK_FALSE(details.fields.annotations_are_strings);
  CHECK(details.fields.labels == label_set{{"alertname", "X"}});
  CHECK(details.ends_at ==
        *argus::domain::parse_am_time("2026-12-07T10:05:00Z"));
  // Annotations the filter's walk skips but a walk of both refuses: the
  // filter's walk still reads the labels, as for a filtered listing.
  a.details = R"({"labels":{"alertname":"X"},"annotations":{"a" "b"}})";
  details = argus::http::am_details_of(a, am_parts::both);
  CHECK(details.walked == am_parts::filter);
  CHECK(details.fields.labels == label_set{{"alertname", "X"}});
  // Not JSON: the DOM path reads no labels and no end.
  a.details = "not json";
  details = argus::http::am_details_of(a, am_parts::both);
  CHECK_FALSE(details.walked);
  CHECK(details.fields.labels.empty());
  CHECK(details.ends_at == argus::domain::no_time);
}

TEST_CASE("the details reader reads many labels in any order as a DOM does",
          "[unit]") {
  // Inserted one by one, names in reverse order cost O(n^2): a stored
  // event with 100,000 such labels made each listing of its manager take
  // seconds.
  std::string text = R"({"labels":{)";
  for (int i = 100000; i > 0; --i) {
    auto name = "k" + std::to_string(i);
    text += "\"" + name + "\":\"v" + std::to_string(i) + "\",";
    if (i % 3 == 0)
      text += "\"" + name + "\":" + (i % 2 ? "1," : "\"again\",");
  }
  text.back() = '}';
  text += "}";
  auto fast = read_am_fields(text, am_parts::filter);
  REQUIRE(fast);
  auto dom = dom_fields(text);
  CHECK(fast->labels.size() == dom.labels.size());
  CHECK(fast->labels == dom.labels);
}

TEST_CASE("a listing's lookups by name answer as the details reader does",
          "[unit]") {
  auto text = GENERATE(
      as<std::string>{},
      // As am_details_text writes them.
      R"({"annotations":{"summary":"s"},"endsAt":"e","generatorURL":"u",)"
      R"("labels":{"alertname":"X","a":"1","empty":""},"startsAt":"s"})",
      // No labels, labels of another type, values that are not strings.
      R"({"annotations":{"a":"2"}})", R"({"labels":"text"})",
      R"({"labels":null})", R"({"labels":{"a":1,"b":"2"}})",
      R"({"labels":{"a":"1","a":null}})", R"({"labels":{"a":{"b":"c"}}})",
      R"({"labels":{"a":"1"},"labels":{"b":"2"}})",
      // Root members of other names, one that a dotted name reads whole.
      R"({"labels":{"a":"1"},"a":"root"})",
      R"({"labels":{"a":"1"},"labels.a":"literal"})",
      R"({"labels":{"a.b":"dotted"}})", R"({"extra":{"x":[1]}})",
      R"({"labels":{"":"x","empty":""}})",
      // Not JSON.
      "not json");
  auto parts = GENERATE(am_parts::filter, am_parts::both);
  argus::domain::alert a;
  a.details = text;
  auto details = argus::http::am_details_of(a, parts);
  auto listing = argus::http::am_details_reader(a, details);
  auto reader = argus::http::details_reader_of(a);
  // Each name twice: a reader answers the same on a second read.
  std::vector<std::string> names{"a",
                                 "b",
                                 "alertname",
                                 "missing",
                                 "labels.a",
                                 "labels.b",
                                 "labels.alertname",
                                 "labels.missing",
                                 "labels.a.b",
                                 "labels.",
                                 "labels",
                                 "annotations",
                                 "annotations.a",
                                 "annotations.summary",
                                 "endsAt",
                                 "startsAt",
                                 "generatorURL",
                                 "extra",
                                 "extra.x",
                                 "",
                                 "empty",
                                 "labels.empty",
                                 ".",
                                 "labels..",
                                 "a."};
  for (size_t i = 0; i < 2 * names.size(); ++i) {
    auto& name = names[i % names.size()];
    CAPTURE(text, static_cast<int>(parts), name);
    CHECK(listing(name) == reader(name));
  }
}
