#pragma once

#include "actors/journal.hpp"
#include "config/settings.hpp"
#include "domain/alert.hpp"
#include "domain/catalog.hpp"
#include "storage/store.hpp"

#include <caf/expected.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace argus::actors {

/// What a node starts from: its store and what the store (and the journal,
/// when durability is on) says about the state before this start.
struct recovered {
  std::unique_ptr<storage::store> store;
  domain::catalog catalog;
  /// The open groups' alerts; empty for a clustered node, which loads the
  /// groups it owns once it knows the members.
  std::vector<domain::alert> open_work;
  /// Journaled: the journal sequence number the store reflects through, and
  /// the alerts changed after it (they guard the replay).
  uint64_t applied_through = 0;
  std::vector<domain::alert> recent;
  /// The journal to replay from and append to; null without durability.
  std::unique_ptr<storage::journal_backend> journal;
  /// Clustered and journaled: this start's journal id and the lock on it,
  /// held while the process lives; peers adopt what a dead one left.
  std::string incarnation;
  std::unique_ptr<storage::journal_fence> fence;
};

/// Opens the store and journal of `settings` and reads where they stand.
caf::expected<recovered> recover(const config::settings& settings);

} // namespace argus::actors
