#include "http/request_parser.hpp"

#include <brotli/decode.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

namespace argus::http {

namespace {

/// Most header fields one request may carry.
constexpr size_t max_header_count = 100;
/// Longest chunk-size line (with extensions).
constexpr size_t max_chunk_line = 1024;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::string trim(const std::string& text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string::npos)
    return "";
  auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool is_token(const std::string& text) {
  if (text.empty())
    return false;
  for (unsigned char c : text)
    if (c <= 32 || c >= 127 ||
        std::string_view{"()<>@,;:\\\"/[]?={}"}.find(static_cast<char>(c)) !=
            std::string::npos)
      return false;
  return true;
}

/// Whether a comma-separated header value lists `token`.
bool lists(const std::string& value, const std::string& token) {
  size_t start = 0;
  auto v = lower(value);
  while (start <= v.size()) {
    auto end = v.find(',', start);
    if (end == std::string::npos)
      end = v.size();
    if (trim(v.substr(start, end - start)) == token)
      return true;
    start = end + 1;
  }
  return false;
}

/// Whether a field value holds a control character other than tab.
bool has_control(const std::string& value) {
  return std::any_of(value.begin(), value.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t') || c == 0x7f;
  });
}

/// Whether header name `name` is `expected` (given in lower case), in any
/// case: ASCII only, as field names are tokens.
bool is_field(const std::string& name, std::string_view expected) {
  if (name.size() != expected.size())
    return false;
  for (size_t i = 0; i < name.size(); ++i) {
    auto c = static_cast<unsigned char>(name[i]);
    if ((c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c) !=
        static_cast<unsigned char>(expected[i]))
      return false;
  }
  return true;
}

/// The fields that frame a request, noted as the header lines are read:
/// five lookups in the case-insensitive header map cost more than parsing
/// the event in the body.
struct framing_fields {
  struct field {
    std::string value; ///< the first one's
    size_t count = 0;
  };
  field connection, expect, content_encoding, transfer_encoding, content_length;

  void note(const std::string& name, const std::string& value) {
    for (auto [f, expected] : {std::pair{&connection, "connection"},
                               {&expect, "expect"},
                               {&content_encoding, "content-encoding"},
                               {&transfer_encoding, "transfer-encoding"},
                               {&content_length, "content-length"}})
      if (is_field(name, expected)) {
        if (f->count++ == 0)
          f->value = value;
        return;
      }
  }
};

} // namespace

request_parser::state request_parser::fail(ec code, std::string message) {
  error_ = code;
  message_ = std::move(message);
  return state::failed;
}

void request_parser::reset() {
  *this = request_parser{limits_};
}

request_parser::state request_parser::parse(const std::string& buf,
                                            httplib::Request& req) {
  if (error_ != ec::none)
    return state::failed;
  if (stage_ == stage::headers) {
    if (!has_line_)
      has_line_ = buf.find("\r\n") != std::string::npos;
    auto end = buf.find("\r\n\r\n", scan_ > 3 ? scan_ - 3 : 0);
    if (end == std::string::npos) {
      scan_ = buf.size();
      if (buf.size() > limits_.max_header_bytes)
        return fail(ec::headers_too_large,
                    "the request line and headers are larger than " +
                        std::to_string(limits_.max_header_bytes) + " bytes");
      return state::need_more;
    }
    if (end + 4 > limits_.max_header_bytes)
      return fail(ec::headers_too_large,
                  "the request line and headers are larger than " +
                      std::to_string(limits_.max_header_bytes) + " bytes");
    if (auto s = parse_head(buf, end, req); s != state::need_more)
      return s;
  }
  if (stage_ == stage::body) {
    if (buf.size() - body_start_ < content_length_)
      return state::need_more;
    req.body = buf.substr(body_start_, content_length_);
    consumed_ = body_start_ + content_length_;
    stage_ = stage::done;
    return state::complete;
  }
  if (stage_ == stage::done)
    return state::complete;
  return parse_chunks(buf, req);
}

