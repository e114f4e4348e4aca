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
  CHECK(alert_id{uuid}.holds_uuid());
  CHECK(alert_id_for("m1", "disk-full").holds_uuid());
  for (std::string edge : {"00000000-0000-0000-8000-000000000000",
                           "ffffffff-ffff-ffff-bfff-ffffffffffff",
                           "ffffffff-ffff-0fff-9fff-ffffffffffff"}) {
    INFO(edge);
    CHECK(alert_id{edge}.holds_uuid());
    check_reads_as(alert_id{edge}, edge);
  }
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
    CHECK_FALSE(alert_id{text}.holds_uuid());
    check_reads_as(alert_id{text}, text);
    CHECK(alert_id{text} != alert_id{uuid});
    CHECK(alert_id{uuid} != text);
  }
  // Case matters, as it did for the strings.
  CHECK(alert_id{"51723E2F-7C3E-8413-AF32-2735B6027B75"} != alert_id{uuid});
  CHECK(alert_id{"51723e2f-7c3e-8413-af32-2735b6027B75"} != alert_id{uuid});
}

TEST_CASE("alert_id: random texts of a UUID's length read back as themselves",
          "[unit]") {
  // Mostly near-UUIDs: the digits, both cases, dashes anywhere, a 'g'.
  const std::string alphabet = "0123456789abcdefABCDEF-g";
  std::mt19937_64 gen{11};
  size_t uuids = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text = name_based_uuid(std::to_string(i), "k");
    for (int changes = static_cast<int>(gen() % 3); changes > 0; --changes)
      text[gen() % text.size()] = alphabet[gen() % alphabet.size()];
    alert_id id{text};
    uuids += id.holds_uuid() ? 1 : 0;
    REQUIRE(id.str() == text);
    REQUIRE(id == text);
  }
  // Both kinds were tried.
  CHECK(uuids > 1000);
  CHECK(uuids < 19000);
}

TEST_CASE("alert_id: from_uuid sets RFC 4122's variant", "[unit]") {
  auto id = alert_id::from_uuid(0x1234, 1);
  CHECK(id.holds_uuid());
  CHECK(id.str() == "00000000-0000-1234-8000-000000000001");
  CHECK(alert_id{id.str()} == id);
}

TEST_CASE("alert_id: orders as its text", "[unit]") {
  std::vector<std::string> texts{uuid,
                                 "51723e2f-7c3e-8413-af32-2735b6027b76",
                                 "51723e2f-7c3e-8413-bf32-2735b6027b75",
                                 "61723e2f-7c3e-8413-af32-2735b6027b75",
                                 "0a723e2f-7c3e-8413-af32-2735b6027b75",
                                 "51723E2F-7C3E-8413-AF32-2735B6027B75",
                                 "51723e2f",
                                 "z",
                                 ""};
  std::mt19937_64 gen{3};
  for (int i = 0; i < 50; ++i)
    texts.push_back(name_based_uuid(std::to_string(gen()), "k"));
  for (auto& x : texts)
    for (auto& y : texts) {
      INFO(x << " < " << y);
      CHECK((alert_id{x} < alert_id{y}) == (x < y));
    }
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
  d.swap(c); // a text with a UUID, the other way round
  check_reads_as(c, "other-id");
  check_reads_as(d, uuid);
  c.swap(d);
  alert_id moved{std::move(d)};
  check_reads_as(moved, "other-id");
  alert_id moved_uuid{std::move(c)};
  check_reads_as(moved_uuid, uuid);
  auto& self = moved;
  moved = self;
  check_reads_as(moved, "other-id");
  moved = alert_id{};
  check_reads_as(moved, "");
  // Swaps of every pair of kinds, and with itself.
  const std::string other_uuid = name_based_uuid("m2", "k");
  for (const std::string& x : {uuid, std::string{"text-a"}, std::string{}})
    for (const std::string& y :
         {other_uuid, std::string{"text-b"}, std::string{}}) {
      INFO(x << " <-> " << y);
      alert_id p{x};
      alert_id q{y};
      p.swap(q);
      check_reads_as(p, y);
      check_reads_as(q, x);
      p.swap(p);
      check_reads_as(p, y);
    }
  // A moved-from text is empty, a moved-from UUID keeps its value; both
  // can be assigned again.
  alert_id text_from{"from-text"};
  alert_id uuid_from{uuid};
  alert_id text_to{std::move(text_from)};
  alert_id uuid_to{std::move(uuid_from)};
  check_reads_as(text_from, "");
  check_reads_as(text_to, "from-text");
  check_reads_as(uuid_to, uuid);
  text_from = uuid;
  uuid_from = "again";
  check_reads_as(text_from, uuid);
  check_reads_as(uuid_from, "again");
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
