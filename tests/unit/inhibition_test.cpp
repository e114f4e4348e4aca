// Inhibition (Alertmanager's inhibit_rules per manager), maintenance windows
// as silence states, and Alertmanager's in-place silence updates. Pure
// functions with explicit times.

#include "domain/alertmanager.hpp"
#include "domain/delivery.hpp"
#include "domain/error.hpp"
#include "domain/inhibition.hpp"
#include "domain/silence.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>

namespace {

using namespace std::chrono_literals;

using argus::domain::alert;
using argus::domain::inhibit_rule;
using argus::domain::inhibition_candidate;
using argus::domain::silence;
using argus::domain::silence_matcher;
using argus::domain::silence_state;
using argus::domain::time_point;

silence_matcher eq(std::string name, std::string value) {
  return {std::move(name), std::move(value), false, true};
}

alert make_alert(std::string dedup, std::string sev_class,
                 std::string manager = "payments") {
  alert a;
  a.dedup_key = std::move(dedup);
  a.event_manager_id = std::move(manager);
  a.class_name = std::move(sev_class);
  return a;
}

/// Labels as the HTTP layer reads them: `labels.<name>` in the details.
argus::domain::details_reader labels(std::map<std::string, std::string> ls) {
  return [ls](const std::string& name) -> std::optional<std::string> {
    if (name.rfind("labels.", 0) != 0)
      return std::nullopt;
    auto it = ls.find(name.substr(7));
    if (it == ls.end())
      return std::nullopt;
    return it->second;
  };
}

/// "An outage of a cluster mutes the disk alerts of that cluster."
inhibit_rule outage_mutes_disks() {
  return {{eq("class", "outage")}, {eq("class", "disk")}, {"cluster"}};
}

/// The dedupKeys of `sources` that inhibit `target` under `rules`: an index
/// built and asked once.
std::vector<std::string>
inhibitors(const std::vector<inhibit_rule>& rules,
           const inhibition_candidate& target,
           const std::vector<inhibition_candidate>& sources) {
  return argus::domain::inhibition_index{rules, sources}.inhibitors_of(target);
}

time_point at(const std::string& rfc3339) {
  auto t = argus::domain::parse_am_time(rfc3339);
  REQUIRE(t);
  return *t;
}

} // namespace

TEST_CASE("inhibition: only an alert some rule targets can be inhibited",
          "[inhibition]") {
  std::vector<inhibit_rule> rules{
      outage_mutes_disks(),
      {{eq("class", "outage")}, {eq("cluster", "eu")}, {}}};
  auto disk = make_alert("disk-us", "disk");
  auto cpu = make_alert("cpu-us", "cpu");
  using argus::domain::is_target;
  CHECK(is_target(rules, {&disk, labels({{"cluster", "us"}})}));
  CHECK_FALSE(is_target(rules, {&cpu, labels({{"cluster", "us"}})}));
  // The second rule targets it by a label.
  CHECK(is_target(rules, {&cpu, labels({{"cluster", "eu"}})}));
  CHECK_FALSE(is_target({}, {&disk, labels({})}));
}

TEST_CASE("inhibition: only an alert some rule's sources match can release "
          "targets when it resolves",
          "[inhibition]") {
  std::vector<inhibit_rule> rules{
      outage_mutes_disks(),
      {{eq("cluster", "eu")}, {eq("severity", "low")}, {}}};
  auto outage = make_alert("outage-us", "outage");
  auto disk = make_alert("disk-us", "disk");
  using argus::domain::is_source;
  CHECK(is_source(rules, {&outage, labels({{"cluster", "us"}})}));
  CHECK_FALSE(is_source(rules, {&disk, labels({{"cluster", "us"}})}));
  // The second rule's sources are matched by a label.
  CHECK(is_source(rules, {&disk, labels({{"cluster", "eu"}})}));
  CHECK_FALSE(is_source({}, {&outage, labels({})}));
}

