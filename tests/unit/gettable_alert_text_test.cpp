// The text of a listed Alertmanager alert (http/alertmanager_json.hpp's
// `append_gettable_alert_text`): written from the details without a DOM,
// it must be nlohmann-json's dump of `to_gettable_alert`, byte for byte,
// whatever JSON the details hold (stored details are JSON Argus wrote; the
// walk does not re-check the grammar of members it skips), so amtool and
// dashboards read the same listing either way.

#include "http/alertmanager_json.hpp"
#include "http/am_details_reader.hpp"

#include "domain/alertmanager.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace {

using argus::domain::label_set;
using argus::http::am_fields;
using argus::http::am_parts;
using argus::http::append_gettable_alert_text;
using argus::http::read_am_fields;
using argus::http::to_gettable_alert;
using nlohmann::json;

argus::domain::alert alert_with(std::string details) {
  argus::domain::alert a;
  a.event_manager_id = argus::domain::shared_text{"payments"};
  a.dedup_key = "1f2e3d4c5b6a7980";
  a.created_at = argus::domain::time_point{std::chrono::seconds{1796630400}};
  a.updated_at = a.created_at + std::chrono::milliseconds{1500};
  a.details = std::move(details);
  return a;
}

/// What the DOM path answers for `a`.
std::string dom_text(const argus::domain::alert& a, const label_set& labels,
                     const std::vector<std::string>& silences) {
  return to_gettable_alert(a, labels, silences)
      .dump(-1, ' ', false, json::error_handler_t::replace);
}

/// The listing's text of `a`, its details read in `parts` as a listing
/// reads them (`filter`: the rest in a second walk), with `labels`
/// instead of theirs.
std::string text_of(const argus::domain::alert& a, const label_set& labels,
                    const std::vector<std::string>& silences, am_parts parts) {
  auto details = argus::http::am_details_of(a, parts);
  details.fields.labels = labels;
  std::string out;
  append_gettable_alert_text(out, a, details, silences);
  return out;
}

/// Checks that both ways of reading `a` write the DOM's text.
void check_both_ways(const argus::domain::alert& a, const label_set& labels,
                     const std::vector<std::string>& silences) {
  auto dom = dom_text(a, labels, silences);
  CHECK(text_of(a, labels, silences, am_parts::filter) == dom);
  CHECK(text_of(a, labels, silences, am_parts::both) == dom);
}

} // namespace

TEST_CASE("a listed alert's text is the DOM's dump of it", "[unit]") {
  auto details = GENERATE(
      as<std::string>{},
      // As am_details_text writes them.
      R"({"annotations":{"description":"a\nb","summary":"disk full"},)"
      R"("endsAt":"2026-12-07T10:05:00Z","generatorURL":"http://prom/g?x=1",)"
      R"("labels":{"alertname":"DiskFull","class":"db"},)"
      R"("startsAt":"2026-12-07T10:00:00Z"})",
      // Members missing, or of other types: the alert's own times.
      R"({"labels":{"a":"b"}})", R"({})",
      R"({"annotations":null,"startsAt":1,"endsAt":[],"generatorURL":{}})",
      R"({"annotations":"text","startsAt":"","endsAt":""})",
      // Any order, a member given twice (the last wins), escapes.
      R"({"startsAt":"s","annotations":{"z":"1","a":"2","z":"3"},)"
      R"("generatorURL":"u1","generatorURL":"u\/2\u00e9\u0001\t\"\\"})",
      R"({"annotations":{"a":"1"},"annotations":{"b":"\ud83d\ude00"}})",
      R"({"endsAt":"e","extra":{"annotations":{"x":1}},"more":[1,"2"]})",
      R"({"startsAt" : "s\"" , "generatorURL" : "u\u0041\n" ,)"
      R"( "annotations" : { "a" : "b" } })",
      // Annotations that are not all strings come from the DOM.
      R"({"annotations":{"a":1,"b":"two","c":null,"d":{"e":["f"]}}})",
      R"({"annotations":{"a":"1","a":true}})",
      // Not an object simdjson reads: from the DOM as well.
      "not json", R"({"annotations":{"a":"b"})", R"([1])");
  auto silences = GENERATE(
      as<std::vector<std::string>>{}, std::vector<std::string>{},
      std::vector<std::string>{"s-1"}, std::vector<std::string>{"s-1", "s\"2"});
  CAPTURE(details, silences);
  auto a = alert_with(details);
  label_set labels{{"alertname", "DiskFull"}, {"empty", ""}, {"q\"", "\x7f"}};
  check_both_ways(a, labels, silences);
}

