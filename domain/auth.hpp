#pragma once

#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

/// API keys and what they may do: who a request is (authentication) and
/// whether that key may do an action on an event manager's data
/// (authorization). Pure: callers pass the key records and `now`.
namespace argus::domain {

/// What a key is for. Stored by spelling; values cross the wire: append,
/// never renumber.
enum class role : uint8_t {
  /// Everything, on every manager.
  admin = 0,
  /// Reads; of its managers only when it names any.
  reader = 1,
  /// Sends events for its managers (at least one), nothing else.
  ingest = 2,
};

std::string_view to_string(role x);
std::optional<role> parse_role(std::string_view text);

/// What a request wants to do.
enum class access : uint8_t {
  /// Read alerts, notifications, rules, managers, silences.
  read,
  /// Send events.
  ingest,
  /// Change anything (rules, managers, silences, keys), act on alerts by
  /// hand, read keys and the audit log.
  manage,
};

/// One API key as stored: never the secret, only its SHA-256.
struct api_key {
  /// Public and unique; the middle part of the key text.
  std::string id;
  /// The start of the key text, so a listing can tell keys apart.
  std::string prefix;
  /// Lowercase hex SHA-256 of the whole key text.
  std::string hash;
  role key_role = role::reader;
  /// The managers it is limited to; empty: all (admin, unscoped reader).
  std::vector<std::string> managers;
  time_point created_at{};
  /// `no_time`: never expires.
  time_point expires_at{};
  /// `no_time`: not revoked.
  time_point revoked_at{};
  /// Who made it: a key id, `argusctl` or `bootstrap`.
  std::string created_by;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_key& x) {
  return f(caf::meta::type_name("argus.api_key"), x.id, x.prefix, x.hash,
           x.key_role, x.managers, x.created_at, x.expires_at, x.revoked_at,
           x.created_by);
}

/// Why a request is not authenticated; each is a label of
/// `argus_auth_failures_total{reason}`.
enum class auth_failure : uint8_t {
  /// No key was sent.
  missing,
  /// The text is not an Argus key.
  malformed,
  /// No key has its id, or the secret does not match (one reason, so the
  /// answer does not tell a caller which ids exist).
  unknown,
  expired,
  revoked,
};

std::string_view to_string(auth_failure x);

/// A freshly made key: its record and the text, shown once.
struct new_key {
  api_key record;
  std::string text;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, new_key& x) {
  return f(caf::meta::type_name("argus.new_key"), x.record, x.text);
}

/// Bytes of randomness in a key's secret and id.
inline constexpr size_t key_secret_bytes = 32;
inline constexpr size_t key_id_bytes = 6;

/// Makes a key from random bytes (`key_secret_bytes` for the secret,
/// `key_id_bytes` for the id): text `argus_<id>_<secret>` in lowercase
/// hex. The record has id, prefix, hash and `created_at`; the caller sets
/// role, managers, expiry and creator.
new_key make_key(std::string_view id_bytes, std::string_view secret_bytes,
                 time_point now);

/// `make_key` with bytes from OpenSSL's CSPRNG.
new_key generate_key(time_point now);

/// The record a key text given by an operator (bootstrap) stands for:
/// none when the text is not `argus_<id>_<secret>` with an id of 1 to 32
/// `[a-z0-9]` and a secret of at least 32 `[A-Za-z0-9]`.
std::optional<api_key> record_of(std::string_view text, time_point now);

/// The id part of a key text, or none when it is not shaped as a key.
std::optional<std::string> key_id_of(std::string_view text);

/// Lowercase hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

/// Which stored key `text` proves at `now`, or why none does. The hash is
/// compared in constant time.
std::variant<const api_key*, auth_failure>
authenticate(const std::map<std::string, api_key>& keys, std::string_view text,
             time_point now);

/// Whether `key` covers data of `manager`: admins and unscoped readers
/// cover all; scoped keys their own managers.
bool covers(const api_key& key, const std::string& manager);

/// May `key` do `what` on the data of `manager`? An empty manager asks
/// about no manager in particular (a listing, which is then filtered with
/// `covers`; or an ingest whose events are checked one by one).
bool permits(const api_key& key, access what, const std::string& manager);

/// Checks what a client asked for: ingest keys name at least one manager,
/// admin keys none, no manager twice, and an expiry after creation.
caf::error validate(const api_key& key);

/// A key's lifetime as operators write it: a positive whole number with a
/// unit, `s`, `m`, `h` or `d` (`90d`, `12h`); at most ten years. None
/// otherwise.
std::optional<duration> parse_lifetime(std::string_view text);

/// `active`, `expired` or `revoked` at `now`.
std::string_view state_of(const api_key& key, time_point now);

/// One entry of the audit log: who changed what, when.
struct audit_entry {
  std::string id;
  time_point at{};
  /// A key id; `argusctl`; or `anonymous` when auth is off.
  std::string actor;
  /// create, update, delete, revoke, acknowledge, unacknowledge, resolve,
  /// retry, rotate_routing_key, expire.
  std::string action;
  /// rule, manager, key, silence, alert, notification.
  std::string kind;
  std::string object_id;
  /// The manager the object belongs to, when it belongs to one.
  std::string event_manager_id;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_entry& x) {
  return f(caf::meta::type_name("argus.audit_entry"), x.id, x.at, x.actor,
           x.action, x.kind, x.object_id, x.event_manager_id);
}

/// An entry with a fresh id, at `now`.
audit_entry make_audit(std::string actor, std::string action, std::string kind,
                       std::string object_id, std::string event_manager_id,
                       time_point now);

/// Which entries a reader wants: the newest `limit` at or after `since`.
struct audit_filter {
  int64_t limit = 100;
  time_point since{};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, audit_filter& x) {
  return f(caf::meta::type_name("argus.audit_filter"), x.limit, x.since);
}

inline constexpr int64_t max_audit_limit = 10000;

} // namespace argus::domain
