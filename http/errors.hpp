#pragma once

#include "domain/error.hpp"
#include "domain/rate_limit.hpp"
#include "http/error_codes.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

/// The envelope every JSON reply uses, with statuses and codes from the one
/// table (`http/error_codes.hpp`).
namespace argus::http {

/// `{"success": true, "data": data}` with `status`.
void reply_data(httplib::Response& res, int status, const nlohmann::json& data);

/// 202 `{"success": true, "data": {"dedupKey": ..., "status":
/// "accepted"}}` for one accepted event, the bytes `reply_data` writes,
/// without a JSON DOM: building, printing and freeing one cost twice as
/// much as parsing the event. `dedup_key` is valid UTF-8 (read from JSON).
void reply_accepted(httplib::Response& res, std::string_view dedup_key);

/// `{"success": false, "error": {"code": ..., "message": ...}}`.
void reply_error(httplib::Response& res, const caf::error& err);
void reply_error(httplib::Response& res, ec code, const std::string& message);

/// `Retry-After` for a rate-limited request: the wait in whole seconds,
/// rounded up.
void set_retry_after(httplib::Response& res, const domain::rate_refusal& r);

/// The envelope for a status no handler filled in (404 for no route...).
void fill_error_body(const httplib::Request& req, httplib::Response& res);

} // namespace argus::http
