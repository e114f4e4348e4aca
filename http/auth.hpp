#pragma once

#include "domain/auth.hpp"
#include "domain/catalog.hpp"
#include "http/routes.hpp"

#include <httplib.h>

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

/// Authentication and authorization of HTTP requests (issue 14). Every
/// route maps to an access (read, ingest, manage) and, when its path names
/// one, an event manager; the guard checks the request's key against the
/// published catalog before any handler runs, so no actor is asked.
///
/// Scope rule: a request that names a manager its key does not cover (in
/// the path, or an event's manager in the body) gets 403; an object found
/// by its own id (an alert by dedupKey, a silence by id) of such a manager
/// is not found (404), as it is absent from the key's listings.
namespace argus::http {

/// Who the request on this worker thread is, as the guard found. Set before
/// each request's handler runs, on the thread that runs it.
struct principal {
  /// Whether keys are checked (auth.mode); when not, everyone sees all.
  bool enforced = false;
  /// Keeps `key` alive while the request runs.
  std::shared_ptr<const domain::catalog> snapshot;
  /// The request's key; null when not enforced or on an open route.
  const domain::api_key* key = nullptr;

  /// What the audit log records: the key id, or `anonymous` (auth off).
  std::string actor() const;
  /// Whether the request may see data of `manager`.
  bool sees(const std::string& manager) const;
  /// Whether it may send events for `manager`.
  bool may_ingest(const std::string& manager) const;
  /// The managers the request is limited to; empty: all.
  std::vector<std::string> scope() const;
};

/// The principal of the request this thread is handling.
const principal& current_principal();

/// The HTTP side of auth: the pre-routing check, the failure counters and
/// the audit of successful changes.
class auth_guard {
public:
  auth_guard(route_env& env);

  /// Checks the request before routing. False when it was answered (401 or
  /// 403, in the error shape of the API the path belongs to).
  bool admit(const httplib::Request& req, httplib::Response& res);

  /// After the reply: a successful change is recorded in the audit log.
  void audit(const httplib::Request& req, const httplib::Response& res);

  /// Authenticates a key given some other way (PagerDuty's routing_key):
  /// sets this thread's principal on success, counts and logs a failure.
  std::variant<const domain::api_key*, domain::auth_failure>
  authenticate(const httplib::Request& req, std::string_view text);

  /// Counts and logs a refusal for want of a right.
  void forbidden(const httplib::Request& req, const domain::api_key& key);

  bool enforced() const { return enforced_; }

private:
  void count(std::string_view reason);

  route_env& env_;
  bool enforced_;
  bool metrics_keyed_;
  /// By `domain::auth_failure`, then one for `forbidden`.
  std::array<std::atomic<uint64_t>, 6> failures_{};
};

/// The key text of `Authorization: Bearer <key>`; empty when absent.
std::string bearer_of(const httplib::Request& req);

} // namespace argus::http
