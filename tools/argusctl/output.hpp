#pragma once

#include "actors/type_ids.hpp"
#include "domain/types.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <utility>
#include <vector>

/// argusctl's output: aligned tables for people, JSON for scripts.
namespace argus::ctl {

/// Rows under a header, each column as wide as its widest cell.
class table {
public:
  explicit table(std::vector<std::string> header);

  void add(std::vector<std::string> row);

  bool empty() const { return rows_.empty(); }

  void print(std::ostream& out) const;

private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

/// "name  value" lines with the values aligned, for one record.
void print_record(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& xs);

/// Pretty-printed JSON; invalid UTF-8 from the node is replaced, not fatal.
void print_json(std::ostream& out, const nlohmann::json& j);

/// Control characters as spaces, so that a value cannot break the table or
/// drive the terminal; "-" for an empty value.
std::string cell(const std::string& text);

/// RFC 3339 time, or "-" when unset.
std::string time_text(domain::time_point t);

/// "1h2m3s", "4m0s", "12s".
std::string duration_text(domain::duration d);

/// The JSON of `argusctl status`: /healthz's field names, plus the ones
/// only the admin actor knows.
nlohmann::json to_json(const actors::node_status& s);

/// The JSON of one open group, with the alert JSON's field names.
nlohmann::json to_json(const actors::group_view& g);

} // namespace argus::ctl
