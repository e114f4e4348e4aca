// The front stage's request reader and body decoding (http/request_parser.*).

#include "http/request_parser.hpp"
#include "support/compress.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

using argus::ec;
using argus::http::request_limits;
using argus::http::request_parser;
using st = request_parser::state;

request_limits small() {
  return request_limits{1024, 4096};
}

/// Feeds `text` one byte at a time, as a trickling client would.
st feed_slowly(request_parser& p, const std::string& text,
               httplib::Request& req) {
  std::string buf;
  auto s = st::need_more;
  for (auto c : text) {
    buf.push_back(c);
    s = p.parse(buf, req);
    if (s != st::need_more)
      break;
  }
  return s;
}

/// The parser tests compress as hard as zlib can.
std::string zlib_best(const std::string& text, int window_bits) {
  return argus::test::zlib_of(text, window_bits, 9);
}

using argus::test::brotli_of;

} // namespace

TEST_CASE("a request is complete once its headers and body arrived", "[unit]") {
  request_parser p{small()};
  httplib::Request req;
  std::string text = "POST /v1/events?a=1&b=x%20y HTTP/1.1\r\n"
                     "Host: h\r\nContent-Length: 5\r\n\r\nhello";
  REQUIRE(feed_slowly(p, text, req) == st::complete);
  CHECK(p.consumed() == text.size());
  CHECK(req.method == "POST");
  CHECK(req.path == "/v1/events");
  CHECK(req.get_param_value("b") == "x y");
  CHECK(req.get_header_value("host") == "h");
  CHECK(req.body == "hello");
  CHECK(p.keep_alive());
}

TEST_CASE("pipelined requests are taken one at a time", "[unit]") {
  request_parser p{small()};
  httplib::Request req;
  std::string first = "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n";
  std::string buf = first + "GET /metrics HTTP/1.0\r\n\r\n";
  REQUIRE(p.parse(buf, req) == st::complete);
  CHECK(p.consumed() == first.size());
  CHECK_FALSE(p.keep_alive());
  buf.erase(0, p.consumed());
  p.reset();
  httplib::Request next;
  REQUIRE(p.parse(buf, next) == st::complete);
  CHECK(next.path == "/metrics");
  CHECK_FALSE(p.keep_alive()); // HTTP/1.0 without keep-alive
}

TEST_CASE("a partial request line is told apart from partial headers",
          "[unit]") {
  request_parser p{small()};
  httplib::Request req;
  CHECK(p.parse("GET /hea", req) == st::need_more);
  CHECK_FALSE(p.has_request_line());
  CHECK(p.parse("GET /healthz HTTP/1.1\r\nX-Slow: a", req) == st::need_more);
  CHECK(p.has_request_line());
  CHECK_FALSE(p.headers_done());
}

TEST_CASE("chunked bodies are put together, trailers and all", "[unit]") {
  request_parser p{small()};
  httplib::Request req;
  std::string text = "POST /v1/events HTTP/1.1\r\nTransfer-Encoding: chunked"
                     "\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
                     "X-Trailer: t\r\n\r\nGET";
  REQUIRE(feed_slowly(p, text, req) == st::complete);
  CHECK(req.body == "hello world");
  CHECK(p.consumed() == text.size() - 3);
}

TEST_CASE("framing fields are read in any case, the first of each counts",
          "[unit]") {
  httplib::Request req;
  request_parser p{small()};
  auto parse = [&](const std::string& text) { return p.parse(text, req); };
  SECTION("a body sized by a lower-case content-length") {
    std::string text = "POST /v1/events HTTP/1.1\r\ncontent-length: 2\r\n"
                       "CONNECTION: Close\r\n\r\nhiGET";
    REQUIRE(parse(text) == st::complete);
    CHECK(req.body == "hi");
    CHECK(p.consumed() == text.size() - 3);
    CHECK_FALSE(p.keep_alive());
  }
  SECTION("HTTP/1.0 kept alive, 100-continue expected, mixed case") {
    CHECK(parse("POST /v1/events HTTP/1.0\r\nConnection: Keep-Alive\r\n"
                "EXPECT: 100-Continue\r\nContent-length: 3\r\n\r\n") ==
          st::need_more);
    CHECK(p.keep_alive());
    CHECK(p.expects_continue());
  }
  SECTION("a chunked body named in upper case") {
    REQUIRE(parse("POST / HTTP/1.1\r\nTRANSFER-ENCODING: Chunked\r\n\r\n"
                  "2\r\nok\r\n0\r\n\r\n") == st::complete);
    CHECK(req.body == "ok");
  }
  SECTION("of two Connection fields, the first decides") {
    REQUIRE(parse("GET / HTTP/1.1\r\nConnection: keep-alive\r\n"
                  "connection: close\r\n\r\n") == st::complete);
    CHECK(p.keep_alive());
  }
  SECTION("of two Transfer-Encodings, the first decides") {
    REQUIRE(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                  "transfer-encoding: gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n") ==
            st::complete);
    CHECK(req.body == "ok");
  }
  SECTION("two Content-Lengths, in different cases") {
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 1\r\n"
                "content-length: 1\r\n\r\nx") == st::failed);
    CHECK(p.error() == ec::bad_request);
    CHECK(p.message() == "more than one Content-Length");
  }
  SECTION("a Transfer-Encoding other than chunked is named") {
    CHECK(parse("POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n") ==
          st::failed);
    CHECK(p.message() ==
          "unsupported Transfer-Encoding 'gzip' (only chunked is)");
  }
  SECTION("an empty Content-Length is malformed, not absent") {
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n") == st::failed);
    CHECK(p.message() == "malformed Content-Length ''");
  }
}

