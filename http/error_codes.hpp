#pragma once

#include "domain/error.hpp"

/// The one table from Argus error codes to HTTP statuses and JSON error
/// codes. Apart from the server so that argusctl's `--json` output names
/// errors as the API does without linking the server.
namespace argus::http {

struct http_error {
  int status;
  const char* code;
};

/// Maps an Argus error code to its HTTP status and JSON code.
http_error http_error_of(ec code);

} // namespace argus::http
