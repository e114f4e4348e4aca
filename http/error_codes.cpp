#include "http/error_codes.hpp"

namespace argus::http {

http_error http_error_of(ec code) {
  switch (code) {
  case ec::bad_request:
    return {400, "BAD_REQUEST"};
  case ec::validation_failed:
    return {400, "VALIDATION_FAILED"};
  case ec::not_found:
    return {404, "NOT_FOUND"};
  case ec::conflict:
    return {409, "CONFLICT"};
  case ec::payload_too_large:
    return {413, "PAYLOAD_TOO_LARGE"};
  case ec::unavailable:
    return {503, "UNAVAILABLE"};
  case ec::unauthenticated:
    return {401, "UNAUTHORIZED"};
  case ec::forbidden:
    return {403, "FORBIDDEN"};
  case ec::rate_limited:
    return {429, "RATE_LIMITED"};
  case ec::request_timeout:
    return {408, "REQUEST_TIMEOUT"};
  case ec::headers_too_large:
    return {431, "HEADERS_TOO_LARGE"};
  case ec::unsupported_encoding:
    return {415, "UNSUPPORTED_MEDIA_TYPE"};
  case ec::method_not_allowed:
    return {405, "METHOD_NOT_ALLOWED"};
  default:
    return {500, "INTERNAL_ERROR"};
  }
}

} // namespace argus::http
