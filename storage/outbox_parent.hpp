#pragma once

#include <cstdint>
#include <optional>
#include <string>

/// The parent a stored notification names, for the SQL outboxes.
namespace argus::storage {

/// A parent alert as a notification body names it.
struct named_parent {
  std::string dedup_key;
  std::string id;
};

/// The parent the stored body of notification `seq` names, read as the
/// outbox reads bodies: for the parents SQL cannot compare (a key with a
/// NUL byte, say), looked up with the key as it is. Nothing, with a
/// warning, when the body does not read (a kind this build does not
/// know, say): retention keeps such a notification, as failing its step
/// would fail every pass at it, and none after it would ever go.
std::optional<named_parent> parent_named_in(const std::string& body,
                                            uint64_t seq);

} // namespace argus::storage
