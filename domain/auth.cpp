#include "domain/auth.hpp"

#include "domain/alert.hpp"
#include "domain/error.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <stdexcept>

namespace argus::domain {

namespace {

constexpr std::string_view key_scheme = "argus_";
constexpr size_t max_id_chars = 32;
constexpr size_t min_secret_chars = 32;
/// Characters of the secret a listing shows after the id.
constexpr size_t shown_secret_chars = 4;

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_secret_char(char c) {
  return is_id_char(c) || (c >= 'A' && c <= 'Z');
}

/// Splits `argus_<id>_<secret>`; false when the text is not shaped so.
bool split(std::string_view text, std::string_view& id,
           std::string_view& secret) {
  if (text.substr(0, key_scheme.size()) != key_scheme)
    return false;
  auto rest = text.substr(key_scheme.size());
  auto sep = rest.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep > max_id_chars)
    return false;
  id = rest.substr(0, sep);
  secret = rest.substr(sep + 1);
  return secret.size() >= min_secret_chars &&
         std::all_of(id.begin(), id.end(), is_id_char) &&
         std::all_of(secret.begin(), secret.end(), is_secret_char);
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                 static_cast<int>(n)) != 1)
    // Without entropy no key may be made; there is nothing to fall back to.
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  return out;
}

} // namespace

std::string_view to_string(role x) {
  switch (x) {
  case role::admin:
    return "admin";
  case role::reader:
    return "reader";
  case role::ingest:
    return "ingest";
  }
  return "unknown";
}

std::optional<role> parse_role(std::string_view text) {
  for (auto r : {role::admin, role::reader, role::ingest})
    if (to_string(r) == text)
      return r;
  return std::nullopt;
}

std::string_view to_string(auth_failure x) {
  switch (x) {
  case auth_failure::missing:
    return "missing";
  case auth_failure::malformed:
    return "malformed";
  case auth_failure::unknown:
    return "unknown";
  case auth_failure::expired:
    return "expired";
  case auth_failure::revoked:
    return "revoked";
  }
  return "unknown";
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         digest);
  return hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::optional<api_key> record_of(std::string_view text, time_point now) {
  std::string_view id;
  std::string_view secret;
  if (!split(text, id, secret))
    return std::nullopt;
  api_key k;
  k.id = std::string{id};
  k.prefix = std::string{
      text.substr(0, key_scheme.size() + id.size() + 1 + shown_secret_chars)};
  k.hash = sha256_hex(text);
  k.created_at = now;
  return k;
}

std::optional<std::string> key_id_of(std::string_view text) {
  std::string_view id;
  std::string_view secret;
  if (!split(text, id, secret))
    return std::nullopt;
  return std::string{id};
}

new_key make_key(std::string_view id_bytes, std::string_view secret_bytes,
                 time_point now) {
  new_key out;
  out.text = std::string{key_scheme} + hex(id_bytes) + "_" + hex(secret_bytes);
  out.record = *record_of(out.text, now);
  return out;
}

new_key generate_key(time_point now) {
  return make_key(random_bytes(key_id_bytes), random_bytes(key_secret_bytes),
                  now);
}

std::variant<const api_key*, auth_failure>
authenticate(const std::map<std::string, api_key>& keys, std::string_view text,
             time_point now) {
  if (text.empty())
    return auth_failure::missing;
  std::string_view id;
  std::string_view secret;
  if (!split(text, id, secret))
    return auth_failure::malformed;
  auto it = keys.find(std::string{id});
  if (it == keys.end())
    return auth_failure::unknown;
  auto& key = it->second;
  auto hash = sha256_hex(text);
  // Constant time, so response times do not reveal how much of a guessed
  // hash matched.
  if (hash.size() != key.hash.size() ||
      CRYPTO_memcmp(hash.data(), key.hash.data(), hash.size()) != 0)
    return auth_failure::unknown;
  if (key.revoked_at != no_time && key.revoked_at <= now)
    return auth_failure::revoked;
  if (key.expires_at != no_time && key.expires_at <= now)
    return auth_failure::expired;
  return &key;
}

bool covers(const api_key& key, const std::string& manager) {
  if (key.key_role == role::admin || key.managers.empty())
    return true;
  return std::find(key.managers.begin(), key.managers.end(), manager) !=
         key.managers.end();
}

bool permits(const api_key& key, access what, const std::string& manager) {
  switch (key.key_role) {
  case role::admin:
    return true;
  case role::reader:
    if (what != access::read)
      return false;
    break;
  case role::ingest:
    if (what != access::ingest)
      return false;
    break;
  }
  return manager.empty() || covers(key, manager);
}

caf::error validate(const api_key& key) {
  if (key.id.empty() || key.hash.empty())
    return make_error(ec::validation_failed, "a key needs an id and a hash");
  if (key.key_role == role::ingest && key.managers.empty())
    return make_error(ec::validation_failed,
                      "an ingest key must name at least one event manager");
  if (key.key_role == role::admin && !key.managers.empty())
    return make_error(ec::validation_failed,
                      "an admin key covers every event manager; name none");
  for (size_t i = 0; i < key.managers.size(); ++i) {
    if (key.managers[i].empty())
      return make_error(ec::validation_failed,
                        "event manager ids must not be empty");
    for (size_t j = 0; j < i; ++j)
      if (key.managers[i] == key.managers[j])
        return make_error(ec::validation_failed, "event manager '" +
                                                     key.managers[i] +
                                                     "' is named twice");
  }
  if (key.expires_at != no_time && key.expires_at <= key.created_at)
    return make_error(ec::validation_failed,
                      "expires_at must be after the key's creation");
  return {};
}

std::optional<duration> parse_lifetime(std::string_view text) {
  if (text.size() < 2 || text.size() > 12)
    return std::nullopt;
  int64_t n = 0;
  for (auto c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + (c - '0');
  }
  int64_t unit = 0;
  switch (text.back()) {
  case 's':
    unit = 1;
    break;
  case 'm':
    unit = 60;
    break;
  case 'h':
    unit = 3600;
    break;
  case 'd':
    unit = 86400;
    break;
  default:
    return std::nullopt;
  }
  constexpr int64_t ten_years = int64_t{3660} * 86400;
  if (n <= 0 || n > ten_years / unit)
    return std::nullopt;
  return std::chrono::seconds{n * unit};
}

std::string_view state_of(const api_key& key, time_point now) {
  if (key.revoked_at != no_time && key.revoked_at <= now)
    return "revoked";
  if (key.expires_at != no_time && key.expires_at <= now)
    return "expired";
  return "active";
}

audit_entry make_audit(std::string actor, std::string action, std::string kind,
                       std::string object_id, std::string event_manager_id,
                       time_point now) {
  audit_entry e;
  e.id = random_uuid();
  e.at = now;
  e.actor = std::move(actor);
  e.action = std::move(action);
  e.kind = std::move(kind);
  e.object_id = std::move(object_id);
  e.event_manager_id = std::move(event_manager_id);
  return e;
}

} // namespace argus::domain
