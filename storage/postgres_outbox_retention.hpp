#pragma once

#include "storage/postgres.hpp"
#include "storage/store.hpp"

/// The outbox's part of retention on a PostgreSQL store
/// (`store::drop_notifications`).
namespace argus::storage::pg {

/// One step on `conn`. Every node of a cluster runs it: a row another node
/// deleted first is simply gone.
caf::expected<store::dropped_notifications>
drop_notifications(connection& conn, domain::time_point cutoff, uint64_t after,
                   size_t at_most);

} // namespace argus::storage::pg
