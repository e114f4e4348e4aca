#pragma once

#include "delivery/outbox.hpp"

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

} // namespace argus::storage
