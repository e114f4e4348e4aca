#pragma once

#include "domain/alert.hpp"
#include "domain/error.hpp"
#include "domain/shared_text.hpp"
#include "domain/types.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <string_view>

/// Reads an alert from a row selected with `alert_sql::column_list()`, for
/// both stores: they differ only in how a column's value is fetched.
namespace argus::storage {

/// The texts that repeat from row to row of one read: a manager's alerts
/// share its id, a group's its value, class and parent. Rows read with the
/// same `alert_texts` share one block per run of equal values.
struct alert_texts {
  domain::repeated_text manager;
  domain::repeated_text class_name;
  domain::repeated_text grouping_value;
  domain::repeated_text parent;
};

/// Reads the current row into `a`, setting every field, so one alert may
/// take row after row: its `std::string`s keep their buffers, so a read
/// that keeps few of many rows (`store::active_where`) copies only those
/// few whole. On an error `a` is partly written.
/// `Row` fetches column `i` of the current row: `text(i)` (a view valid
/// until the next row), `integer(i)`, `boolean(i)` and `is_null(i)`.
/// `store` names the store in errors ("sqlite", "postgres").
template <class Row>
caf::error read_alert_row_into(const Row& row, alert_texts& texts,
                               const char* store, domain::alert& a) {
  // An enum column with a spelling this build does not know fails loudly
  // rather than being guessed.
  caf::error bad;
  auto read_enum = [&](int i, const char* column, auto parse, auto& out) {
    auto text = row.text(i);
    if (auto parsed = parse(text))
      out = *parsed;
    else if (!bad)
      bad = make_error(ec::internal, std::string{store} + ": alert " +
                                         std::string{row.text(2)} + "/" +
                                         std::string{row.text(1)} +
                                         " has an unknown " + column + " '" +
                                         std::string{text} + "'");
  };
  auto time_at = [&](int i) { return domain::from_millis(row.integer(i)); };
  auto optional_time_at = [&](int i) {
    return row.is_null(i) ? domain::no_time : time_at(i);
  };
  a.id = row.text(0);
  a.dedup_key = row.text(1);
  a.event_manager_id = texts.manager(row.text(2));
  a.summary = row.text(3);
  read_enum(4, "severity", domain::parse_severity, a.sev);
  a.class_name = texts.class_name(row.text(5));
  read_enum(6, "type", domain::parse_alert_type, a.type);
  read_enum(7, "status", domain::parse_alert_status, a.status);
  a.has_grouping_value = row.boolean(8);
  a.grouping_value = texts.grouping_value(row.text(9));
  a.parent_dedup_key = texts.parent(row.text(10));
  a.child_count = row.integer(11);
  a.resolve_requested = row.boolean(12);
  a.event_count = row.integer(13);
  a.created_at = time_at(14);
  a.updated_at = time_at(15);
  a.resolved_at = optional_time_at(16);
  a.window_ends_at = time_at(17);
  a.details = row.text(18);
  a.last_seq = static_cast<uint64_t>(row.integer(19));
  a.expires_at = time_at(20);
  a.acknowledged = row.boolean(21);
  a.acknowledged_at = optional_time_at(22);
  a.acknowledged_by = row.text(23);
  a.acknowledged_until = optional_time_at(24);
  read_enum(25, "resolved_by", domain::parse_resolution, a.resolved_by);
  a.auto_resolve_at = time_at(26);
  a.id_is_derived = false; // a stored row carries its id
  return bad;
}

} // namespace argus::storage
