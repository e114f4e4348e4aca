#pragma once

#include <cstdint>
#include <string>
#include <string_view>

/// Body signatures: a receiver that knows the secret checks that a body came
/// from Argus, unchanged, and recently.
namespace argus::delivery {

/// Lowercase hex HMAC-SHA256 of `message` under `secret`.
std::string hmac_sha256_hex(std::string_view secret, std::string_view message);

/// The X-Argus-Signature value: "t=<unix>,v1=<hex HMAC-SHA256 of
/// "<unix>.<body>">". The timestamp lets receivers refuse old replays.
std::string signature_header(std::string_view secret, int64_t unix_seconds,
                             std::string_view body);

} // namespace argus::delivery
