#pragma once

#include "domain/alert.hpp"
#include "domain/inhibition.hpp"
#include "domain/text_hash.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace argus::http {

/// Every active alert of one manager, read once for a round of checks (a
/// fan-out batch, a review of held openings, one listing): by dedupKey,
/// with each parent's count of active children, and the sources of the
/// manager's inhibit rules indexed with their details parsed once.
///
/// The checks read every active alert, not a page of them: a held parent
/// or an inhibition source past the newest 1,000 is as active as the
/// rest. Each target then costs its rules and the sources that share its
/// `equal` texts, where a pass over every active alert (each one's details
/// parsed again) made a storm's checks quadratic.
class active_alerts {
public:
  active_alerts(std::vector<domain::inhibit_rule> rules,
                std::vector<domain::alert> active);

  // The indexes point into the members.
  active_alerts(const active_alerts&) = delete;
  active_alerts& operator=(const active_alerts&) = delete;

  /// Whether `a` could be inhibited under `rules` at all: it is active and
  /// matches some rule's target matchers. When not, its inhibitors are
  /// none, and the manager's active alerts need not be read for it (a
  /// resolution, or an alert no rule targets, read all of them before).
  static bool may_be_inhibited(const std::vector<domain::inhibit_rule>& rules,
                               const domain::alert& a);

  /// Whether `a` matches some rule's source matchers: only then can it
  /// hold other alerts back, and its resolution release them.
  static bool may_inhibit(const std::vector<domain::inhibit_rule>& rules,
                          const domain::alert& a);

  /// The active alert with this dedupKey, or null.
  const domain::alert* find(std::string_view dedup_key) const;

  /// How many active children the parent `dedup_key` has.
  int64_t active_children(std::string_view parent_dedup_key) const;

  /// The dedupKeys of the active alerts that inhibit `a` now, sorted (none
  /// for a resolved alert, or without rules).
  std::vector<std::string> inhibitors_of(const domain::alert& a) const;

private:
  std::vector<domain::inhibit_rule> rules_;
  std::vector<domain::alert> alerts_;
  std::unordered_map<std::string_view, const domain::alert*,
                     domain::text_hasher>
      by_key_;
  std::unordered_map<std::string_view, int64_t, domain::text_hasher> children_;
  std::optional<domain::inhibition_index> index_;
};

} // namespace argus::http
