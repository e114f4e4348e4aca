#include "storage/alert_sql.hpp"

namespace argus::storage::alert_sql {

const dialect sqlite{[](int) { return std::string{"?"}; }, "MAX"};
const dialect postgres{[](int n) { return "$" + std::to_string(n); },
                       "GREATEST"};

std::string column_list(std::string_view alias) {
  std::string result;
  for (auto column : columns) {
    if (!result.empty())
      result += ", ";
    if (!alias.empty())
      result.append(alias).append(".");
    result += column;
  }
  return result;
}

std::string upsert(const dialect& d) {
  std::string sql = "INSERT INTO alerts (" + column_list() + ") VALUES (";
  for (size_t i = 0; i < columns.size(); ++i)
    sql += (i == 0 ? "" : ", ") + d.placeholder(static_cast<int>(i) + 1);
  sql += ") ON CONFLICT (event_manager_id, dedup_key) DO UPDATE SET ";
  bool first = true;
  for (std::string_view column : columns) {
    // The key columns are equal on conflict; id and created_at_ms are kept.
    if (column == "id" || column == "created_at_ms" ||
        column == "event_manager_id" || column == "dedup_key")
      continue;
    if (!first)
      sql += ", ";
    first = false;
    sql.append(column).append(" = ");
    if (column == "event_count")
      sql += "alerts.event_count + excluded.event_count";
    else if (column == "last_seq")
      sql.append(d.larger).append("(alerts.last_seq, excluded.last_seq)");
    else
      sql.append("excluded.").append(column);
  }
  return sql;
}

std::string list(const dialect& d, bool by_manager, bool by_status,
                 bool by_type) {
  std::string sql = "SELECT " + column_list() + " FROM alerts";
  const char* glue = " WHERE ";
  int n = 0;
  auto add = [&](bool on, const char* column) {
    if (!on)
      return;
    sql.append(glue).append(column).append(" = ").append(d.placeholder(++n));
    glue = " AND ";
  };
  add(by_manager, "event_manager_id");
  add(by_status, "status");
  add(by_type, "type");
  sql.append(newest_first);
  sql.append(" LIMIT ").append(d.placeholder(++n));
  sql.append(" OFFSET ").append(d.placeholder(++n));
  return sql;
}

} // namespace argus::storage::alert_sql
