#include "tools/argusctl/output.hpp"

#include <algorithm>
#include <chrono>

namespace argus::ctl {

using nlohmann::json;

table::table(std::vector<std::string> header) : header_(std::move(header)) {}

void table::add(std::vector<std::string> row) {
  for (auto& x : row)
    x = cell(x);
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void table::print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (auto& h : header_)
    widths.push_back(h.size());
  for (auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
  auto line = [&](const std::vector<std::string>& xs) {
    std::string text;
    for (size_t i = 0; i < xs.size(); ++i) {
      text += xs[i];
      if (i + 1 < xs.size())
        text.append(widths[i] - xs[i].size() + 2, ' ');
    }
    out << text << '\n';
  };
  line(header_);
  for (auto& row : rows_)
    line(row);
}

void print_record(std::ostream& out,
                  const std::vector<std::pair<std::string, std::string>>& xs) {
  size_t width = 0;
  for (auto& [name, value] : xs)
    width = std::max(width, name.size());
  for (auto& [name, value] : xs)
    out << name << std::string(width - name.size() + 2, ' ') << cell(value)
        << '\n';
}

void print_json(std::ostream& out, const json& j) {
  out << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';
}

std::string cell(const std::string& text) {
  if (text.empty())
    return "-";
  std::string out = text;
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      c = ' ';
  return out;
}

std::string time_text(domain::time_point t) {
  return t == domain::no_time ? "-" : domain::to_rfc3339(t);
}

std::string duration_text(domain::duration d) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  std::string out;
  if (secs >= 3600)
    out += std::to_string(secs / 3600) + "h";
  if (secs >= 60)
    out += std::to_string(secs / 60 % 60) + "m";
  out += std::to_string(secs % 60) + "s";
  return out;
}

json to_json(const actors::node_status& s) {
  uint64_t groups = 0;
  for (auto n : s.groups_per_router)
    groups += n;
  return json{
      {"node_id", s.node_id},
      {"version", s.version},
      {"storage", s.storage},
      {"uptime_seconds", s.uptime_seconds},
      {"events",
       {{"received", s.events_received},
        {"accepted", s.events_accepted},
        {"rejected", s.events_rejected},
        {"processed", s.events_processed},
        {"ignored", s.events_ignored},
        {"queued", s.events_queued}}},
      {"alerts",
       {{"active", s.alerts_active}, {"resolved", s.alerts_resolved}}},
      {"groups_live", groups},
      {"groups_per_router", s.groups_per_router},
      {"notifications", s.notifications},
      {"store_errors", s.store_errors},
  };
}

json to_json(const actors::group_view& g) {
  auto left = std::chrono::duration_cast<std::chrono::seconds>(g.window_left);
  return json{
      {"event_manager_id", g.event_manager_id},
      {"grouping_value", g.has_value ? json(g.grouping_value) : json(nullptr)},
      {"parent_dedupKey", g.parent_dedup_key},
      {"summary", g.summary},
      {"child_count", g.child_count},
      {"active_children", g.active_children},
      {"resolve_requested", g.resolve_requested},
      {"window_ends_at", g.has_value && g.window_ends_at != domain::no_time
                             ? json(domain::to_rfc3339(g.window_ends_at))
                             : json(nullptr)},
      {"window_left_seconds", g.has_value ? json(left.count()) : json(nullptr)},
  };
}

} // namespace argus::ctl
