#pragma once

#include "actors/actors.hpp"
#include "config/settings.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

/// The remoting setup the node and argusctl share: CAF's middleman, its
/// OpenSSL module, and publishing the admin actor.
namespace argus::actors {

/// Loads CAF's middleman into `cfg`, plus its OpenSSL module with `tls`'s
/// files when TLS is enabled. Setting any OpenSSL file turns on mutual
/// certificate verification in CAF, so all three are set or none.
void enable_remoting(caf::actor_system_config& cfg,
                     const config::tls_settings& tls);

/// Loads the TLS files the way CAF's OpenSSL module will at the first
/// connection, where a bad file aborts the process. Call it before building
/// the actor system. `prefix` names the settings in errors ("node.tls.",
/// "--tls-").
caf::error check_tls(const config::tls_settings& tls,
                     const std::string& prefix);

/// Publishes `admin` on `host:port` (TLS when `tls` is true); returns the
/// bound port.
caf::expected<uint16_t> publish_admin(const admin_actor& admin,
                                      const std::string& host, uint16_t port,
                                      bool tls);

/// Closes the admin endpoint on `port` (blocking; not inside an actor).
void unpublish_admin(const admin_actor& admin, uint16_t port, bool tls);

} // namespace argus::actors
