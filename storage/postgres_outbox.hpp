#pragma once

#include "delivery/outbox.hpp"
#include "storage/postgres.hpp"

#include <memory>
#include <string>

namespace argus::storage {

/// The outbox over the PostgreSQL `notifications` and `deliveries` tables,
/// on a connection of its own, for the delivery worker of `owner` (a
/// clustered node's incarnation, '' for a single node): it reads and fans
/// out only that owner's rows, so each notification is delivered by one
/// node. Listings and manual retries see every row.
caf::expected<std::unique_ptr<delivery::outbox>>
open_postgres_outbox(const std::string& dsn, const std::string& owner);

namespace pg {

/// SQL that is true when the notification body's parent key, read from
/// `parent` (`readable_jsonb(body) -> 'parent'`), may differ from the key
/// as stored: it had a NUL or 0x01 byte, for both of which "\u0001" stands
/// there, so it cannot be compared with the alerts' own (escaped, see
/// `escape_text`). Also true for a key holding the text "\u0000" or
/// "\u0001" itself (a backslash, then "u0001"), which `readable_jsonb`
/// alters too. Such a key is left to `parent_is_active`.
std::string parent_key_unreadable(std::string_view parent);

/// Whether `key` (as the body has it) may be one `parent_key_unreadable`
/// holds true for: it has a NUL, 0x01 or backslash byte.
bool key_may_read_otherwise(std::string_view key);

/// Whether `id` is the active alert of (`manager`, `dedup_key`), the key
/// sent as it is: the outbox queries' parent test for a key they cannot
/// read (`parent_key_unreadable`).
caf::expected<bool> parent_is_active(connection& conn, std::string_view manager,
                                     std::string_view dedup_key,
                                     std::string_view id);

} // namespace pg

} // namespace argus::storage