TEST_CASE("a control character in a header value is refused", "[unit]") {
  // A NUL cut httplib's lookups short ("2<NUL>" read as "2"), so a body
  // could be framed differently by what reads the map later.
  for (std::string value : {std::string("2\0zz", 4), std::string("a\nb"),
                            std::string("a\rb"), std::string("a\x7f")}) {
    INFO(value);
    request_parser p{small()};
    httplib::Request req;
    CHECK(p.parse("POST / HTTP/1.1\r\nContent-Length: " + value + "\r\n\r\nhi",
                  req) == st::failed);
    CHECK(p.error() == ec::bad_request);
    CHECK(p.message() ==
          "header field 'Content-Length' has a control character in its "
          "value");
  }
  // A tab is white space, and obs-text (bytes from 0x80) is allowed.
  request_parser p{small()};
  httplib::Request req;
  CHECK(p.parse("GET / HTTP/1.1\r\nX-Note: a\tb \xc3\xa9\r\n\r\n", req) ==
        st::complete);
  CHECK(req.get_header_value("X-Note") == "a\tb \xc3\xa9");
}

TEST_CASE("limits and malformed framing fail with their code", "[unit]") {
  auto fails = [](const std::string& text, ec code) {
    httplib::Request req;
    request_parser p{small()};
    INFO(text.substr(0, 80));
    CHECK(p.parse(text, req) == st::failed);
    CHECK(p.error() == code);
  };
  fails("GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n",
        ec::headers_too_large);
  // Too large before the end of the headers arrived, too.
  fails("GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a'),
        ec::headers_too_large);
  fails("POST / HTTP/1.1\r\nContent-Length: 5000\r\n\r\n",
        ec::payload_too_large);
  fails("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2000\r\n",
        ec::payload_too_large);
  fails("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: "
        "chunked\r\n\r\n",
        ec::bad_request);
  fails("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", ec::bad_request);
  fails("POST / HTTP/1.1\r\nContent-Encoding: zstd\r\n\r\n",
        ec::unsupported_encoding);
  fails("GET / HTTP/2.0\r\n\r\n", ec::bad_request);
  fails("GET nothing HTTP/1.1\r\n\r\n", ec::bad_request);
  fails("GET / HTTP/1.1\r\nno colon\r\n\r\n", ec::bad_request);
}

TEST_CASE("encoded bodies are decoded, and stop at the limit", "[unit]") {
  std::string json = R"({"hello": "world"})";
  for (auto [encoding, body] : {std::pair{"gzip", zlib_best(json, 31)},
                                {"deflate", zlib_best(json, 15)},
                                {"deflate", zlib_best(json, -15)},
                                {"br", brotli_of(json)}}) {
    INFO(encoding);
    httplib::Request req;
    req.headers.emplace("Content-Encoding", encoding);
    req.body = body;
    REQUIRE_FALSE(argus::http::decode_body(req, 4096));
    CHECK(req.body == json);
    CHECK_FALSE(req.has_header("Content-Encoding"));
  }
  std::string zeros(10 * 1024 * 1024, '\0');
  for (auto [encoding, body] :
       {std::pair{"gzip", zlib_best(zeros, 31)}, {"br", brotli_of(zeros)}}) {
    INFO(encoding);
    httplib::Request req;
    req.headers.emplace("Content-Encoding", encoding);
    req.body = body;
    CHECK(body.size() < 20000);
    auto err = argus::http::decode_body(req, 4096);
    CHECK(argus::code_of(err) == ec::payload_too_large);
  }
  httplib::Request corrupt;
  corrupt.headers.emplace("Content-Encoding", "gzip");
  corrupt.body = "definitely not gzip";
  CHECK(argus::code_of(argus::http::decode_body(corrupt, 4096)) ==
        ec::bad_request);
  httplib::Request truncated;
  truncated.headers.emplace("Content-Encoding", "gzip");
  truncated.body = zlib_best(json, 31).substr(0, 10);
  CHECK(argus::code_of(argus::http::decode_body(truncated, 4096)) ==
        ec::bad_request);
}

TEST_CASE("obsolete line folding is refused with a message naming it",
          "[unit]") {
  for (auto fold : {" ", "\t"}) {
    httplib::Request req;
    request_parser p{small()};
    std::string text = "GET / HTTP/1.1\r\nX-Long: first part\r\n" +
                       std::string{fold} + "second part\r\n\r\n";
    REQUIRE(p.parse(text, req) == st::failed);
    CHECK(p.error() == ec::bad_request);
    CHECK(p.message().find("obsolete line folding") != std::string::npos);
  }
}
