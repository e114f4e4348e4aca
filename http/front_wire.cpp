#include "http/front_wire.hpp"

#include "http/error_codes.hpp"

#include <nlohmann/json.hpp>
#include <openssl/err.h>

#include <cerrno>
#include <strings.h>
#include <sys/socket.h>

namespace argus::http::wire {

namespace {

bool iequals(const std::string& a, const char* b) {
  return ::strcasecmp(a.c_str(), b) == 0;
}

} // namespace

std::string openssl_error() {
  auto code = ERR_get_error();
  if (code == 0)
    return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

const char* reason_phrase(int status) {
  switch (status) {
  case 100:
    return "Continue";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 408:
    return "Request Timeout";
  case 409:
    return "Conflict";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Entity";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

std::string canned(int status, const std::string& code,
                   const std::string& message) {
  nlohmann::json body{{"success", false},
                      {"error", {{"code", code}, {"message", message}}}};
  auto text =
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
         "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(text.size()) + "\r\nConnection: close\r\n\r\n" + text;
}

std::string error_reply(ec code, const std::string& message) {
  auto mapped = http_error_of(code);
  return canned(mapped.status, mapped.code, message);
}

namespace {

/// What a failed SSL_read or SSL_write (returning `n`) means for the
/// connection: a renegotiation in either direction, the peer's close, or an
/// error.
io ssl_status(SSL* ssl, int n) {
  switch (SSL_get_error(ssl, n)) {
  case SSL_ERROR_WANT_READ:
    return io::want_read;
  case SSL_ERROR_WANT_WRITE:
    return io::want_write;
  case SSL_ERROR_ZERO_RETURN:
    return io::eof;
  default:
    return io::error;
  }
}

} // namespace

io read_some(SSL* ssl, int fd, char* buf, size_t size, size_t& got) {
  got = 0;
  if (ssl == nullptr) {
    auto n = ::recv(fd, buf, size, 0);
    if (n > 0) {
      got = static_cast<size_t>(n);
      return io::ok;
    }
    if (n == 0)
      return io::eof;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
               ? io::want_read
               : io::error;
  }
  ERR_clear_error();
  auto n = SSL_read(ssl, buf, static_cast<int>(size));
  if (n > 0) {
    got = static_cast<size_t>(n);
    return io::ok;
  }
  return ssl_status(ssl, n);
}

io write_some(SSL* ssl, int fd, const char* buf, size_t size, size_t& put) {
  put = 0;
  if (ssl == nullptr) {
    auto n = ::send(fd, buf, size, MSG_NOSIGNAL);
    if (n >= 0) {
      put = static_cast<size_t>(n);
      return io::ok;
    }
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
               ? io::want_write
               : io::error;
  }
  ERR_clear_error();
  auto n = SSL_write(ssl, buf, static_cast<int>(size));
  if (n > 0) {
    put = static_cast<size_t>(n);
    return io::ok;
  }
  return ssl_status(ssl, n);
}

void serialize(const httplib::Request& req, httplib::Response& res,
               bool keep_alive, std::string& out) {
  if (res.status == -1)
    res.status = 200;
  out.reserve(out.size() + 256 + res.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += reason_phrase(res.status);
  out += "\r\n";
  for (auto& [name, value] : res.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Connection"))
      continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  bool bodiless = res.status == 204 || res.status == 304;
  if (!bodiless) {
    out += "Content-Length: ";
    out += std::to_string(res.body.size());
    out += "\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  out += "\r\n";
  if (!bodiless && req.method != "HEAD")
    out += res.body;
}

} // namespace argus::http::wire
