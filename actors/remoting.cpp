#include "actors/remoting.hpp"

#include "config/log.hpp"
#include "domain/error.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>
#include <utility>

namespace argus::actors {

void enable_remoting(caf::actor_system_config& cfg,
                     const config::tls_settings& tls) {
  cfg.load<caf::io::middleman>();
  if (!tls.enabled())
    return;
  cfg.load<caf::openssl::manager>();
  cfg.openssl_certificate = tls.certificate;
  cfg.openssl_key = tls.key;
  cfg.openssl_cafile = tls.ca;
}

caf::error check_tls(const config::tls_settings& tls,
                     const std::string& prefix) {
  if (!tls.enabled())
    return {};
  auto fail = [&](const std::string& key, const std::string& what,
                  const std::string& path) {
    char reason[256] = "unknown reason";
    if (auto code = ERR_get_error())
      ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    return make_error(ec::validation_failed, prefix + key + ": " + what + " " +
                                                 path + " (" + reason + ")");
  };
  for (auto [key, path] :
       {std::pair{"certificate", &tls.certificate}, std::pair{"key", &tls.key},
        std::pair{"ca", &tls.ca}})
    if (path->empty())
      return make_error(ec::validation_failed,
                        prefix + key +
                            " is missing: TLS needs certificate, key and ca");
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{
      SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx)
    return make_error(ec::internal, "cannot create an OpenSSL context");
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.certificate.c_str()) !=
      1)
    return fail("certificate", "cannot load a certificate from",
                tls.certificate);
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(),
                                  SSL_FILETYPE_PEM) != 1)
    return fail("key", "cannot load a private key from", tls.key);
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return fail("key", "does not match the certificate:", tls.key);
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1)
    return fail("ca", "cannot load CA certificates from", tls.ca);
  return {};
}

caf::expected<uint16_t> publish_admin(const admin_actor& admin,
                                      const std::string& host, uint16_t port,
                                      bool tls) {
  auto& sys = admin.home_system();
  if (tls)
    return caf::openssl::publish(admin, port, host.c_str(), true);
  return sys.middleman().publish(admin, port, host.c_str(), true);
}

void unpublish_admin(const admin_actor& admin, uint16_t port, bool tls) {
  auto& sys = admin.home_system();
  auto mm = tls ? sys.openssl_manager().actor_handle()
                : sys.middleman().actor_handle();
  caf::scoped_actor self{sys, true};
  self->request(mm, std::chrono::seconds{5}, caf::unpublish_atom::value,
                admin.address(), port)
      .receive([] {},
               [&](caf::error& err) {
                 LOG_WARNING("cannot close the admin endpoint on port "
                             << port << ": " << sys.render(err));
               });
}

} // namespace argus::actors
