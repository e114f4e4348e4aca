#pragma once

#include "domain/error.hpp"

#include <httplib.h>

#include <cstddef>
#include <string>

namespace argus::http {

/// What a request may hold before it is refused.
struct request_limits {
  /// The request line and headers together (and a chunked body's
  /// trailers); 431 past it.
  size_t max_header_bytes = 16384;
  /// The body as sent (Content-Length, or the sum of the chunks); 413.
  size_t max_body_bytes = size_t{1024} * 1024;
};

/// An incremental HTTP/1.x request reader: given the bytes a connection has
/// received so far, it says whether they hold a complete request (request
/// line, headers, and a Content-Length or chunked body), need more, or
/// break a rule. No I/O: the front stage (http/front.*) feeds it.
class request_parser {
public:
  enum class state { need_more, complete, failed };

  explicit request_parser(request_limits limits) : limits_(limits) {}

  /// Parses `buf` (all bytes received for this request, the same prefix on
  /// each call). On `complete`, `req` holds the request and its first
  /// `consumed()` bytes of `buf` belong to it (the rest is the next
  /// pipelined request). On `failed`, `error()` and `message()` say why.
  state parse(const std::string& buf, httplib::Request& req);

  /// Starts over for the connection's next request.
  void reset();

  size_t consumed() const { return consumed_; }
  /// Whether a full request line has arrived.
  bool has_request_line() const { return has_line_; }
  /// Whether the headers are complete (the body may still be coming).
  bool headers_done() const { return stage_ != stage::headers; }
  /// Whether the client waits for `100 Continue` before sending its body.
  bool expects_continue() const { return expect_continue_; }
  /// Whether the connection may serve another request after this one
  /// (HTTP/1.1 without `Connection: close`, or 1.0 with keep-alive).
  bool keep_alive() const { return keep_alive_; }
  ec error() const { return error_; }
  const std::string& message() const { return message_; }

private:
  enum class stage { headers, body, chunk_size, chunk_data, trailers, done };

  state fail(ec code, std::string message);
  state parse_head(const std::string& buf, size_t end, httplib::Request& req);
  state parse_chunks(const std::string& buf, httplib::Request& req);

  request_limits limits_;
  stage stage_ = stage::headers;
  /// Where the search for the end of the headers (or a line) resumes.
  size_t scan_ = 0;
  /// Start of the body (after the headers' blank line).
  size_t body_start_ = 0;
  size_t content_length_ = 0;
  /// The chunked body: where the next chunk line starts, the size of the
  /// current chunk, and the trailer bytes so far.
  size_t pos_ = 0;
  size_t chunk_left_ = 0;
  size_t trailer_bytes_ = 0;
  size_t consumed_ = 0;
  bool has_line_ = false;
  bool expect_continue_ = false;
  bool keep_alive_ = true;
  ec error_ = ec::none;
  std::string message_;
};

/// Decodes the body of `req` in place by its Content-Encoding (gzip,
/// deflate, br or identity), stopping as soon as the decoded bytes pass
/// `limit` (a decompression bomb costs at most `limit` bytes of memory).
/// Errors: payload_too_large, unsupported_encoding, bad_request (corrupt
/// data).
caf::error decode_body(httplib::Request& req, size_t limit);

/// Whether the server can decode bodies with this Content-Encoding.
bool known_encoding(const std::string& encoding);

} // namespace argus::http