TEST_CASE("inhibition: a source mutes targets with equal fields only",
          "[inhibition]") {
  auto rule = outage_mutes_disks();
  auto outage = make_alert("outage-eu", "outage");
  auto disk_eu = make_alert("disk-eu", "disk");
  auto disk_us = make_alert("disk-us", "disk");
  auto cpu_eu = make_alert("cpu-eu", "cpu");
  inhibition_candidate source{&outage, labels({{"cluster", "eu"}})};
  inhibition_candidate same{&disk_eu, labels({{"cluster", "eu"}})};
  inhibition_candidate other{&disk_us, labels({{"cluster", "us"}})};
  inhibition_candidate not_target{&cpu_eu, labels({{"cluster", "eu"}})};
  CHECK(argus::domain::inhibits(rule, source, same));
  CHECK_FALSE(argus::domain::inhibits(rule, source, other));
  CHECK_FALSE(argus::domain::inhibits(rule, source, not_target));
  // Without `equal`, every target is muted by any source.
  auto broad = rule;
  broad.equal.clear();
  CHECK(argus::domain::inhibits(broad, source, other));
  // A field both lack is equal (Alertmanager's missing labels).
  auto bare_outage = make_alert("outage", "outage");
  auto bare_disk = make_alert("disk", "disk");
  CHECK(argus::domain::inhibits(rule, {&bare_outage, labels({})},
                                {&bare_disk, labels({})}));

  auto keys = inhibitors({rule}, same, {source, other, not_target});
  CHECK(keys == std::vector<std::string>{"outage-eu"});
  CHECK(inhibitors({rule}, other, {source}).empty());
  CHECK(inhibitors({}, same, {source}).empty());
}

TEST_CASE("inhibition: an alert does not inhibit itself, nor peers matching "
          "both sides",
          "[inhibition]") {
  // Every high alert mutes every other alert of the manager.
  inhibit_rule rule{{eq("severity", "high")}, {eq("dedupKey", ".+")}, {}};
  rule.target_matchers[0].is_regex = true;
  auto a = make_alert("a", "x");
  a.sev = argus::domain::severity::high;
  auto b = make_alert("b", "x");
  b.sev = argus::domain::severity::high;
  auto low = make_alert("c", "x");
  low.sev = argus::domain::severity::low;
  inhibition_candidate ca{&a, labels({})};
  inhibition_candidate cb{&b, labels({})};
  inhibition_candidate cl{&low, labels({})};
  CHECK_FALSE(argus::domain::inhibits(rule, ca, ca));
  // a and b match source and target: they do not mute each other.
  CHECK_FALSE(argus::domain::inhibits(rule, ca, cb));
  CHECK(inhibitors({rule}, ca, {ca, cb, cl}).empty());
  // The low one is muted by both.
  CHECK(inhibitors({rule}, cl, {ca, cb, cl}) ==
        std::vector<std::string>{"a", "b"});
}

TEST_CASE("inhibition: the index answers as `inhibits` over every source of "
          "the target's manager",
          "[inhibition]") {
  // Random managers' alerts: classes, severities and a cluster label that
  // is missing, empty or set; rules with no, one and two `equal` fields,
  // a regex and a negative matcher, and one matching both sides.
  std::mt19937 gen{20261206};
  auto pick = [&](std::vector<std::string> xs) {
    return xs[std::uniform_int_distribution<size_t>{0, xs.size() - 1}(gen)];
  };
  std::vector<alert> alerts;
  std::vector<std::map<std::string, std::string>> label_sets;
  for (int i = 0; i < 300; ++i) {
    auto a = make_alert("a" + std::to_string(i % 250),
                        pick({"outage", "disk", "net", "db"}),
                        pick({"payments", "payments", "payments", "search"}));
    a.sev = pick({"h", "m", "l"}) == "h" ? argus::domain::severity::high
                                         : argus::domain::severity::low;
    std::map<std::string, std::string> ls;
    if (auto cluster = pick({"eu", "us", "", "-"}); cluster != "-")
      ls["cluster"] = cluster;
    alerts.push_back(std::move(a));
    label_sets.push_back(std::move(ls));
  }
  std::vector<inhibition_candidate> candidates;
  for (size_t i = 0; i < alerts.size(); ++i)
    candidates.push_back({&alerts[i], labels(label_sets[i])});
  auto regex = eq("class", "d.*");
  regex.is_regex = true;
  auto not_outage = eq("class", "outage");
  not_outage.is_equal = false;
  auto high = eq("severity", "high");
  std::vector<inhibit_rule> rules{
      outage_mutes_disks(),
      {{eq("class", "outage")}, {regex}, {"cluster", "severity"}},
      {{high}, {not_outage}, {}},
      {{high}, {high}, {"cluster"}}};
  argus::domain::inhibition_index index{rules, candidates};
  size_t inhibited = 0;
  for (auto& target : candidates) {
    std::vector<std::string> expected;
    for (auto& rule : rules)
      for (auto& source : candidates)
        if (source.subject->event_manager_id ==
                target.subject->event_manager_id &&
            argus::domain::inhibits(rule, source, target))
          expected.push_back(source.subject->dedup_key.str());
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()),
                   expected.end());
    INFO(target.subject->dedup_key.str());
    CHECK(index.inhibitors_of(target) == expected);
    inhibited += expected.empty() ? 0 : 1;
  }
  // The data exercise both answers.
  CHECK(inhibited > 50);
  CHECK(inhibited < candidates.size());
}

