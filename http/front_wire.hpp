#pragma once

// Internal to the front stage (http/front*.cpp): bytes on the wire.

#include "domain/error.hpp"

#include <httplib.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <string>

namespace argus::http::wire {

/// What one read or write did.
enum class io { ok, want_read, want_write, eof, error };

/// The last OpenSSL error as text (and clears the queue).
std::string openssl_error();

/// "OK", "Not Found"... for a status line.
const char* reason_phrase(int status);

/// A whole reply the loop writes itself (no worker): the JSON error
/// envelope with `Connection: close`.
std::string canned(int status, const std::string& code,
                   const std::string& message);

/// `canned` for an Argus error code, mapped by the one table.
std::string error_reply(ec code, const std::string& message);

/// One read of at most `size` bytes, plain or TLS (`ssl` non-null).
io read_some(SSL* ssl, int fd, char* buf, size_t size, size_t& got);

/// One write of at most `size` bytes, plain or TLS (`ssl` non-null).
io write_some(SSL* ssl, int fd, const char* buf, size_t size, size_t& put);

/// Appends the reply to `out`: status line, headers (Content-Length and
/// Connection set here), body (none for HEAD, 204 and 304).
void serialize(const httplib::Request& req, httplib::Response& res,
               bool keep_alive, std::string& out);

} // namespace argus::http::wire
