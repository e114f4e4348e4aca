// The DOM-free reader of event bodies (http/event_json.hpp): it must take
// exactly what the DOM path (parse_body, parse_event, grouping_text) takes,
// build the same events and word every error alike. Each case runs both
// and compares; the fast path must also really be used for valid bodies.

#include "domain/error.hpp"
#include "http/event_json.hpp"
#include "http/json.hpp"
#include "http/json_scan.hpp"
#include "http/strict_json.hpp"

#include <catch2/catch.hpp>

#include <iterator>
#include <string>
#include <vector>

namespace {

using argus::ec;
using argus::http::event_reader;
using argus::http::events_body;
using nlohmann::json;

/// Element `i` of `reader` as an event, or its error.
caf::expected<argus::domain::event> event_at(const event_reader& reader,
                                             size_t i) {
  argus::domain::event e;
  if (auto err = reader.read_event(i, e))
    return err;
  return e;
}

/// The rule keys every case looks up, as admission would.
const std::vector<std::string> lookup_keys = {
    "class", "host",    "n",   "obj",    "labels.cluster",
    "a.b",   "nothing", "nil", "summary"};

std::string describe(const caf::expected<argus::domain::event>& e) {
  if (!e)
    return "error " +
           std::to_string(static_cast<int>(argus::code_of(e.error()))) + ": " +
           argus::message_of(e.error());
  // Details compare as JSON values: the fast path keeps the sender's text
  // (and order), the DOM path dumps its sorted map.
  return e->event_manager_id + "|" + e->dedup_key + "|" +
         std::to_string(static_cast<int>(e->act)) + "|" + e->summary + "|" +
         std::to_string(static_cast<int>(e->sev)) + "|" + e->class_name + "|" +
         e->actor + "|" + json::parse(e->details).dump();
}

std::string describe_lookup(const std::optional<std::string>& v) {
  return v ? "=" + *v : "(none)";
}

std::string describe_error(const caf::error& err) {
  return "body error " + std::to_string(static_cast<int>(argus::code_of(err))) +
         ": " + argus::message_of(err);
}

/// What the DOM path (the code before the fast path) makes of `body`.
std::string by_dom(const std::string& body, events_body shape, size_t max) {
  auto j = argus::http::parse_body(body);
  if (!j)
    return describe_error(j.error());
  std::vector<const json*> elements;
  if (shape == events_body::one) {
    if (!j->is_object())
      return "body error 0: request body must be a JSON object";
    elements.push_back(&*j);
  } else {
    if (!j->is_array())
      return "body error 0: request body must be a JSON array of events";
    if (j->size() > max)
      return "body error 0: batch too long";
    for (auto& el : *j)
      elements.push_back(&el);
  }
  std::string out;
  for (auto* el : elements) {
    out += describe(argus::http::parse_event(*el)) + "\n";
    if (el->is_object())
      for (auto& key : lookup_keys)
        out += "  " + key +
               describe_lookup(argus::http::grouping_text(*el, key)) + "\n";
  }
  return out;
}

/// What the reader makes of it; `fast` tells whether it did without a DOM.
std::string by_reader(const std::string& body, events_body shape, size_t max,
                      bool* fast = nullptr) {
  event_reader reader;
  auto err = reader.parse(body, shape, max);
  if (fast)
    *fast = !reader.used_dom();
  if (err) {
    if (argus::message_of(err).rfind("batch has ", 0) == 0)
      return "body error 0: batch too long";
    if (argus::message_of(err).find("must be a JSON") != std::string::npos)
      return "body error 0: " + argus::message_of(err);
    return describe_error(err);
  }
  std::string out;
  for (size_t i = 0; i < reader.size(); ++i) {
    auto e = event_at(reader, i);
    auto fields = reader.lookup(i);
    out += describe(e) + "\n";
    if (e || argus::message_of(e.error()) != "an event must be a JSON object")
      for (auto& key : lookup_keys)
        out += "  " + key + describe_lookup(fields(key)) + "\n";
  }
  return out;
}

/// Both paths agree on `body`; returns whether the reader went without DOM.
bool same(const std::string& body, events_body shape = events_body::one,
          size_t max = 100) {
  INFO("body: " << body.substr(0, 300));
  bool fast = false;
  auto expected = by_dom(body, shape, max);
  CHECK(by_reader(body, shape, max, &fast) == expected);
  return fast;
}

std::string valid_with(const std::string& extra) {
  return R"({"event_manager_id":"m","action":"trigger","dedupKey":"k",)"
         R"("summary":"disk full","severity":"high")" +
         (extra.empty() ? "" : "," + extra) + "}";
}

std::string error_of(const std::string& body) {
  event_reader reader;
  if (auto err = reader.parse(body, events_body::one, 1))
    return argus::message_of(err);
  auto e = event_at(reader, 0);
  return e ? "" : argus::message_of(e.error());
}

} // namespace

