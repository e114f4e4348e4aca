#include "actors/admin_audit.hpp"

namespace argus::actors::admin_audit {

caf::typed_response_promise<domain::new_key>
create_key(admin_self self, const admin_env& env, domain::api_key proto) {
  auto rp = self->make_response_promise<domain::new_key>();
  auto ctx = env.node.ctx;
  auto made = domain::generate_key(ctx->now());
  made.record.key_role = proto.key_role;
  made.record.managers = std::move(proto.managers);
  made.record.expires_at = proto.expires_at;
  made.record.created_by = cli_actor;
  auto repository = env.node.repository;
  // Only the record goes to the catalog (and the store and the peers); the
  // text goes back to argusctl alone.
  self->request(env.node.catalog, admin_ops::inner_timeout, atom::create::value,
                made.record)
      .then(
          [=](domain::api_key& stored) mutable {
            self->send(repository, atom::audit::value,
                       domain::make_audit(cli_actor, "create", "key", stored.id,
                                          "", ctx->now()));
            rp.deliver(domain::new_key{std::move(stored), made.text});
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

} // namespace argus::actors::admin_audit