TEST_CASE("inhibition: the source filter names a stored field each rule's "
          "sources share",
          "[inhibition]") {
  using argus::domain::source_filter;
  auto regex = eq("class", "out.*");
  regex.is_regex = true;
  auto not_outage = eq("class", "outage");
  not_outage.is_equal = false;
  // No rule: nothing can be a source.
  auto none = source_filter({});
  CHECK(none.restricted);
  CHECK_FALSE(none.admits(make_alert("a", "outage")));
  // One equality per rule, dedupKey before class before summary before
  // severity, whatever the matchers' order.
  auto f = source_filter(
      {outage_mutes_disks(),
       {{eq("severity", "high"), eq("dedupKey", "k1")}, {eq("class", "x")}, {}},
       {{regex, eq("summary", "db down"), eq("severity", "low")},
        {eq("class", "x")},
        {}}});
  CHECK(f.restricted);
  CHECK(f.class_name == std::vector<std::string>{"outage"});
  CHECK(f.dedup_key == std::vector<std::string>{"k1"});
  CHECK(f.summary == std::vector<std::string>{"db down"});
  CHECK(f.severity.empty());
  // A rule whose sources share no stored field's value lets any alert by.
  for (auto side : {std::vector<silence_matcher>{regex},
                    std::vector<silence_matcher>{not_outage},
                    std::vector<silence_matcher>{eq("labels.cluster", "eu")},
                    std::vector<silence_matcher>{eq("labels.class", "outage")},
                    std::vector<silence_matcher>{eq("Class", "outage")},
                    std::vector<silence_matcher>{eq("grouping_value", "v")}}) {
    auto open =
        source_filter({outage_mutes_disks(), {side, {eq("class", "x")}, {}}});
    CHECK_FALSE(open.restricted);
    CHECK(open.admits(make_alert("a", "anything")));
  }
}

TEST_CASE("inhibition: the source filter admits every source", "[inhibition]") {
  // Random rules over the stored fields and a label, random alerts: each
  // alert `is_source` accepts, the filter admits.
  std::mt19937 gen{20261207};
  auto pick = [&](std::vector<std::string> xs) {
    return xs[std::uniform_int_distribution<size_t>{0, xs.size() - 1}(gen)];
  };
  auto matcher = [&] {
    auto m = eq(pick({"class", "severity", "summary", "dedupKey", "cluster"}),
                pick({"outage", "high", "low", "db down", "k1", "eu", ""}));
    m.is_regex = pick({"r", "-", "-"}) == "r";
    if (m.is_regex)
      m.value = pick({".*", "o.*", "k[0-9]"});
    m.is_equal = pick({"n", "-", "-", "-"}) != "n";
    return m;
  };
  size_t sources = 0;
  size_t restricted = 0;
  size_t narrowed_sources = 0; // sources a restricted filter had to admit
  for (int round = 0; round < 200; ++round) {
    std::vector<inhibit_rule> rules;
    for (int r = 0, n = 1 + round % 3; r < n; ++r) {
      inhibit_rule rule;
      for (int m = 0, k = 1 + (round + r) % 3; m < k; ++m)
        rule.source_matchers.push_back(matcher());
      rule.target_matchers = {eq("class", "disk")};
      rules.push_back(std::move(rule));
    }
    auto filter = argus::domain::source_filter(rules);
    restricted += filter.restricted ? 1 : 0;
    for (int i = 0; i < 20; ++i) {
      auto a = make_alert(pick({"k1", "k2"}), pick({"outage", "disk", ""}));
      a.summary = pick({"db down", "", "other"});
      a.sev = pick({"h", "l"}) == "h" ? argus::domain::severity::high
                                      : argus::domain::severity::low;
      // Details that also name the stored fields, with other values: a
      // matcher on those names reads the alert's own field all the same.
      std::map<std::string, std::string> details_fields{
          {"cluster", pick({"eu", "us"})},
          {"class", "outage"},
          {"severity", "high"},
          {"summary", "db down"},
          {"dedupKey", "k1"}};
      argus::domain::details_reader details =
          [details_fields](
              const std::string& name) -> std::optional<std::string> {
        auto key = name.rfind("labels.", 0) == 0 ? name.substr(7) : name;
        auto it = details_fields.find(key);
        if (it == details_fields.end())
          return std::nullopt;
        return it->second;
      };
      if (argus::domain::is_source(rules, {&a, details})) {
        ++sources;
        narrowed_sources += filter.restricted ? 1 : 0;
        INFO("round " << round << ", alert " << i);
        CHECK(filter.admits(a));
      }
    }
  }
  // The data exercise both kinds of filter and many sources.
  CHECK(sources > 200);
  CHECK(narrowed_sources > 30);
  CHECK(restricted > 20);
  CHECK(restricted < 180);
}

