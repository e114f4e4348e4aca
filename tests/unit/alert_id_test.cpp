// domain::alert_id: a UUID kept as its 16 bytes, any other id as its text,
// and either read back as exactly the text it was given.
#include "domain/alert.hpp"
#include "domain/alert_id.hpp"

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

using argus::domain::alert;
using argus::domain::alert_id;
using argus::domain::alert_id_for;
using argus::domain::name_based_uuid;

const std::string uuid = "51723e2f-7c3e-8413-af32-2735b6027b75";

/// Reads as `text` through every way out of an alert_id.
void check_reads_as(const alert_id& id, const std::string& text) {
  CHECK(id.str() == text);
  CHECK(id.size() == text.size());
  CHECK(id.empty() == text.empty());
  std::string written(text.size() + 1, '#');
  auto end = id.write(written.data());
  CHECK(static_cast<size_t>(end - written.data()) == text.size());
  CHECK(written == text + '#');
  std::string appended = "x";
  id.append_to(appended);
  CHECK(appended == "x" + text);
  CHECK(id.with_text([](std::string_view t) { return std::string{t}; }) ==
        text);
  CHECK(id == text);
  CHECK(text == id);
  CHECK_FALSE(id != text);
  CHECK(id == alert_id{text});
}

} // namespace

TEST_CASE("alert_id: sixteen bytes, and smaller than the string it replaced",
          "[unit]") {
  CHECK(sizeof(alert_id) == 16);
  CHECK(sizeof(alert) <= 224);
}

TEST_CASE("alert_id: a UUID reads back as its text", "[unit]") {
  check_reads_as(alert_id{uuid}, uuid);
  check_reads_as(alert_id_for("m1", "disk-full"), uuid);
  CHECK(alert_id{uuid} == alert_id_for("m1", "disk-full"));
  // Every bit pattern with the RFC 4122 variant: the text written is the
  // text `name_based_uuid` makes, and parsing it gives the same id.
  std::mt19937_64 gen{7};
  for (int i = 0; i < 2000; ++i) {
    auto manager = std::to_string(gen());
    auto key = std::to_string(gen() % 1000);
    auto id = alert_id_for(manager, key);
    auto text = name_based_uuid(manager, key);
    check_reads_as(id, text);
    CHECK(alert_id{text} == id);
  }
}

TEST_CASE("alert_id: any other id is kept as its text", "[unit]") {
  for (std::string text : {
           std::string{}, // no id yet
           std::string{"a1"},
           // Upper case, or a variant other than RFC 4122's (the fourth
           // group's first digit 0-7 or c-f), would not write back the same.
           std::string{"51723E2F-7C3E-8413-AF32-2735B6027B75"},
           std::string{"51723e2f-7c3e-8413-7f32-2735b6027b75"},
           std::string{"51723e2f-7c3e-8413-cf32-2735b6027b75"},
           // Dashes elsewhere, a digit missing or too many, no dashes.
           std::string{"51723e2f7-c3e-8413-af32-2735b6027b75"},
           std::string{"51723e2f-7c3e-8413-af32-2735b6027b7"},
           std::string{"51723e2f-7c3e-8413-af32-2735b6027b755"},
           std::string{"51723e2f7c3e8413af322735b6027b75"},
           std::string{"51723e2f-7c3e-8413-af32-2735b6027b7g"},
           std::string{"51723e2f-7c3e-8413-af32\0002735b6027b75", 36},
           std::string(300, 'x'),
       }) {
    INFO(text);
    check_reads_as(alert_id{text}, text);
    CHECK(alert_id{text} != alert_id{uuid});
    CHECK(alert_id{uuid} != text);
  }
  // Case matters, as it did for the strings.
  CHECK(alert_id{"51723E2F-7C3E-8413-AF32-2735B6027B75"} != alert_id{uuid});
}

TEST_CASE("alert_id: copies, moves and swaps between the two kinds", "[unit]") {
  alert_id a{uuid};
  alert_id b{"other-id"};
  alert_id c = a;
  alert_id d = b;
  check_reads_as(c, uuid);
  check_reads_as(d, "other-id");
  c = d; // a UUID becomes a text
  check_reads_as(c, "other-id");
  d = a; // a text becomes a UUID
  check_reads_as(d, uuid);
  c.swap(d);
  check_reads_as(c, uuid);
  check_reads_as(d, "other-id");
  alert_id moved{std::move(d)};
  check_reads_as(moved, "other-id");
  alert_id moved_uuid{std::move(c)};
  check_reads_as(moved_uuid, uuid);
  auto& self = moved;
  moved = self;
  check_reads_as(moved, "other-id");
  moved = alert_id{};
  check_reads_as(moved, "");
  // Copies of a text id share its block; changing one leaves the other.
  alert_id shared{"shared-text"};
  alert_id copy = shared;
  shared = uuid;
  check_reads_as(copy, "shared-text");
  check_reads_as(shared, uuid);
}

TEST_CASE("alert_id: JSON and CAF's inspectors see the text", "[unit]") {
  for (const std::string& text : {uuid, std::string{"a1"}, std::string{}}) {
    alert a;
    a.id = text;
    a.dedup_key = "k1";
    nlohmann::json j = {{"id", a.id}};
    CHECK(j.at("id") == text);
    CHECK(j.at("id").get<alert_id>() == a.id);

    std::vector<char> buf;
    caf::binary_serializer sink{nullptr, buf};
    REQUIRE_FALSE(sink(a));
    // On the wire as the std::string it was: a node of an older version
    // reads it.
    std::vector<char> as_string;
    caf::binary_serializer string_sink{nullptr, as_string};
    auto id_text = a.id.str();
    REQUIRE_FALSE(string_sink(id_text));
    REQUIRE(buf.size() >= as_string.size());
    CHECK(std::equal(as_string.begin(), as_string.end(), buf.begin()));
    alert received;
    caf::binary_deserializer source{nullptr, buf};
    REQUIRE_FALSE(source(received));
    CHECK(received.id == a.id);
    CHECK(received.id.str() == text);
    CHECK(received.dedup_key == "k1");
  }
}