TEST_CASE("the listing fields are read without a DOM when they are strings",
          "[unit]") {
  std::string details =
      R"({"annotations":{"summary":"s","a":"x","a":"y"},"startsAt":"t0",)"
      R"("endsAt":"t1","endsAt":"t2","generatorURL":5,"labels":{"k":1}})";
  for (auto parts : {am_parts::listing, am_parts::both}) {
    am_fields fields;
    REQUIRE(read_am_fields(details, parts, fields));
    CHECK(fields.annotations_are_strings);
    CHECK(fields.annotations == label_set{{"a", "y"}, {"summary", "s"}});
    CHECK(fields.starts_at == "t0");
    CHECK(fields.ends_at == "t2");
    CHECK(fields.generator_url.empty());
  }
  // The filter part reads none of it but the end.
  am_fields filter;
  REQUIRE(read_am_fields(details, am_parts::filter, filter));
  CHECK(filter.annotations.empty());
  CHECK(filter.starts_at.empty());
  CHECK(filter.ends_at == "t2");
  // The DOM keeps an annotation of another type as it is: left to it,
  // unless a later one of that name is a string.
  for (auto [text, strings] :
       {std::pair{R"({"annotations":{"n":1}})", false},
        std::pair{R"({"annotations":{"n":"1","n":true}})", false},
        std::pair{R"({"annotations":{"n":true,"n":"1"}})", true},
        std::pair{R"({"annotations":{"n":1},"annotations":{"m":"2"}})", true},
        std::pair{R"({"annotations":{"m":"2"},"annotations":{"n":1}})", false},
        std::pair{R"({"annotations":{"n":1},"annotations":"text"})", true}}) {
    CAPTURE(text);
    am_fields fields;
    REQUIRE(read_am_fields(text, am_parts::listing, fields));
    CHECK(fields.annotations_are_strings == strings);
  }
}

TEST_CASE("a listed alert's keys that are not UTF-8 are written as the DOM "
          "replaces them",
          "[unit]") {
  auto a = alert_with(R"({"annotations":{"a":"b"}})");
  a.event_manager_id = argus::domain::shared_text{"bad\xc3("};
  label_set labels{{"alertname", "X"}};
  std::vector<std::string> silences{"ok", "bad\xff"};
  check_both_ways(a, labels, silences);
  check_both_ways(a, labels, {});
  a.event_manager_id = argus::domain::shared_text{"payments"};
  check_both_ways(a, labels, silences);
}

TEST_CASE("a listed alert's text is appended to what the listing holds",
          "[unit]") {
  auto a = alert_with(R"({"annotations":{"a":"b"}})");
  label_set labels{{"alertname", "X"}};
  auto details = argus::http::am_details_of(a);
  details.fields.labels = labels;
  std::string out = "[";
  append_gettable_alert_text(out, a, details, {});
  out += ",";
  append_gettable_alert_text(out, a, details, {"s"});
  out += "]";
  auto listing = json::parse(out);
  REQUIRE(listing.size() == 2);
  CHECK(listing[0] == to_gettable_alert(a, labels, {}));
  CHECK(listing[1]["status"]["state"] == "suppressed");
  CHECK(listing[1]["status"]["silencedBy"] == json::array({"s"}));
}