TEST_CASE("inhibition: rules are validated naming the field", "[inhibition]") {
  CHECK_FALSE(
      argus::domain::validate(std::vector<inhibit_rule>{outage_mutes_disks()}));
  auto message_of = [](std::vector<inhibit_rule> rules) {
    auto err = argus::domain::validate(rules);
    REQUIRE(err);
    CHECK(argus::code_of(err) == argus::ec::validation_failed);
    return argus::message_of(err);
  };
  auto r = outage_mutes_disks();
  r.source_matchers.clear();
  CHECK(message_of({outage_mutes_disks(), r})
            .find("'inhibit_rules[1].source_matchers'") != std::string::npos);
  r = outage_mutes_disks();
  r.target_matchers.push_back({"x", "(", true, true});
  CHECK(message_of({r}).find("'inhibit_rules[0].target_matchers[1].value'") !=
        std::string::npos);
  r = outage_mutes_disks();
  r.target_matchers[0].name.clear();
  CHECK(message_of({r}).find("'inhibit_rules[0].target_matchers[0].name'") !=
        std::string::npos);
  r = outage_mutes_disks();
  r.equal.push_back("");
  CHECK(message_of({r}).find("'inhibit_rules[0].equal[1]'") !=
        std::string::npos);
}

TEST_CASE("inhibition: rules survive the stores' text", "[inhibition]") {
  auto r = outage_mutes_disks();
  r.target_matchers.push_back({"labels.team", "a\\b\nc", true, false});
  std::vector<inhibit_rule> rules{r,
                                  {{eq("class", "x")}, {eq("class", "y")}, {}}};
  auto back = argus::domain::decode_inhibit_rules(
      argus::domain::encode_inhibit_rules(rules));
  REQUIRE(back);
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].equal == std::vector<std::string>{"cluster"});
  REQUIRE((*back)[0].target_matchers.size() == 2);
  CHECK((*back)[0].target_matchers[1].value == "a\\b\nc");
  CHECK_FALSE((*back)[0].target_matchers[1].is_equal);
  CHECK((*back)[1].equal.empty());
  CHECK(argus::domain::encode_inhibit_rules({}).empty());
  auto none = argus::domain::decode_inhibit_rules("");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("inhibition: a suppressed delivery names silences and inhibitors",
          "[inhibition]") {
  argus::domain::delivery d;
  argus::domain::suppress(d, {"s1"}, {"db-down", "net-down"});
  CHECK(d.state == argus::domain::delivery_state::suppressed);
  CHECK(d.last_error == "silenced by s1; inhibited by db-down, net-down");
  argus::domain::suppress(d, {}, {"db-down"});
  CHECK(d.last_error == "inhibited by db-down");
}

