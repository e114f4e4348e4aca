// A field of stored details found without a DOM (http/details_lookup.hpp):
// wherever the walk answers, it must be what `grouping_text` gives on the
// DOM of the same text; other values are left to the DOM.

#include "http/details_lookup.hpp"
#include "http/json.hpp"
#include "http/silence_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace {

using argus::http::details_field;
using argus::http::find_details_field;

std::optional<std::string> dom_text(const std::string& details,
                                    const std::string& key) {
  auto j = nlohmann::json::parse(details, nullptr, false);
  return argus::http::grouping_text(
      j.is_object() ? j : nlohmann::json::object(), key);
}

const char* const keys[] = {"host",    "labels.instance",
                            "labels",  "labels.a.b",
                            "a.b",     "a.b.c",
                            "a",       "missing",
                            "labels.", "",
                            ".",       "n",
                            "t",       "e\"q",
                            "x.y"};

const char* const texts[] = {
    R"({"host":"h1","labels":{"instance":"i:1","a":{"b":"deep"}}})",
    // The whole key as a top-level name wins over the path, even if null.
    R"({"a.b":"whole","a":{"b":"path"}})", R"({"a":{"b":"path"},"a.b":null})",
    R"({"a.b":1,"a":{"b":"path"}})",
    // Of a member given twice, the last, at any depth.
    R"({"host":"first","host":"last"})", R"({"host":"s","host":2})",
    R"({"host":2,"host":"s"})", R"({"a":{"b":"x"},"a":{"c":"y"}})",
    R"({"a":{"b":"x","b":null}})", R"({"a":{"b":{"c":"z"}},"a":"text"})",
    // Values of other kinds; a step into something that is not an object.
    R"({"n":1.50,"t":true,"labels":[{"instance":"x"}],"a":"str"})",
    R"({"a":{"b":[1,2]},"x":{"y":{"z":1}}})", R"({"":"empty","e\"q":"quote"})",
    R"({"":{"":"dot"}})",
    // Escapes, non-ASCII and white space.
    " { \"ho\\u0073t\" : \"\\u00e9\\n\\ud83d\\ude00\" , \"a\" : { \"b\" : "
    "\"\\\"\" } } ",
    // Not an object, or not JSON: nothing, as the DOM path says.
    "[1]", "\"text\"", "not json", "", "{\"host\":\"h\"} x",
    "{\"host\":\"\xff\"}"};

} // namespace

TEST_CASE("a details field found without a DOM is the DOM's grouping text",
          "[unit]") {
  int walked = 0;
  for (std::string text : texts)
    for (std::string key : keys) {
      CAPTURE(text, key);
      auto found = find_details_field(text, key);
      auto dom = dom_text(text, key);
      if (found.kind == details_field::unknown)
        continue;
      ++walked;
      if (found.kind == details_field::none)
        CHECK(!dom);
      else
        CHECK(dom == found.value);
    }
  CHECK(walked > 150); // most answers come from the walk
}

TEST_CASE("a details field of another kind is left to the DOM", "[unit]") {
  auto unknown = [](const char* text, const char* key) {
    return find_details_field(text, key).kind == details_field::unknown;
  };
  CHECK(unknown(R"({"n":1.50})", "n"));
  CHECK(unknown(R"({"a":{"b":[1]}})", "a.b"));
  CHECK(unknown(R"({"a":{"b":"x"}})", "a"));
  CHECK(unknown(R"({"t":false})", "t"));
  CHECK(unknown("not json", "a"));
  CHECK(!unknown(R"({"a":{"b":"x"}})", "a.b"));
  CHECK(!unknown(R"({"a":null})", "a"));
}

TEST_CASE("the details reader answers every kind of field as the DOM does",
          "[unit]") {
  for (std::string text : texts) {
    argus::domain::alert a;
    a.details = text;
    auto reader = argus::http::details_reader_of(a);
    // Each key in turn through one reader: once a value sent it to the
    // DOM, the DOM answers the rest.
    for (std::string key : keys) {
      CAPTURE(text, key);
      CHECK(reader(key) == dom_text(text, key));
    }
  }
}

TEST_CASE("a details reader never contradicts itself, even on text that is "
          "not JSON",
          "[unit]") {
  // Stored details are JSON Argus wrote; were one not, the reader keeps to
  // what its walks found once the DOM has refused the text.
  argus::domain::alert a;
  a.details = R"({"a":"x","b":tru,"c":{"d":"y"}})";
  auto reader = argus::http::details_reader_of(a);
  CHECK(reader("a") == "x");
  CHECK(!reader("b")); // the walk cannot say; the DOM refuses the text
  CHECK(reader("a") == "x");
  CHECK(reader("c.d") == "y");
  for (int i = 0; i < 20; ++i)
    CHECK(reader("a") == "x");
}
