#include "domain/cron.hpp"

#include "domain/error.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <sstream>
#include <vector>

namespace argus::domain {

namespace {

struct field_def {
  const char* name;
  unsigned low;
  unsigned high;
  /// Names for the values from `low` on (months, days of the week).
  std::array<const char*, 12> names;
  size_t name_count;
};

const field_def fields[] = {
    {"minute", 0, 59, {}, 0},
    {"hour", 0, 23, {}, 0},
    {"day of month", 1, 31, {}, 0},
    {"month",
     1,
     12,
     {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
      "nov", "dec"},
     12},
    // 7 is Sunday too (crontab accepts both); it folds onto 0.
    {"day of week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}, 7},
};

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// One value of a field: a number or a name.
bool value_of(const field_def& def, std::string_view text, unsigned& out) {
  auto name = lower(text);
  for (size_t i = 0; i < def.name_count; ++i)
    if (name == def.names[i]) {
      out = def.low + static_cast<unsigned>(i);
      return true;
    }
  if (text.empty())
    return false;
  auto [end, err] =
      std::from_chars(text.data(), text.data() + text.size(), out);
  return err == std::errc{} && end == text.data() + text.size() &&
         out >= def.low && out <= def.high;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto at = text.find(sep, start);
    out.push_back(text.substr(start, at - start));
    if (at == std::string_view::npos)
      return out;
    start = at + 1;
  }
}

/// Reads one field into `bits` (index = value); false when it is not valid.
template <size_t N>
bool parse_field(const field_def& def, std::string_view text,
                 std::bitset<N>& bits) {
  for (auto item : split(text, ',')) {
    unsigned step = 1;
    if (auto slash = item.find('/'); slash != std::string_view::npos) {
      auto step_text = item.substr(slash + 1);
      auto [end, err] = std::from_chars(
          step_text.data(), step_text.data() + step_text.size(), step);
      if (err != std::errc{} || end != step_text.data() + step_text.size() ||
          step == 0 || step > def.high)
        return false;
      item = item.substr(0, slash);
    }
    unsigned first = def.low;
    unsigned last = def.high;
    if (item != "*") {
      auto dash = item.find('-');
      if (dash == std::string_view::npos) {
        if (!value_of(def, item, first))
          return false;
        // `5/15` means from 5 to the end by 15, as in cronie.
        last = step > 1 ? def.high : first;
      } else if (!value_of(def, item.substr(0, dash), first) ||
                 !value_of(def, item.substr(dash + 1), last) || last < first) {
        return false;
      }
    }
    for (auto v = first; v <= last; v += step)
      bits.set(v % N); // day of week 7 -> 0; other fields are within N
  }
  return true;
}

} // namespace

bool cron_spec::day_matches(unsigned month, unsigned day,
                            unsigned weekday) const {
  if (!months.test(month))
    return false;
  bool dom = days_of_month.test(day);
  bool dow = days_of_week.test(weekday);
  if (dom_restricted && dow_restricted)
    return dom || dow;
  return dom && dow;
}

caf::expected<cron_spec> parse_cron(std::string_view text,
                                    const std::string& field) {
  std::vector<std::string> parts;
  std::istringstream in{std::string{text}};
  for (std::string part; in >> part;)
    parts.push_back(part);
  if (parts.size() != 5)
    return make_error(ec::validation_failed,
                      "field '" + field +
                          "' must have 5 fields (minute hour day-of-month "
                          "month day-of-week), got " +
                          std::to_string(parts.size()));
  cron_spec out;
  bool valid[] = {parse_field(fields[0], parts[0], out.minutes),
                  parse_field(fields[1], parts[1], out.hours),
                  parse_field(fields[2], parts[2], out.days_of_month),
                  parse_field(fields[3], parts[3], out.months),
                  parse_field(fields[4], parts[4], out.days_of_week)};
  size_t bad =
      std::find(std::begin(valid), std::end(valid), false) - std::begin(valid);
  if (bad < 5)
    return make_error(ec::validation_failed,
                      "field '" + field + "': the " + fields[bad].name +
                          " field '" + parts[bad] + "' is not valid (" +
                          std::to_string(fields[bad].low) + "-" +
                          std::to_string(fields[bad].high) +
                          (fields[bad].name_count > 0 ? ", names" : "") +
                          ", lists, ranges and steps)");
  out.dom_restricted = parts[2] != "*";
  out.dow_restricted = parts[4] != "*";
  return out;
}

} // namespace argus::domain