TEST_CASE("maintenance window: a scheduled silence is active during its "
          "occurrences, pending between, expired after its end",
          "[schedule]") {
  silence s;
  s.id = "w";
  s.matchers = {eq("class", "disk")};
  s.starts_at = at("2027-03-01T00:00:00Z");
  s.ends_at = argus::domain::forever;
  s.created_by = "ops";
  s.comment = "Sunday maintenance";
  s.recurrence.time_zone = "Europe/Berlin";
  s.recurrence.days = {"sun"};
  s.recurrence.start = "02:00";
  s.recurrence.duration_seconds = 7200;
  REQUIRE_FALSE(argus::domain::validate(s));
  CHECK(state_of(s, at("2027-02-28T01:30:00Z")) == silence_state::pending);
  CHECK(state_of(s, at("2027-03-07T01:30:00Z")) == silence_state::active);
  CHECK(state_of(s, at("2027-03-07T03:30:00Z")) == silence_state::pending);
  CHECK(state_of(s, at("2027-03-28T02:30:00Z")) == silence_state::active);

  auto disk = make_alert("disk-1", "disk");
  std::map<std::string, silence> all{{"w", s}};
  CHECK(silenced_by(all, disk, labels({}), at("2027-03-07T01:30:00Z")) ==
        std::vector<std::string>{"w"});
  CHECK(silenced_by(all, disk, labels({}), at("2027-03-08T01:30:00Z")).empty());

  auto next = next_occurrences(s, at("2027-03-20T00:00:00Z"), 3);
  REQUIRE(next.size() == 3);
  CHECK(argus::domain::to_rfc3339(next[1].starts_at) ==
        "2027-03-28T01:00:00.000Z");

  // Muting stops at the end of the occurrence in force (03:00 UTC is
  // 04:00 in Berlin), not at the window's end.
  CHECK(active_until(s, at("2027-03-07T01:30:00Z")) ==
        at("2027-03-07T03:00:00Z"));
  CHECK(active_until(s, at("2027-03-07T03:30:00Z")) ==
        at("2027-03-07T03:30:00Z"));

  // With an end date, expired after it and no occurrence listed past it.
  s.ends_at = at("2027-03-22T00:00:00Z");
  CHECK(next_occurrences(s, at("2027-03-20T00:00:00Z"), 3).size() == 1);
  CHECK(state_of(s, at("2027-03-28T02:30:00Z")) == silence_state::expired);
  // An occurrence cut short by the end date ends with it.
  s.ends_at = at("2027-03-21T01:30:00Z");
  CHECK(active_until(s, at("2027-03-21T01:15:00Z")) == s.ends_at);
  s.ends_at = at("2027-03-22T00:00:00Z");
  argus::domain::expire(s, at("2027-03-10T00:00:00Z"));
  CHECK(state_of(s, at("2027-03-14T01:30:00Z")) == silence_state::expired);

  // A bad schedule is refused naming its field.
  s.recurrence.time_zone = "Nowhere/City";
  auto err = argus::domain::validate(s);
  REQUIRE(err);
  CHECK(argus::message_of(err).find("'schedule.time_zone'") !=
        std::string::npos);
}

TEST_CASE("silence updates: Alertmanager's rule for changing in place",
          "[unit]") {
  auto now = at("2027-01-10T12:00:00Z");
  silence old;
  old.id = "s1";
  old.matchers = {eq("class", "disk")};
  old.starts_at = now - 1h;
  old.ends_at = now + 1h;
  auto next = old;
  next.ends_at = now + 2h; // extend an active one: in place
  CHECK(argus::domain::can_update_in_place(old, next, now));
  next.starts_at = now; // move an active one's start: a new silence
  CHECK_FALSE(argus::domain::can_update_in_place(old, next, now));
  next = old;
  next.matchers = {eq("class", "cpu")}; // other matchers: a new silence
  CHECK_FALSE(argus::domain::can_update_in_place(old, next, now));
  next = old;
  next.ends_at = now - 1min; // ending it in the past: a new one
  CHECK_FALSE(argus::domain::can_update_in_place(old, next, now));
  // A pending one may move its start, not into the past.
  old.starts_at = now + 1h;
  old.ends_at = now + 2h;
  next = old;
  next.starts_at = now + 30min;
  CHECK(argus::domain::can_update_in_place(old, next, now));
  next.starts_at = now - 1min;
  CHECK_FALSE(argus::domain::can_update_in_place(old, next, now));
  // An expired one never.
  old.starts_at = now - 2h;
  old.ends_at = now - 1h;
  CHECK_FALSE(argus::domain::can_update_in_place(old, old, now));
}
