#include "http/errors.hpp"
#include "http/event_json.hpp"

namespace argus::http {

void reply_data(httplib::Response& res, int status,
                const nlohmann::json& data) {
  res.status = status;
  nlohmann::json body{{"success", true}, {"data", data}};
  res.set_content(
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      "application/json");
}

void reply_accepted(httplib::Response& res, std::string_view dedup_key) {
  res.status = 202;
  std::string body = R"({"data":{"dedupKey":)";
  append_json_string(body, dedup_key);
  body += R"(,"status":"accepted"},"success":true})";
  res.set_content(body, "application/json");
}

void reply_error(httplib::Response& res, ec code, const std::string& message) {
  auto mapped = http_error_of(code);
  res.status = mapped.status;
  nlohmann::json body{
      {"success", false},
      {"error", {{"code", mapped.code}, {"message", message}}},
  };
  // Messages may quote client bytes; never fail on them.
  res.set_content(
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      "application/json");
}

void reply_error(httplib::Response& res, const caf::error& err) {
  reply_error(res, code_of(err), message_of(err));
}

void set_retry_after(httplib::Response& res, const domain::rate_refusal& r) {
  res.set_header("Retry-After",
                 std::to_string(domain::retry_after_seconds(r.retry_after)));
}

void fill_error_body(const httplib::Request& req, httplib::Response& res) {
  if (!res.body.empty())
    return;
  auto status = res.status;
  switch (status) {
  case 404:
    reply_error(res, ec::not_found,
                "no route for " + req.method + " " + req.path);
    break;
  case 413:
    reply_error(res, ec::payload_too_large,
                "request body is larger than the configured limit");
    break;
  case 400:
    reply_error(res, ec::bad_request, "malformed HTTP request");
    break;
  default: {
    nlohmann::json body{
        {"success", false},
        {"error",
         {{"code", status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST"},
          {"message", "HTTP status " + std::to_string(status)}}},
    };
    res.set_content(body.dump(), "application/json");
  }
  }
  res.status = status;
}

} // namespace argus::http
