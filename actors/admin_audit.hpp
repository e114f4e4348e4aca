#pragma once

#include "actors/admin.hpp"
#include "actors/admin_ops.hpp"
#include "domain/auth.hpp"

#include <caf/typed_response_promise.hpp>

#include <string>
#include <utility>

/// argusctl's changes, recorded in the audit log as `argusctl`'s once the
/// actor that makes them answered, and its key commands.
namespace argus::actors::admin_audit {

/// Who argusctl's changes are by: remoting has no keys (it is bound to
/// loopback or behind mutual TLS), so the tool is the actor.
inline constexpr const char* cli_actor = "argusctl";

/// What an audit entry says of a change's result: the object's id and its
/// manager.
inline std::pair<std::string, std::string>
object_of(const domain::grouping_rule& x) {
  return {x.id, ""};
}
inline std::pair<std::string, std::string>
object_of(const domain::event_manager& x) {
  return {x.id, x.id};
}
inline std::pair<std::string, std::string> object_of(const domain::silence& x) {
  return {x.id, x.event_manager_id};
}
inline std::pair<std::string, std::string> object_of(const domain::api_key& x) {
  return {x.id, ""};
}
inline std::pair<std::string, std::string> object_of(const atom::ok&) {
  return {};
}

/// Sends `msg...` to `to` and answers with its reply; a successful change
/// is then recorded as `action` on `kind` (on `id` when the reply does not
/// name the object).
template <class T, class Handle, class... Ts>
caf::typed_response_promise<T>
audited(admin_self self, const admin_env& env, const Handle& to,
        const char* action, const char* kind, std::string id, Ts... msg) {
  auto rp = self->make_response_promise<T>();
  auto repository = env.node.repository;
  auto ctx = env.node.ctx;
  self->request(to, admin_ops::inner_timeout, std::move(msg)...)
      .then(
          [=](T& result) mutable {
            auto [object, manager] = object_of(result);
            self->send(repository, atom::audit::value,
                       domain::make_audit(cli_actor, action, kind,
                                          object.empty() ? id : object, manager,
                                          ctx->now()));
            rp.deliver(std::move(result));
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

/// Makes a key as `proto` describes (role, managers, expiry) and has the
/// catalog store it; answers with the record and the text.
caf::typed_response_promise<domain::new_key>
create_key(admin_self self, const admin_env& env, domain::api_key proto);

} // namespace argus::actors::admin_audit