TEST_CASE("event reader: valid events go without a DOM", "[unit]") {
  CHECK(same(valid_with("")));
  CHECK(same(valid_with(R"("class":"db","host":"h1")")));
  CHECK(same(R"({"event_manager_id":"m","action":"resolve","dedupKey":"k"})"));
  CHECK(same(R"({"event_manager_id":"m","action":"acknowledge",)"
             R"("dedupKey":"k","acknowledged_by":"ann"})"));
  CHECK(same(" \n\t" + valid_with(R"("host" : "h" )") + " \r\n"));
  event_reader reader;
  REQUIRE(!reader.parse(valid_with(R"("class":"db","x":[1, {"y" : null}])"),
                        events_body::one, 1));
  auto e = event_at(reader, 0);
  REQUIRE(e);
  CHECK(e->class_name == "db");
  // Details are the other fields' text as sent, in the order sent.
  CHECK(e->details == R"({"x":[1, {"y" : null}]})");
  CHECK(event_at(reader, 0)->details == e->details);
}

TEST_CASE("event reader: every validation error as the DOM path words it",
          "[unit]") {
  for (std::string field :
       {"event_manager_id", "action", "dedupKey", "summary", "severity"}) {
    json base = json::parse(valid_with(""));
    for (json value : {json(nullptr), json(""), json(5), json(true),
                       json::array({"x"}), json{{"x", 1}}, json(1.5)}) {
      auto j = base;
      j[field] = value;
      CHECK(same(j.dump()));
    }
    auto j = base;
    j.erase(field);
    CHECK(same(j.dump()));
  }
  CHECK(error_of(valid_with("").replace(valid_with("").find("\"trigger\""), 9,
                                        "\"fire\"")) ==
        "field 'action' must be 'trigger' or 'resolve'");
  CHECK(same(R"({"event_manager_id":"m","action":"TRIGGER","dedupKey":"k"})"));
  CHECK(same(R"({"event_manager_id":"m","action":"resolve","dedupKey":"k",)"
             R"("severity":"urgent"})"));
  CHECK(same(R"({"event_manager_id":"m","action":"resolve","dedupKey":"k",)"
             R"("summary":3})"));
  CHECK(same(valid_with(R"("class":5)")));
  CHECK(same(valid_with(R"("acknowledged_by":[])")));
  json high = json::parse(valid_with(""));
  high["severity"] = "High";
  CHECK(same(high.dump()));
  CHECK(error_of(valid_with(R"("class":5)")) ==
        "field 'class' must be a string");
  // Keys as long as the store allows, counted in bytes.
  json j = json::parse(valid_with(""));
  j["dedupKey"] = std::string(1025, 'k');
  CHECK(same(j.dump()));
  CHECK(error_of(j.dump()) == "field 'dedupKey' is longer than 1024 bytes");
  j["dedupKey"] = std::string(1024, 'k');
  CHECK(same(j.dump()));
  j["event_manager_id"] = std::string(1025, 'm');
  CHECK(same(j.dump()));
}

