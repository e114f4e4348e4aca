#pragma once

#include "domain/keys.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

/// Cluster membership rules that need no actors: who owns a group.
namespace argus::domain {

/// The rendezvous (highest random weight) score of `member` for the group
/// (`manager`, `value`). Stable across processes and builds: FNV-1a over the
/// three strings, length-prefixed, then a 64-bit finalizer.
uint64_t rendezvous_score(std::string_view member, std::string_view manager,
                          std::string_view value);

/// The member among `members` (node ids) that owns the group (`manager`,
/// `value`): the one with the highest score; ties go to the smaller id.
/// Every node computes the same owner from the same live members, and a
/// member coming or going moves only the groups it gains or held. Returns
/// the empty string for no members.
std::string owner_of(const std::vector<std::string>& members,
                     std::string_view manager, std::string_view value);

/// The member that owns the group of `manager` with grouping value `value`
/// (`has_value` false: the group of events without one).
std::string group_owner(const std::vector<std::string>& members,
                        std::string_view manager, bool has_value,
                        std::string_view value);

/// The member that owns group `g`.
inline std::string group_owner(const std::vector<std::string>& members,
                               const group_key& g) {
  return group_owner(members, g.event_manager_id, g.has_value, g.value);
}

} // namespace argus::domain
