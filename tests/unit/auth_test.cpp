// API keys: their text and hash, authentication (missing, malformed,
// unknown, wrong secret, expired, revoked) and the role decisions. Pure
// functions with explicit times.

#include "domain/auth.hpp"
#include "domain/error.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace argus::domain;

const time_point t0 = from_millis(1'700'000'000'000);

const std::string id_bytes = "\x01\x02\x03\x04\x05\x06";
const std::string secret_bytes(32, '\xab');

api_key keyed(role r, std::vector<std::string> managers = {}) {
  auto k = make_key(id_bytes, secret_bytes, t0).record;
  k.key_role = r;
  k.managers = std::move(managers);
  return k;
}

} // namespace

TEST_CASE(
    "a key's text is argus_<id>_<secret> in hex, and only its hash is kept",
    "[unit][auth]") {
  auto made = make_key(id_bytes, secret_bytes, t0);
  std::string secret_hex;
  for (int i = 0; i < 32; ++i)
    secret_hex += "ab";
  CHECK(made.text == "argus_010203040506_" + secret_hex);
  CHECK(made.record.id == "010203040506");
  CHECK(made.record.prefix == "argus_010203040506_abab");
  CHECK(made.record.hash == sha256_hex(made.text));
  CHECK(made.record.hash.size() == 64);
  CHECK(made.record.hash.find("abab") == std::string::npos);
  CHECK(made.record.created_at == t0);
  // The known SHA-256 of "abc".
  CHECK(sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("generated keys differ and parse back", "[unit][auth]") {
  auto a = generate_key(t0);
  auto b = generate_key(t0);
  CHECK(a.text != b.text);
  CHECK(a.record.id != b.record.id);
  CHECK(a.text.size() == 6 + 12 + 1 + 64);
  CHECK(key_id_of(a.text) == a.record.id);
}

TEST_CASE("an operator's bootstrap text becomes a record when shaped as a key",
          "[unit][auth]") {
  auto text = "argus_bootstrap_" + std::string(40, 'Z');
  auto rec = record_of(text, t0);
  REQUIRE(rec);
  CHECK(rec->id == "bootstrap");
  CHECK(rec->hash == sha256_hex(text));
  CHECK_FALSE(record_of("argus_bootstrap_short", t0));
  CHECK_FALSE(record_of("token_bootstrap_" + std::string(40, 'Z'), t0));
  CHECK_FALSE(record_of("argus__" + std::string(40, 'Z'), t0));
  CHECK_FALSE(record_of("argus_Upper_" + std::string(40, 'Z'), t0));
  CHECK_FALSE(record_of("argus_id_" + std::string(39, 'Z') + "-", t0));
}

TEST_CASE("authenticate finds the key a text proves, or says why not",
          "[unit][auth]") {
  auto made = make_key(id_bytes, secret_bytes, t0);
  std::map<std::string, api_key> keys{{made.record.id, made.record}};
  auto ok = authenticate(keys, made.text, t0);
  REQUIRE(std::holds_alternative<const api_key*>(ok));
  CHECK(std::get<const api_key*>(ok)->id == made.record.id);

  auto reason = [&](std::string_view text, time_point now = t0) {
    auto r = authenticate(keys, text, now);
    REQUIRE(std::holds_alternative<auth_failure>(r));
    return std::get<auth_failure>(r);
  };
  CHECK(reason("") == auth_failure::missing);
  CHECK(reason("Bearer xyz") == auth_failure::malformed);
  // The right id with a wrong secret and an unknown id look the same.
  auto wrong = made.text;
  wrong.back() = wrong.back() == 'b' ? 'c' : 'b';
  CHECK(reason(wrong) == auth_failure::unknown);
  CHECK(reason("argus_ffffffffffff_" + std::string(64, 'a')) ==
        auth_failure::unknown);

  keys.begin()->second.expires_at = t0 + 1h;
  CHECK(std::holds_alternative<const api_key*>(
      authenticate(keys, made.text, t0 + 59min)));
  CHECK(reason(made.text, t0 + 1h) == auth_failure::expired);
  keys.begin()->second.revoked_at = t0 + 10min;
  CHECK(std::holds_alternative<const api_key*>(
      authenticate(keys, made.text, t0 + 5min)));
  CHECK(reason(made.text, t0 + 10min) == auth_failure::revoked);
}

TEST_CASE("roles decide what a key may do on which manager", "[unit][auth]") {
  auto admin = keyed(role::admin);
  for (auto a : {access::read, access::ingest, access::manage}) {
    CHECK(permits(admin, a, ""));
    CHECK(permits(admin, a, "B"));
  }
  auto reader = keyed(role::reader);
  CHECK(permits(reader, access::read, "B"));
  CHECK_FALSE(permits(reader, access::ingest, "B"));
  CHECK_FALSE(permits(reader, access::manage, ""));
  CHECK(covers(reader, "anything"));

  auto scoped = keyed(role::reader, {"A"});
  CHECK(permits(scoped, access::read, "A"));
  CHECK(permits(scoped, access::read, "")); // a listing, filtered
  CHECK_FALSE(permits(scoped, access::read, "B"));
  CHECK(covers(scoped, "A"));
  CHECK_FALSE(covers(scoped, "B"));

  auto ingest = keyed(role::ingest, {"A", "C"});
  CHECK(permits(ingest, access::ingest, "A"));
  CHECK(permits(ingest, access::ingest, "C"));
  CHECK_FALSE(permits(ingest, access::ingest, "B"));
  CHECK_FALSE(permits(ingest, access::read, "A"));
  CHECK_FALSE(permits(ingest, access::manage, "A"));
}

TEST_CASE("validate refuses keys that make no sense", "[unit][auth]") {
  CHECK_FALSE(validate(keyed(role::admin)));
  CHECK_FALSE(validate(keyed(role::reader, {"A"})));
  CHECK(argus::code_of(validate(keyed(role::ingest))) ==
        argus::ec::validation_failed);
  CHECK(validate(keyed(role::admin, {"A"})));
  CHECK(validate(keyed(role::reader, {"A", "A"})));
  auto k = keyed(role::reader);
  k.expires_at = k.created_at;
  CHECK(validate(k));
  k.expires_at = k.created_at + 1s;
  CHECK_FALSE(validate(k));
  CHECK(parse_role("ingest") == role::ingest);
  CHECK_FALSE(parse_role("root"));
}