TEST_CASE("event reader: unicode escapes and raw UTF-8", "[unit]") {
  CHECK(same(valid_with(R"("class":"caf\u00e9","host":"\ud83d\ude00")")));
  CHECK(same(valid_with("\"class\":\"caf\xc3\xa9\"")));
  // An escaped key is the same key: here the standard summary.
  CHECK(same(R"({"event_manager_id":"m","action":"trigger","dedupKey":"k",)"
             R"("\u0073ummary":"s","severity":"low","h\u006fst":"x"})"));
  CHECK(same(valid_with(R"("we\"ird\\key\n":"v\t\"q\"","\u0001":1)")));
  // What nlohmann refuses, the reader refuses with the same words.
  for (auto bad : {R"("x":"\udc00")", R"("x":"\ud800")", R"("x":"\ud800x")",
                   R"("x":"\ud800\u0041")", R"("x":"\x")", R"("x":"\u12")",
                   R"("\ud800":1)"}) {
    auto body = valid_with(bad);
    CHECK_FALSE(same(body));
    CHECK_THAT(error_of(body), Catch::Contains("JSON"));
  }
  CHECK_FALSE(same(valid_with("\"x\":\"a\x01z\"")));
  CHECK_FALSE(same(valid_with("\"x\":\"u\xff\xfe\"")));
  CHECK_THAT(error_of(valid_with("\"x\":\"u\xff\xfe\"")),
             Catch::Contains("UTF-8"));
  CHECK_THAT(error_of(valid_with("\"x\":\"caf\xc3\"")),
             Catch::Contains("UTF-8"));
}

TEST_CASE("event reader: keys and strings without escapes need no check "
          "beyond simdjson's",
          "[unit]") {
  // A key ends at the last quote before its colon, white space around.
  CHECK(same(valid_with("\"host\" \t:\n \"h\" ,\"n\"\r\n:  7")));
  CHECK(same(valid_with(R"("":"empty key","class":"")")));
  CHECK(same(R"({ "event_manager_id" : "m" , "action" : "trigger" ,)"
             R"( "dedupKey" : "k" , "summary" : "s" , "severity" : "low" })"));
  // Keys whose escapes end next to the closing quote.
  CHECK(same(valid_with(R"("a\"":1,"\\":2,"\\\"":{"q\"":[]})")));
  CHECK(same(valid_with(R"("h\u006fst" : "x","class":"c\"")")));
  // Raw control characters: refused by simdjson's stage 1 in keys and
  // values alike, so the DOM path words the error.
  for (auto bad : {"\"ho\x01st\":1", "\"x\":\"a\tb\"", "\"\x1f\":\"v\"",
                   "\"class\":\"\n\""}) {
    INFO(bad);
    CHECK_FALSE(same(valid_with(bad)));
    CHECK_THAT(error_of(valid_with(bad)), Catch::Contains("JSON"));
  }
  // Bad escapes in keys, whatever surrounds the colon.
  for (auto bad : {R"("a\q" : 1)", R"("\ud800" :1)", R"("\u00" : 1)",
                   R"("\udc00\ud800":1)"}) {
    INFO(bad);
    CHECK_FALSE(same(valid_with(bad)));
  }
  // A string followed by a colon, which On-Demand would skip as a key.
  CHECK_FALSE(same(valid_with(R"("x":"":1)")));
  CHECK_FALSE(same(valid_with(R"("x":"v":{"y":2})")));
  // A string's escapes, the only way its text is shorter than its token.
  CHECK(same(valid_with(R"("class":"\/","host":"\u00e9\t")")));
}

TEST_CASE("event reader: numbers and nested details", "[unit]") {
  for (auto number :
       {"0", "-0", "12", "-7", "1.5", "1.5e3", "2E-2", "1e+2",
        "12345678901234567890123", "-9223372036854775809", "1e-400",
        "18446744073709551615", "0.1000000000000000055511151231257827"}) {
    INFO(number);
    CHECK(same(valid_with(std::string{"\"n\":"} + number)));
  }
  for (auto bad : {"01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "1e400",
                   "-1e400", "NaN", "Infinity", "1 2"}) {
    INFO(bad);
    CHECK_FALSE(same(valid_with(std::string{"\"n\":"} + bad)));
    CHECK_THAT(error_of(valid_with(std::string{"\"n\":"} + bad)),
               Catch::Contains("JSON"));
  }
  CHECK(same(valid_with(
      R"("obj":{"z":1,"a":[true,false,null,{"q":"\u00e9"}]},)"
      R"("labels":{"cluster":"eu-1","n":{"deep":[[[]]]}},"a.b":"dotted",)"
      R"("nil":null,"host":{"k":1.50})")));
  CHECK(same(valid_with(R"("labels":{"cluster":7})")));
  CHECK(same(valid_with(R"("labels":"not an object")")));
  CHECK(same(valid_with(R"("labels":{"cluster":null})")));
  // Invalid JSON inside a value the fast path only delimits.
  for (auto bad :
       {R"("x":[1,,2])", R"("x":[1,])", R"("x":{"a" 1})", R"("x":{"a":1,})",
        R"("x":{1:2})", R"("x":[tru])", R"("x":[nul])", R"("x":{"a":01})",
        R"("x":["\q"])", R"("x":[1 2])", R"("x":{"a":1 "b":2})"}) {
    INFO(bad);
    CHECK_FALSE(same(valid_with(bad)));
  }
}

TEST_CASE("event reader: duplicate keys behave as before", "[unit]") {
  // nlohmann keeps the last value of a key: so does the reader (it leaves
  // such bodies to the DOM path).
  CHECK_FALSE(same(valid_with(R"("summary":5,"summary":"later")")));
  CHECK_FALSE(same(valid_with(R"("summary":"s","summary":null)")));
  CHECK_FALSE(same(valid_with(R"("host":"a","host":"b")")));
  CHECK(error_of(valid_with(R"("summary":"s","summary":null)")) ==
        "field 'summary' is required");
}

TEST_CASE("event reader: malformed bodies and batches", "[unit]") {
  for (auto body :
       {"{", "{\"event_manager_id\": }", "not json", "", "{\"a\":1}}",
        "{'a': 1}", "[]", "\"text\"", "42", "null", "true", "{} {}", "[{}]"}) {
    CHECK_FALSE(same(body));
    CHECK_FALSE(error_of(body).empty());
  }
  auto v = valid_with(R"("class":"c")");
  CHECK(same("[" + v + "," + v + "]", events_body::batch));
  CHECK(same("[]", events_body::batch));
  CHECK(same("[" + v + R"(,{"action":"trigger"},)" + v + "]",
             events_body::batch));
  // Elements that are not objects are named by index (by the DOM path).
  CHECK_FALSE(same("[" + v + ",42,[],null]", events_body::batch));
  CHECK_FALSE(same(v, events_body::batch));
  CHECK_FALSE(same("[" + v + ",]", events_body::batch));
  event_reader reader;
  auto err =
      reader.parse("[" + v + "," + v + "," + v + "]", events_body::batch, 2);
  REQUIRE(err);
  CHECK(argus::code_of(err) == ec::payload_too_large);
  CHECK(argus::message_of(err) == "batch has 3 events; the limit is 2");
}

TEST_CASE("event reader: huge and deep bodies", "[unit]") {
  // A megabyte of details is read like any other.
  CHECK(same(valid_with("\"pad\":\"" + std::string(1 << 20, 'x') + "\"")));
  std::string many = "[";
  for (int i = 0; i < 5000; ++i)
    many += (i ? "," : "") +
            valid_with(R"("class":"c)" + std::to_string(i) + R"(")");
  many += "]";
  CHECK(same(many, events_body::batch, 10000));
  // Nesting up to the limit is fine; deeper is refused with a clear error,
  // on both paths, whatever else is wrong with the body.
  auto nested = [](size_t levels) {
    return valid_with("\"x\":" + std::string(levels, '[') +
                      std::string(levels, ']'));
  };
  CHECK(same(nested(argus::http::max_event_depth - 1)));
  for (auto body : {nested(argus::http::max_event_depth), nested(100000),
                    // Deep and not valid JSON: the DOM path refuses it.
                    valid_with("\"x\":" + std::string(100000, '['))}) {
    event_reader deep;
    auto err = deep.parse(body, events_body::one, 1);
    REQUIRE(err);
    CHECK(argus::code_of(err) == ec::bad_request);
  }
  event_reader deep;
  CHECK(argus::message_of(deep.parse(nested(100000), events_body::one, 1)) ==
        "request body is nested deeper than 1024 levels");
  CHECK(argus::message_of(
            deep.parse("[" + nested(5000) + "]", events_body::batch, 10)) ==
        "request body is nested deeper than 1024 levels");
}

TEST_CASE("event reader: large bodies reuse spare buffers and read only "
          "their own events",
          "[unit]") {
  auto batch_of = [](int n, const std::string& tag) {
    std::string body = "[";
    for (int i = 0; i < n; ++i)
      body += (i ? "," : "") +
              valid_with(R"("class":")" + tag + std::to_string(i) + R"(")");
    return body + "]";
  };
  auto classes = [](event_reader& reader) {
    std::vector<std::string> out;
    for (size_t i = 0; i < reader.size(); ++i)
      out.push_back(event_at(reader, i)->class_name);
    return out;
  };
  auto big = batch_of(1000, "a"); // about 130 KiB: over the small bound
  auto big_other = batch_of(400, "b");
  {
    // Two readers at once hold two sets; neither sees the other's events.
    event_reader first;
    event_reader second;
    REQUIRE(!first.parse(big, events_body::batch, 1000));
    REQUIRE(!second.parse(big_other, events_body::batch, 1000));
    CHECK_FALSE(first.used_dom());
    REQUIRE(first.size() == 1000);
    REQUIRE(second.size() == 400);
    CHECK(classes(first)[999] == "a999");
    CHECK(classes(second)[399] == "b399");
  }
  auto spare = event_reader::spare_buffer_sets();
  CHECK(spare >= 2);
  {
    // A set used before for 1,000 events now holds 400: nothing left over.
    event_reader reader;
    REQUIRE(!reader.parse(big_other, events_body::batch, 1000));
    CHECK(event_reader::spare_buffer_sets() == spare - 1);
    auto got = classes(reader);
    REQUIRE(got.size() == 400);
    CHECK(got.front() == "b0");
    CHECK(got.back() == "b399");
    // Small bodies on the same thread go to the thread's own buffers and
    // leave this reader's events alone.
    CHECK(same(valid_with(R"("class":"small")")));
    CHECK(classes(reader) == got);
  }
  CHECK(event_reader::spare_buffer_sets() == spare);
  {
    // Sets grown past a mebibyte are freed, not kept.
    event_reader huge;
    REQUIRE(!huge.parse(batch_of(12000, "h"), events_body::batch, 20000));
    CHECK(huge.size() == 12000);
  }
  CHECK(event_reader::spare_buffer_sets() == spare - 1);
}

TEST_CASE("event_fields: a standard name's index matches its slot", "[unit]") {
  // The fast path tells duplicate standard fields apart by index_of; the
  // readers fill slots: both must name the same member.
  argus::http::event_fields f;
  const std::string names[] = {"event_manager_id", "action",   "dedupKey",
                               "summary",          "severity", "class",
                               "acknowledged_by"};
  for (size_t i = 0; i < std::size(names); ++i) {
    auto index = argus::http::event_fields::index_of(names[i]);
    CHECK(index == static_cast<int>(i));
    CHECK(f.slot(names[i]) == &f.event_manager_id + index);
  }
  for (const char* other : {"", "host", "Class", "dedupkey", "summary2",
                            "event_manager", "acknowledged_byx"}) {
    CHECK(argus::http::event_fields::index_of(other) == -1);
    CHECK(f.slot(other) == nullptr);
  }
}

TEST_CASE("append_json_string escapes as nlohmann-json dumps", "[unit]") {
  auto written = [](std::string_view text) {
    std::string out = "x"; // appended to, not replaced
    argus::http::append_json_string(out, text);
    return out;
  };
  // Every ASCII byte alone, at the start, between and at the end of runs.
  for (int c = 0; c < 0x80; ++c) {
    std::string ch(1, static_cast<char>(c));
    for (auto text : {ch, "ab" + ch, ch + "cd", "ab" + ch + "cd" + ch + ch}) {
      INFO("byte " << c);
      CHECK(written(text) == "x" + json(text).dump());
    }
  }
  CHECK(written("") == "x\"\"");
  // Past eight bytes, where whole words are scanned: escapes in the first,
  // second and last word, and a text with none.
  for (auto text : {std::string{"0123\"5678901234567\\9"},
                    std::string{"0123456789abcdef\x01xyz"},
                    std::string{"plain text, longer than two words"},
                    std::string{"ends with a newline past word one\n"}})
    CHECK(written(text) == "x" + json(text).dump());
  auto utf8 = std::string{"gr\xc3\xb6\xc3\x9f"
                          "e \xf0\x9f\x9a\x80 \"q\"\n"};
  CHECK(written(utf8) == "x" + json(utf8).dump());
}

TEST_CASE("find_json_special finds the first byte a JSON string escapes",
          "[unit]") {
  // Every byte value at every place of texts up to 19 bytes long (so
  // within and across the 8-byte words), over a background of each kind
  // of plain byte: ASCII, and UTF-8's high bytes, which must not match.
  for (char plain : {'a', ' ', '\x7f', '\x80', '\xe2', '\xff'}) {
    for (size_t len = 0; len < 20; ++len) {
      for (int byte = 0; byte < 256; ++byte) {
        for (size_t at = 0; at < len; ++at) {
          std::string text(len, plain);
          text[at] = static_cast<char>(byte);
          auto* begin = text.data();
          auto* found = argus::http::find_json_special(begin, begin + len);
          auto special =
              argus::http::json_special(static_cast<unsigned char>(byte));
          INFO("plain " << int(plain) << " length " << len << " byte " << byte
                        << " at " << at);
          CHECK(found - begin == static_cast<ptrdiff_t>(special ? at : len));
        }
      }
    }
  }
  // Of two, the first is found, whichever comes later in its word.
  for (size_t first = 0; first < 16; ++first)
    for (size_t second = first + 1; second < 17; ++second)
      for (char later : {'\0', '"', '\\', '\x1f'}) {
        std::string text(17, 'x');
        text[first] = '\n';
        text[second] = later;
        auto* begin = text.data();
        CHECK(argus::http::find_json_special(begin, begin + text.size()) ==
              begin + first);
      }
}
