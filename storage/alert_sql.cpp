#include "storage/alert_sql.hpp"

#include "domain/types.hpp"

#include <nlohmann/json.hpp>

namespace argus::storage::alert_sql {

// Numbered, so that a statement may use a parameter anywhere or not at all
// (`refresh` binds every column and reads some).
const dialect sqlite{[](int n) { return "?" + std::to_string(n); }, "MAX",
                     "alerts INDEXED BY alerts_open_parents",
                     "alerts INDEXED BY alerts_open_parents_by_manager"};
const dialect postgres{[](int n) { return "$" + std::to_string(n); },
                       "GREATEST", "alerts", "alerts"};

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

namespace {

/// Columns a stored row keeps when it is written again: the key, id and
/// created_at_ms.
bool kept(std::string_view column) {
  return column == "id" || column == "created_at_ms" ||
         column == "event_manager_id" || column == "dedup_key";
}

/// "column = <the merge of the stored value and `value`>", the merge of
/// `alert_write`: the delta adds to event_count, last_seq keeps the larger,
/// every other column takes the new value.
std::string assignment(const dialect& d, std::string_view column,
                       const std::string& value) {
  std::string sql{column};
  sql += " = ";
  if (column == "event_count")
    sql += "alerts.event_count + " + value;
  else if (column == "last_seq")
    sql.append(d.larger).append("(alerts.last_seq, ").append(value) += ")";
  else
    sql += value;
  return sql;
}

/// The placeholder of `column`'s parameter, in `columns` order.
std::string parameter(const dialect& d, std::string_view column) {
  for (size_t i = 0; i < columns.size(); ++i)
    if (column == columns[i])
      return d.placeholder(static_cast<int>(i) + 1);
  return {};
}

} // namespace

std::string upsert(const dialect& d) {
  std::string sql = "INSERT INTO alerts (" + column_list() + ") VALUES (";
  for (size_t i = 0; i < columns.size(); ++i)
    sql += (i == 0 ? "" : ", ") + d.placeholder(static_cast<int>(i) + 1);
  sql += ") ON CONFLICT (event_manager_id, dedup_key) DO UPDATE SET ";
  bool first = true;
  for (std::string_view column : columns) {
    if (kept(column))
      continue;
    if (!first)
      sql += ", ";
    first = false;
    sql += assignment(d, column, "excluded." + std::string{column});
  }
  return sql;
}

std::string refresh(const dialect& d) {
  std::string sql = "UPDATE alerts SET ";
  bool first = true;
  for (std::string_view column : columns) {
    if (kept(column) || column == "status" || column == "parent_dedup_key" ||
        column == "type")
      continue;
    if (!first)
      sql += ", ";
    first = false;
    sql += assignment(d, column, parameter(d, column));
  }
  for (std::string_view column :
       {"event_manager_id", "dedup_key", "status", "parent_dedup_key", "type"})
    sql.append(column == "event_manager_id" ? " WHERE " : " AND ")
        .append(column)
        .append(" = ")
        .append(parameter(d, column));
  return sql;
}

namespace {

bool of_open_parents(size_t combination) {
  return combination == open_parents || combination == open_parents_of_manager;
}

/// " FROM ... WHERE ..." of one combination of the listing's filters, with
/// their parameters numbered from 1; `n` ends at the last one's number.
std::string matching(const dialect& d, size_t combination, int& n) {
  n = 0;
  if (of_open_parents(combination)) {
    auto active = "'" +
                  std::string{domain::to_string(domain::alert_status::active)} +
                  "'";
    auto parent =
        "'" + std::string{domain::to_string(domain::alert_type::parent)} + "'";
    bool of_manager = combination == open_parents_of_manager;
    std::string sql = std::string{" FROM "} +
                      (of_manager ? d.open_parents_of_manager_source
                                  : d.open_parents_source) +
                      " WHERE ";
    if (of_manager)
      sql += "event_manager_id = " + d.placeholder(++n) + " AND ";
    // The status and type as literals, which a partial index needs to be
    // used, and their parameters compared with them once per statement
    // rather than with each row.
    sql += d.placeholder(++n) + " = " + active + " AND ";
    sql += d.placeholder(++n) + " = " + parent;
    return sql + " AND status = " + active + " AND type = " + parent;
  }
  std::string sql = " FROM alerts";
  const char* glue = " WHERE ";
  auto add = [&](size_t bit, const char* column) {
    if ((combination & bit) == 0)
      return;
    sql.append(glue).append(column).append(" = ").append(d.placeholder(++n));
    glue = " AND ";
  };
  add(4, "event_manager_id");
  add(2, "status");
  add(1, "type");
  return sql;
}

} // namespace

std::string list(const dialect& d, size_t combination) {
  int n = 0;
  std::string sql = "SELECT " + column_list() + matching(d, combination, n);
  sql.append(newest_first);
  sql.append(" LIMIT ").append(d.placeholder(++n));
  sql.append(" OFFSET ").append(d.placeholder(++n));
  return sql;
}

std::string count(const dialect& d, size_t combination) {
  int n = 0;
  return "SELECT COUNT(*)" + matching(d, combination, n);
}

std::array<std::string, combinations>
every_combination(const dialect& d,
                  std::string (*make)(const dialect&, size_t combination)) {
  std::array<std::string, combinations> result;
  for (size_t i = 0; i < result.size(); ++i)
    result[i] = make(d, i);
  return result;
}

std::string active_of_manager(const dialect& d, bool restricted) {
  // In SQLite the unary plus keeps the status index (which holds the
  // manager too, so other managers' rows are passed over without a seek)
  // from losing to the key's: that one would seek each resolved alert of
  // the manager, which retention keeps by the thousand, to read its status.
  std::string sql =
      "SELECT " + column_list() + " FROM alerts WHERE " +
      (&d == &sqlite ? "+" : "") + "event_manager_id = " + d.placeholder(1) +
      // A literal, so that PostgreSQL's generic plan knows the
      // value too (a parameter's is not in it).
      " AND status = '" +
      std::string{domain::to_string(domain::alert_status::active)} + "'";
  if (!restricted)
    return sql;
  auto elements = [&](int n) {
    return &d == &sqlite
               ? "(SELECT value FROM json_each(" + d.placeholder(n) + "))"
               : "(SELECT jsonb_array_elements_text(" + d.placeholder(n) +
                     "::text::jsonb))";
  };
  sql += " AND (severity IN " + elements(2) + " OR class IN " + elements(3) +
         " OR summary IN " + elements(4) + " OR dedup_key IN " + elements(5) +
         ")";
  return sql;
}

std::optional<std::array<std::string, 4>>
filter_values(const domain::column_filter& filter) {
  if (!filter.restricted)
    return std::nullopt;
  std::array<const std::vector<std::string>*, 4> lists = {
      &filter.severity, &filter.class_name, &filter.summary, &filter.dedup_key};
  std::array<std::string, 4> result;
  for (size_t i = 0; i < lists.size(); ++i) {
    for (auto& value : *lists[i])
      if (value.find_first_of(std::string_view{"\0\1", 2}) != std::string::npos)
        return std::nullopt;
    try {
      result[i] = nlohmann::json(*lists[i]).dump();
    } catch (const nlohmann::json::exception&) {
      return std::nullopt; // not UTF-8: JSON cannot carry it
    }
  }
  return result;
}

std::string drop_resolved(const dialect& d) {
  auto cutoff = d.placeholder(1);
  auto resolved =
      "'" + std::string{domain::to_string(domain::alert_status::resolved)} +
      "'";
  // No alert has an empty dedupKey, so a parent (whose parent dedupKey is
  // empty) passes the NOT EXISTS: one anti-join for parents and children.
  // With "no parent OR NOT EXISTS" PostgreSQL could not plan an anti-join
  // and hashed a scan of the whole table per step (240 ms for 2,000 of
  // 200,000 rows, against 30 ms).
  auto rows = " FROM alerts a WHERE a.status = " + resolved +
              " AND a.created_at_ms < " + cutoff + " AND a.resolved_at_ms < " +
              cutoff +
              " AND NOT EXISTS (SELECT 1 FROM alerts p"
              " WHERE p.event_manager_id = a.event_manager_id"
              " AND p.dedup_key = a.parent_dedup_key"
              " AND NOT (p.status = " +
              resolved + " AND p.resolved_at_ms < " + cutoff +
              "))"
              " LIMIT " +
              d.placeholder(2);
  // The rows by their physical id, so the DELETE looks none up again by key
  // (PostgreSQL joined the keys back by a scan of the whole table).
  if (&d == &postgres)
    return "DELETE FROM alerts WHERE ctid = ANY(ARRAY(SELECT a.ctid" + rows +
           "))";
  return "DELETE FROM alerts WHERE rowid IN (SELECT a.rowid" + rows + ")";
}

} // namespace argus::storage::alert_sql
