#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include <cstdint>
#include <string>

namespace argus {

/// Error codes of Argus. The numbers are pinned: they cross the wire between
/// nodes and the CLI, so never renumber, only append.
enum class ec : uint8_t {
  /// Not an error.
  none = 0,
  /// The request is malformed (bad JSON, wrong type, not an object).
  bad_request = 1,
  /// The request is well-formed but a value breaks a rule.
  validation_failed = 2,
  /// The addressed entity does not exist.
  not_found = 3,
  /// The request conflicts with current state (in use, ambiguous, exists).
  conflict = 4,
  /// The body is larger than the configured limit.
  payload_too_large = 5,
  /// The service cannot take more work right now; retry later.
  unavailable = 6,
  /// Something failed inside the service (e.g. the store).
  internal = 7,
  /// The request carries no valid API key (missing, unknown, expired or
  /// revoked).
  unauthenticated = 8,
  /// The request's key lacks the right for what it asks.
  forbidden = 9,
  /// An event manager is over its rate limit; retry after the wait the
  /// front names (HTTP: 429 with Retry-After).
  rate_limited = 10,
  /// The client took too long to send its request (HTTP 408).
  request_timeout = 11,
  /// The request line and headers are larger than allowed (HTTP 431).
  headers_too_large = 12,
  /// The body's Content-Encoding is not one the server decodes (HTTP 415).
  unsupported_encoding = 13,
  /// The path exists, but not for the request's method (HTTP 405 with
  /// `Allow`).
  method_not_allowed = 14,
};

/// Creates an error with a human-readable message naming the problem.
caf::error make_error(ec code, std::string message);

/// The message attached to an Argus (or any) error, or a fallback text.
std::string message_of(const caf::error& err);

/// The Argus code of an error; `ec::internal` for errors of other categories.
ec code_of(const caf::error& err);

} // namespace argus

CAF_ERROR_CODE_ENUM(argus::ec, "argus")
