// The Alertmanager front's details and field lookup
// (http/alertmanager_json.hpp) are written without a JSON DOM. They must
// give exactly what the DOM did: the details as nlohmann-json dumps the
// same object, and each field as `grouping_text` reads it from the view
// a rule sees (the details with summary, severity and dedupKey beside
// them). The oracles below build those DOMs.

#include "domain/alertmanager.hpp"
#include "domain/types.hpp"
#include "http/alertmanager_json.hpp"
#include "http/json.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using argus::domain::admit_am_alert;
using argus::domain::from_millis;
using argus::domain::label_set;
using argus::domain::postable_alert;
using argus::domain::to_rfc3339;
using argus::http::am_details_text;
using argus::http::am_field;
using argus::http::grouping_text;
using nlohmann::json;

const auto now = from_millis(1'764'675'000'000); // 2025-12-02T11:30:00Z

json object_of(const label_set& set, bool skip_empty) {
  auto out = json::object();
  for (auto& [name, value] : set)
    if (!skip_empty || !value.empty())
      out[name] = value;
  return out;
}

/// The details as the DOM path built them before.
json details_dom(const postable_alert& posted,
                 const argus::domain::am_alert& admitted) {
  return json{{"labels", object_of(posted.labels, true)},
              {"annotations", object_of(posted.annotations, false)},
              {"startsAt", to_rfc3339(admitted.starts_at)},
              {"endsAt", to_rfc3339(admitted.ends_at)},
              {"generatorURL", posted.generator_url}};
}

std::vector<postable_alert> alerts() {
  std::vector<postable_alert> out;
  postable_alert plain;
  plain.labels = {{"alertname", "HighLatency"}, {"cluster", "eu-1"}};
  plain.annotations = {{"summary", "p99 over 1 s"}};
  out.push_back(plain);

  postable_alert odd;
  odd.labels = {{"alertname", "Quote\"Back\\slash"},
                {"ctl", std::string{"tab\tnl\nnul\0x\x1f end", 17}},
                {"empty", ""},
                {"unicode", "größe ✓ \xf0\x9f\x9a\x80"},
                {"slash", "a/b"}};
  odd.annotations = {{"blank", ""}, {"runbook", "https://x/y?a=1&b=\"2\""}};
  odd.generator_url = "http://prometheus:9090/graph?g0.expr=up%3D%3D0";
  odd.starts_at = now - std::chrono::minutes{3};
  odd.ends_at = now + std::chrono::hours{1};
  out.push_back(odd);

  postable_alert resolved;
  resolved.labels = {{"job", "api"}};
  resolved.ends_at = now - std::chrono::seconds{1};
  out.push_back(resolved);
  return out;
}

const std::vector<std::string> keys = {"summary",
                                       "severity",
                                       "dedupKey",
                                       "labels",
                                       "annotations",
                                       "startsAt",
                                       "endsAt",
                                       "generatorURL",
                                       "labels.alertname",
                                       "labels.cluster",
                                       "labels.empty",
                                       "labels.missing",
                                       "labels.ctl",
                                       "labels.unicode",
                                       "annotations.summary",
                                       "annotations.blank",
                                       "annotations.runbook",
                                       "annotations.missing",
                                       "labels.alertname.x",
                                       "labels.",
                                       "labels..x",
                                       "summary.x",
                                       "endsAt.x",
                                       "class",
                                       "class.x",
                                       "",
                                       ".",
                                       "alertname",
                                       "status.state"};

} // namespace

TEST_CASE("Alertmanager details are written as the DOM dumped them",
          "[alertmanager][json]") {
  for (auto& posted : alerts()) {
    auto admitted = admit_am_alert(posted, "am", {}, now);
    REQUIRE(admitted);
    auto text = am_details_text(posted, *admitted);
    CHECK(text == details_dom(posted, *admitted).dump());
    CHECK(json::parse(text).dump() == text); // compact, sorted, valid
  }
}

TEST_CASE("Alertmanager details are allocated once, at their length",
          "[alertmanager][json]") {
  // The text lives as long as the alert: no room left over, no doubling.
  // (Checked through capacity(): libstdc++'s reserve from an empty string
  // gives exactly what is asked for, past 30 bytes.)
  auto long_text = std::string(700, 'd');
  auto plain = alerts().front();
  plain.annotations["description"] = long_text;
  // Empty values, skipped in the labels and kept in the annotations, a
  // generatorURL, and nothing to escape.
  postable_alert sparse;
  sparse.labels = {{"alertname", "Sparse"}, {"empty", ""}, {"zone", "z"}};
  sparse.annotations = {{"unset_note", ""}, {"runbook", "https://x/y?a=1"}};
  sparse.generator_url = "http://prometheus:9090/graph?g0.expr=up";
  auto only_labels = alerts().back(); // no annotations, no generatorURL
  for (auto& posted : {plain, sparse, only_labels}) {
    auto admitted = admit_am_alert(posted, "am", {}, now);
    REQUIRE(admitted);
    auto text = am_details_text(posted, *admitted);
    INFO(text);
    CHECK(text == details_dom(posted, *admitted).dump());
    CHECK(text.capacity() == text.size());
  }
  // What needs escaping grows it, and is still written right.
  plain.annotations["description"] = std::string(700, '"');
  auto admitted = admit_am_alert(plain, "am", {}, now);
  REQUIRE(admitted);
  CHECK(am_details_text(plain, *admitted) ==
        details_dom(plain, *admitted).dump());
}

TEST_CASE("Alertmanager fields read as grouping_text reads the view",
          "[alertmanager][json]") {
  for (auto& posted : alerts()) {
    auto admitted = admit_am_alert(posted, "am", {}, now);
    REQUIRE(admitted);
    auto view = details_dom(posted, *admitted);
    view["summary"] = admitted->ev.summary;
    view["severity"] = argus::domain::to_string(admitted->ev.sev);
    view["dedupKey"] = admitted->ev.dedup_key;
    for (auto& key : keys) {
      INFO("key '" << key << "' of " << view.dump());
      CHECK(am_field(posted, *admitted, key) == grouping_text(view, key));
    }
  }
  // The values themselves, for the common rule.
  auto posted = alerts().front();
  auto admitted = admit_am_alert(posted, "am", {}, now);
  REQUIRE(admitted);
  CHECK(am_field(posted, *admitted, "labels.cluster") == "eu-1");
  CHECK(am_field(posted, *admitted, "labels.missing") == std::nullopt);
}
