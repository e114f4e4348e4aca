// The outbox over HTTP: stored notifications with their delivery states
// (the dead letter is `?state=failed`), and manual retries.
#include "domain/admission.hpp"
#include "http/auth.hpp"
#include "http/bridge.hpp"
#include "http/errors.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"

#include <charconv>

namespace argus::http {

namespace {

std::string query_parameter(const std::string& name) {
  return "query parameter '" + name + "'";
}

caf::expected<domain::notification_filter>
filter_of(const httplib::Request& req) {
  domain::notification_filter f;
  f.limit = domain::default_notification_limit;
  f.state = req.get_param_value("state");
  f.receiver = req.get_param_value("receiver");
  if (req.has_param("limit")) {
    auto text = req.get_param_value("limit");
    auto [end, code] =
        std::from_chars(text.data(), text.data() + text.size(), f.limit);
    if (code != std::errc{} || end != text.data() + text.size())
      return domain::out_of_range(query_parameter("limit"), 1,
                                  domain::max_notification_limit);
  }
  if (auto err = domain::check_notification_filter(f, query_parameter))
    return err;
  return f;
}

} // namespace

void add_notification_routes(router& svr, route_env& env) {
  svr.Get("/v1/notifications", [&env](const httplib::Request& req,
                                      httplib::Response& res) {
    auto filter = filter_of(req);
    if (!filter)
      return reply_error(res, filter.error());
    auto found = ask<std::vector<domain::notification_record>>(
        *env.node.system, env.node.notifier, atom::list::value, *filter);
    if (!found)
      return reply_error(res, found.error());
    // A scoped key sees its managers' notifications only (a page may then
    // hold fewer than `limit`).
    auto& who = current_principal();
    auto out = nlohmann::json::array();
    for (auto& r : *found)
      if (who.sees(r.note.parent->event_manager_id.str()))
        out.push_back(to_json(r));
    reply_data(res, 200, out);
  });
  // Failed deliveries of the notification become pending again, with a
  // fresh attempt and age budget: all of them, or `?receiver=` only.
  svr.Post(R"(/v1/notifications/([^/]+)/retry)",
           [&env](const httplib::Request& req, httplib::Response& res) {
             std::string id = req.matches[1];
             auto receiver = req.get_param_value("receiver");
             auto done = ask<atom::ok>(*env.node.system, env.node.notifier,
                                       atom::retry::value, id, receiver);
             if (!done)
               return reply_error(res, done.error());
             nlohmann::json body{{"id", id}, {"state", "pending"}};
             body["receiver"] = receiver.empty() ? nlohmann::json(nullptr)
                                                 : nlohmann::json(receiver);
             reply_data(res, 202, body);
           });
}

} // namespace argus::http
