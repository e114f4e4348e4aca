#include "http/auth.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"
#include "http/errors.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <cctype>
#include <vector>

namespace argus::http {

namespace {

using domain::access;

thread_local principal current;

/// Whose error shape a path answers in.
enum class shape { argus, am, pagerduty };

/// What a route needs, and what a successful call of it changes.
struct route_rule {
  /// No key needed (`/healthz`, an open `/metrics`, the console's files).
  bool open = false;
  /// Any valid key, whatever its role (`/v1/whoami`).
  bool any_key = false;
  /// The key is in the body (PagerDuty's routing_key); the handler checks.
  bool body_key = false;
  access what = access::read;
  /// The manager the path names, if any.
  std::string manager;
  /// Needs a key that covers every manager (a keyed `/metrics`).
  bool whole = false;
  shape errors = shape::argus;
  /// Audit: set for changes. The id is the path's unless empty, when the
  /// reply names it.
  const char* action = nullptr;
  const char* kind = nullptr;
  std::string object_id;
};

std::vector<std::string> segments_of(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos)
      end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// `/am/{manager}/api/v2/...`: Prometheus posts (ingest), amtool reads
/// and silences (manage).
route_rule am_rule(const std::string& method,
                   const std::vector<std::string>& seg) {
  route_rule r;
  r.errors = shape::am;
  r.manager = seg.size() > 1 ? seg[1] : "";
  auto tail = seg.size() > 4 ? seg[4] : "";
  if (tail == "alerts" && method == "POST")
    r.what = access::ingest;
  if (tail == "silences" && method == "POST") {
    r.what = access::manage;
    r.action = "put";
    r.kind = "silence";
  }
  if (tail == "silence" && method == "DELETE") {
    r.what = access::manage;
    r.action = "expire";
    r.kind = "silence";
    r.object_id = seg.size() > 5 ? seg[5] : "";
  }
  return r;
}

/// A change to one of the CRUD collections: POST creates, PUT updates,
/// DELETE deletes (or `verb` for what DELETE means there).
void crud_change(route_rule& r, const std::string& method,
                 const std::vector<std::string>& seg, const char* kind,
                 const char* verb = "delete") {
  if (method == "GET")
    return;
  r.what = access::manage;
  r.kind = kind;
  r.object_id = seg.size() > 2 ? seg[2] : "";
  r.action = method == "POST" ? "create" : method == "PUT" ? "update" : verb;
}

route_rule v1_rule(const std::string& method,
                   const std::vector<std::string>& seg) {
  route_rule r;
  auto area = seg.size() > 1 ? seg[1] : "";
  if (area == "events")
    r.what = access::ingest;
  else if (area == "whoami" && seg.size() == 2)
    r.any_key = true;
  else if (area == "alerts" && method == "POST" && seg.size() > 3) {
    // /v1/alerts/{dedupKey}/{action}; a dedupKey may hold slashes.
    r.what = access::manage;
    r.kind = "alert";
    r.action = seg.back() == "acknowledge"     ? "acknowledge"
               : seg.back() == "unacknowledge" ? "unacknowledge"
                                               : "resolve";
    for (size_t i = 2; i + 1 < seg.size(); ++i)
      r.object_id += (i == 2 ? "" : "/") + seg[i];
  } else if (area == "notifications" && method == "POST") {
    r.what = access::manage;
    r.action = "retry";
    r.kind = "notification";
    r.object_id = seg.size() > 2 ? seg[2] : "";
  } else if (area == "grouping-rules") {
    crud_change(r, method, seg, "rule");
  } else if (area == "event-managers") {
    if (method == "GET" && seg.size() > 2)
      r.manager = seg[2];
    crud_change(r, method, seg, "manager");
    if (method == "POST" && seg.size() > 3)
      r.action = "rotate_routing_key";
  } else if (area == "silences") {
    crud_change(r, method, seg, "silence", "expire");
  } else if (area == "keys") {
    r.what = access::manage;
    if (method != "GET")
      crud_change(r, method, seg, "key", "revoke");
  } else if (area == "audit") {
    r.what = access::manage;
  }
  return r;
}

route_rule rule_of(const std::string& method, const std::string& path,
                   bool metrics_keyed) {
  auto seg = segments_of(path);
  auto first = seg.empty() ? "" : seg[0];
  route_rule r;
  bool read = method == "GET" || method == "HEAD";
  if (path == "/healthz") {
    r.open = true;
  } else if (read && (path == "/" || path == "/ui" || first == "ui")) {
    // The console's static files: the page itself asks for a key.
    r.open = true;
  } else if (path == "/metrics") {
    r.open = !metrics_keyed;
    r.whole = true;
  } else if (path == "/v2/enqueue") {
    r.body_key = true;
    r.errors = shape::pagerduty;
  } else if (first == "am") {
    r = am_rule(method, seg);
  } else if (first == "v1") {
    r = v1_rule(method, seg);
  }
  return r;
}

void reply(httplib::Response& res, shape s, ec code,
           const std::string& message) {
  if (code == ec::unauthenticated)
    res.set_header("WWW-Authenticate", "Bearer realm=\"argus\"");
  if (s == shape::am)
    return reply_am_error(res, make_error(code, message));
  if (s == shape::pagerduty) {
    auto status = http_error_of(code).status;
    nlohmann::json body{
        {"status", code == ec::forbidden ? "forbidden" : "unauthorized"},
        {"message", message},
        {"errors", nlohmann::json::array({message})}};
    res.status = status;
    res.set_content(body.dump(), "application/json");
    return;
  }
  reply_error(res, code, message);
}

std::string failure_text(domain::auth_failure f) {
  switch (f) {
  case domain::auth_failure::missing:
    return "an API key is required (Authorization: Bearer <key>)";
  case domain::auth_failure::expired:
    return "the API key has expired";
  case domain::auth_failure::revoked:
    return "the API key was revoked";
  default:
    return "the API key is not valid";
  }
}

/// A key's id for the logs: never any part of its secret.
std::string id_for_log(std::string_view text) {
  if (text.empty())
    return "(none)";
  auto id = domain::key_id_of(text);
  return id ? *id : "(malformed)";
}

} // namespace

std::string principal::actor() const {
  return key != nullptr ? key->id : "anonymous";
}

bool principal::sees(const std::string& manager) const {
  return !enforced || key == nullptr || domain::covers(*key, manager);
}

bool principal::may_ingest(const std::string& manager) const {
  return !enforced || key == nullptr ||
         domain::permits(*key, access::ingest, manager);
}

std::vector<std::string> principal::scope() const {
  if (!enforced || key == nullptr || key->key_role == domain::role::admin)
    return {};
  return key->managers;
}

const principal& current_principal() {
  return current;
}

std::string bearer_of(const httplib::Request& req) {
  auto value = req.get_header_value("Authorization");
  constexpr std::string_view scheme = "Bearer ";
  if (value.size() <= scheme.size())
    return value.empty() ? "" : value;
  // The scheme is case-insensitive (RFC 7235).
  auto head = value.substr(0, scheme.size());
  std::transform(head.begin(), head.end(), head.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (head != "bearer ")
    return value; // not a bearer key: fails as malformed
  auto key = value.substr(scheme.size());
  auto first = key.find_first_not_of(' ');
  return first == std::string::npos ? "" : key.substr(first);
}

auth_guard::auth_guard(route_env& env)
    : env_(env), enforced_(config::auth_required(env.settings)),
      metrics_keyed_(env.settings.auth.metrics == "required") {
  env.node.registry().on_scrape([this](auto& out) {
    auto family = metrics::counter("argus_auth_failures_total",
                                   "HTTP requests refused by authentication "
                                   "(401) or authorization (403), by reason.",
                                   0);
    family.metric.clear();
    static constexpr const char* reasons[] = {
        "missing", "malformed", "unknown", "expired", "revoked", "forbidden"};
    for (size_t i = 0; i < failures_.size(); ++i)
      metrics::add_sample(family, {{"reason", reasons[i]}},
                          static_cast<double>(failures_[i].load()));
    out.push_back(std::move(family));
  });
}

void auth_guard::count(std::string_view reason) {
  static constexpr std::string_view reasons[] = {
      "missing", "malformed", "unknown", "expired", "revoked", "forbidden"};
  for (size_t i = 0; i < failures_.size(); ++i)
    if (reasons[i] == reason)
      failures_[i].fetch_add(1, std::memory_order_relaxed);
}

std::variant<const domain::api_key*, domain::auth_failure>
auth_guard::authenticate(const httplib::Request& req, std::string_view text) {
  auto snapshot = env_.node.catalog_now();
  auto found = domain::authenticate(snapshot->keys, text, env_.node.ctx->now());
  if (auto* f = std::get_if<domain::auth_failure>(&found)) {
    count(domain::to_string(*f));
    LOG_WARNING("auth: " << req.method << " " << req.path << " from "
                         << req.remote_addr << " refused ("
                         << domain::to_string(*f) << ", key id "
                         << id_for_log(text) << ")");
    return found;
  }
  current.snapshot = std::move(snapshot);
  current.key = std::get<const domain::api_key*>(found);
  return found;
}

void auth_guard::forbidden(const httplib::Request& req,
                           const domain::api_key& key) {
  count("forbidden");
  LOG_WARNING("auth: " << req.method << " " << req.path << " from "
                       << req.remote_addr << " forbidden for key " << key.id
                       << " (" << domain::to_string(key.key_role) << ")");
}

bool auth_guard::admit(const httplib::Request& req, httplib::Response& res) {
  current = principal{};
  current.enforced = enforced_;
  if (!enforced_)
    return true;
  auto r = rule_of(req.method, req.path, metrics_keyed_);
  if (r.open || r.body_key)
    return true;
  auto found = authenticate(req, bearer_of(req));
  bool refused = false;
  if (auto* f = std::get_if<domain::auth_failure>(&found)) {
    reply(res, r.errors, ec::unauthenticated, failure_text(*f));
    refused = true;
  } else if (auto key = std::get<const domain::api_key*>(found);
             !r.any_key && (!domain::permits(*key, r.what, r.manager) ||
                            (r.whole && !key->managers.empty() &&
                             key->key_role != domain::role::admin))) {
    forbidden(req, *key);
    reply(
        res, r.errors, ec::forbidden,
        "the API key (" + std::string{domain::to_string(key->key_role)} +
            ") may not do this" +
            (r.manager.empty() ? "" : " on event manager '" + r.manager + "'"));
    refused = true;
  }
  // The body was not read: the connection cannot serve another request.
  if (refused &&
      (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")))
    res.set_header("Connection", "close");
  return !refused;
}

void auth_guard::audit(const httplib::Request& req,
                       const httplib::Response& res) {
  // Reads and ingestion change nothing an operator made: return before
  // any work on the hot paths.
  if (res.status < 200 || res.status >= 300 || req.method == "GET" ||
      req.path.rfind("/v1/events", 0) == 0 || req.path == "/v2/enqueue")
    return;
  auto r = rule_of(req.method, req.path, metrics_keyed_);
  if (r.action == nullptr)
    return;
  std::string id = r.object_id;
  std::string manager = r.manager;
  // What the path does not say (a new object's id, an alert's manager), the
  // reply does.
  auto body = nlohmann::json::parse(res.body, nullptr, false);
  auto data = body.is_object() && body.contains("data") ? body["data"] : body;
  auto text = [&](const char* name) {
    auto it = data.is_object() ? data.find(name) : data.end();
    return it != data.end() && it->is_string() ? it->get<std::string>() : "";
  };
  if (id.empty())
    id = text("id").empty() ? text("silenceID") : text("id");
  if (manager.empty())
    manager = text("event_manager_id");
  if (manager.empty() && std::string{r.kind} == "manager")
    manager = id;
  std::string action = r.action;
  if (action == "put") { // Alertmanager's POST creates, or updates by id
    auto sent = nlohmann::json::parse(req.body, nullptr, false);
    bool has_id = sent.is_object() && sent.contains("id") &&
                  sent["id"].is_string() &&
                  !sent["id"].get<std::string>().empty();
    action = has_id ? "update" : "create";
  }
  caf::anon_send(env_.node.repository, atom::audit::value,
                 domain::make_audit(current.actor(), action, r.kind, id,
                                    manager, env_.node.ctx->now()));
}

} // namespace argus::http