request_parser::state request_parser::parse_head(const std::string& buf,
                                                 size_t end,
                                                 httplib::Request& req) {
  auto line_end = buf.find("\r\n");
  auto line = buf.substr(0, line_end);
  auto sp1 = line.find(' ');
  auto sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1)
    return fail(ec::bad_request, "malformed HTTP request line");
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  req.version = line.substr(sp2 + 1);
  if (!is_token(req.method))
    return fail(ec::bad_request, "malformed HTTP method");
  if (req.version != "HTTP/1.1" && req.version != "HTTP/1.0")
    return fail(ec::bad_request, "unsupported HTTP version '" + req.version +
                                     "' (expected HTTP/1.1 or HTTP/1.0)");
  if (req.target.empty() || req.target.front() != '/')
    return fail(ec::bad_request, "the request target must start with '/'");
  auto query = req.target.find('?');
  req.path = httplib::detail::decode_url(req.target.substr(0, query), false);
  if (query != std::string::npos)
    httplib::detail::parse_query_text(req.target.substr(query + 1), req.params);
  size_t count = 0;
  framing_fields framing;
  for (auto pos = line_end + 2; pos < end + 2;) {
    auto next = buf.find("\r\n", pos);
    auto field = buf.substr(pos, next - pos);
    pos = next + 2;
    if (++count > max_header_count)
      return fail(ec::headers_too_large, "more than " +
                                             std::to_string(max_header_count) +
                                             " header fields");
    if (!field.empty() && (field[0] == ' ' || field[0] == '\t'))
      return fail(ec::bad_request,
                  "obsolete line folding (a header line starting with a "
                  "space or tab) is not accepted; send each header on one "
                  "line");
    auto colon = field.find(':');
    if (colon == std::string::npos || !is_token(field.substr(0, colon)))
      return fail(ec::bad_request, "malformed header field");
    auto it = req.headers.emplace(field.substr(0, colon),
                                  trim(field.substr(colon + 1)));
    // RFC 9110 5.5: a NUL, bare CR or LF in a value is refused, not
    // guessed at (httplib's lookups stop at a NUL; ours would not).
    if (has_control(it->second))
      return fail(ec::bad_request, "header field '" + it->first +
                                       "' has a control character in its "
                                       "value");
    framing.note(it->first, it->second);
  }
  body_start_ = end + 4;
  consumed_ = body_start_;
  const auto& connection = framing.connection.value;
  keep_alive_ = req.version == "HTTP/1.1" ? !lists(connection, "close")
                                          : lists(connection, "keep-alive");
  expect_continue_ = lower(framing.expect.value) == "100-continue";
  const auto& encoding = framing.content_encoding.value;
  if (!encoding.empty() && !known_encoding(encoding))
    return fail(ec::unsupported_encoding,
                "Content-Encoding '" + encoding +
                    "' is not supported (use gzip, deflate or br)");
  if (framing.transfer_encoding.count > 0) {
    // A body framed two ways is how requests are smuggled past proxies.
    if (framing.content_length.count > 0)
      return fail(ec::bad_request,
                  "both Transfer-Encoding and Content-Length are set");
    if (lower(framing.transfer_encoding.value) != "chunked")
      return fail(ec::bad_request, "unsupported Transfer-Encoding '" +
                                       framing.transfer_encoding.value +
                                       "' (only chunked is)");
    stage_ = stage::chunk_size;
    pos_ = body_start_;
    return state::need_more;
  }
  if (framing.content_length.count > 1)
    return fail(ec::bad_request, "more than one Content-Length");
  const auto& length = framing.content_length.value;
  if (framing.content_length.count == 0) {
    stage_ = stage::done;
    return state::complete;
  }
  if (length.empty() || length.size() > 18 ||
      length.find_first_not_of("0123456789") != std::string::npos)
    return fail(ec::bad_request, "malformed Content-Length '" + length + "'");
  content_length_ = std::stoull(length);
  if (content_length_ > limits_.max_body_bytes)
    return fail(ec::payload_too_large,
                "request body is larger than " +
                    std::to_string(limits_.max_body_bytes) + " bytes");
  stage_ = stage::body;
  return state::need_more;
}

