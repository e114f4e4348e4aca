#include "http/routes.hpp"

#include "domain/error.hpp"
#include "http/json.hpp"

namespace argus::http {

caf::expected<nlohmann::json> read_body(const route_env& env,
                                        const httplib::Request& req) {
  auto limit = env.settings.server.max_body_bytes;
  if (req.body.size() > limit)
    return make_error(ec::payload_too_large, "request body is larger than " +
                                                 std::to_string(limit) +
                                                 " bytes");
  return parse_body(req.body);
}

} // namespace argus::http