request_parser::state request_parser::parse_chunks(const std::string& buf,
                                                   httplib::Request& req) {
  for (;;) {
    switch (stage_) {
    case stage::chunk_size: {
      auto eol = buf.find("\r\n", pos_);
      if (eol == std::string::npos) {
        if (buf.size() - pos_ > max_chunk_line)
          return fail(ec::bad_request, "malformed chunk size line");
        return state::need_more;
      }
      auto text = buf.substr(pos_, eol - pos_);
      text = trim(text.substr(0, text.find(';')));
      if (text.empty() || text.size() > 15 ||
          text.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
        return fail(ec::bad_request, "malformed chunk size '" + text + "'");
      chunk_left_ = std::stoull(text, nullptr, 16);
      pos_ = eol + 2;
      if (chunk_left_ == 0) {
        stage_ = stage::trailers;
        break;
      }
      if (req.body.size() + chunk_left_ > limits_.max_body_bytes)
        return fail(ec::payload_too_large,
                    "request body is larger than " +
                        std::to_string(limits_.max_body_bytes) + " bytes");
      stage_ = stage::chunk_data;
      break;
    }
    case stage::chunk_data: {
      if (buf.size() < pos_ + chunk_left_ + 2)
        return state::need_more;
      if (buf.compare(pos_ + chunk_left_, 2, "\r\n") != 0)
        return fail(ec::bad_request, "a chunk does not end with CRLF");
      req.body.append(buf, pos_, chunk_left_);
      pos_ += chunk_left_ + 2;
      stage_ = stage::chunk_size;
      break;
    }
    case stage::trailers: {
      auto eol = buf.find("\r\n", pos_);
      if (eol == std::string::npos) {
        if (trailer_bytes_ + buf.size() - pos_ > limits_.max_header_bytes)
          return fail(ec::headers_too_large, "the trailers are too large");
        return state::need_more;
      }
      trailer_bytes_ += eol + 2 - pos_;
      if (trailer_bytes_ > limits_.max_header_bytes)
        return fail(ec::headers_too_large, "the trailers are too large");
      bool last = eol == pos_;
      pos_ = eol + 2;
      if (last) {
        consumed_ = pos_;
        stage_ = stage::done;
        return state::complete;
      }
      break;
    }
    default:
      return state::complete;
    }
  }
}

// -- Content-Encoding ---------------------------------------------------------

bool known_encoding(const std::string& encoding) {
  auto e = lower(trim(encoding));
  return e == "gzip" || e == "x-gzip" || e == "deflate" || e == "br" ||
         e == "identity";
}

namespace {

caf::error too_large(size_t limit) {
  return make_error(ec::payload_too_large, "request body is larger than " +
                                               std::to_string(limit) +
                                               " bytes once decoded");
}

/// zlib's inflate: `window_bits` 15+32 reads gzip and zlib streams, -15 raw
/// deflate.
caf::error inflate_into(const std::string& in, std::string& out, size_t limit,
                        int window_bits, bool& bad_header) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK)
    return make_error(ec::internal, "cannot start zlib");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char chunk[16384];
  int rc = Z_OK;
  caf::error err;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(chunk);
    z.avail_out = sizeof chunk;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      bad_header = z.total_out == 0 && rc == Z_DATA_ERROR;
      err = make_error(ec::bad_request, "the request body is not valid "
                                        "compressed data");
      break;
    }
    out.append(chunk, sizeof chunk - z.avail_out);
    if (out.size() > limit) {
      err = too_large(limit);
      break;
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      err = make_error(ec::bad_request, "the compressed request body is "
                                        "truncated");
      break;
    }
  }
  inflateEnd(&z);
  return err;
}

caf::error brotli_into(const std::string& in, std::string& out, size_t limit) {
  auto* state = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  if (state == nullptr)
    return make_error(ec::internal, "cannot start brotli");
  auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
  size_t avail_in = in.size();
  uint8_t chunk[16384];
  caf::error err;
  for (;;) {
    uint8_t* next_out = chunk;
    size_t avail_out = sizeof chunk;
    auto rc = BrotliDecoderDecompressStream(state, &avail_in, &next_in,
                                            &avail_out, &next_out, nullptr);
    out.append(reinterpret_cast<char*>(chunk), sizeof chunk - avail_out);
    if (out.size() > limit) {
      err = too_large(limit);
      break;
    }
    if (rc == BROTLI_DECODER_RESULT_SUCCESS)
      break;
    if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT)
      continue;
    err = make_error(ec::bad_request,
                     rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT
                         ? "the compressed request body is truncated"
                         : "the request body is not valid brotli data");
    break;
  }
  BrotliDecoderDestroyInstance(state);
  return err;
}

} // namespace

caf::error decode_body(httplib::Request& req, size_t limit) {
  auto encoding = lower(trim(req.get_header_value("Content-Encoding")));
  if (encoding.empty() || encoding == "identity")
    return {};
  if (!known_encoding(encoding))
    return make_error(ec::unsupported_encoding,
                      "Content-Encoding '" + encoding +
                          "' is not supported (use gzip, deflate or br)");
  std::string out;
  caf::error err;
  if (encoding == "br") {
    err = brotli_into(req.body, out, limit);
  } else {
    bool bad_header = false;
    err = inflate_into(req.body, out, limit, 15 + 32, bad_header);
    // `deflate` means the zlib format, but some clients send it raw.
    if (err && bad_header && encoding == "deflate") {
      out.clear();
      err = inflate_into(req.body, out, limit, -15, bad_header);
    }
  }
  if (err)
    return err;
  req.body = std::move(out);
  req.headers.erase("Content-Encoding");
  return {};
}

} // namespace argus::http
