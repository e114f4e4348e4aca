// silences: list, add and expire, through the admin actor. Matchers are
// written as amtool writes them (`alertname=DiskFull`, `severity=~"crit.*"`).

#include "domain/error.hpp"
#include "domain/labels.hpp"
#include "domain/silence.hpp"
#include "http/silence_json.hpp"
#include "tools/argusctl/commands.hpp"
#include "tools/argusctl/output.hpp"

#include <caf/timestamp.hpp>

#include <charconv>

namespace argus::ctl {

namespace {

using nlohmann::json;
using silences = std::vector<domain::silence>;

constexpr const char* topic = "silences";

std::string matchers_text(const domain::silence& s) {
  std::string out;
  for (auto& m : s.matchers) {
    auto op =
        m.is_equal ? (m.is_regex ? "=~" : "=") : (m.is_regex ? "!~" : "!=");
    out += (out.empty() ? "" : ",") + m.name + op + "\"" + m.value + "\"";
  }
  return out;
}

void print_rows(std::ostream& out, const silences& xs, domain::time_point now) {
  if (xs.empty()) {
    out << "no silences\n";
    return;
  }
  table t{
      {"ID", "STATE", "MANAGER", "MATCHERS", "ENDS", "CREATED BY", "COMMENT"}};
  for (auto& s : xs)
    t.add({s.id, std::string{to_string(state_of(s, now))}, s.event_manager_id,
           matchers_text(s),
           s.ends_at == domain::forever ? "never" : time_text(s.ends_at),
           s.created_by, s.comment});
  t.print(out);
}

/// `90s`, `30m`, `2h`, `1d`: a positive whole number and a unit.
domain::duration parse_duration(const std::string& text,
                                const char* flag = "--duration") {
  int64_t n = 0;
  auto [end, ec_] = std::from_chars(text.data(), text.data() + text.size(), n);
  auto unit = std::string{end, text.data() + text.size()};
  auto bad = [&] {
    return usage_error(topic, std::string{flag} +
                                  " must be a positive number with s, "
                                  "m, h or d (e.g. 2h), not '" +
                                  text + "'");
  };
  if (ec_ != std::errc{} || n <= 0 || n > 366 * 24 * 3600)
    throw bad();
  if (unit == "s")
    return std::chrono::seconds{n};
  if (unit == "m")
    return std::chrono::minutes{n};
  if (unit == "h")
    return std::chrono::hours{n};
  if (unit == "d")
    return std::chrono::hours{24 * n};
  throw bad();
}

/// The silence `add`'s flags describe, checked by the node on create.
domain::silence silence_of(const invocation& inv) {
  domain::silence s;
  if (!inv.has("matcher"))
    throw usage_error(topic, "'silences add' needs at least one --matcher");
  for (auto& text : inv.flags.at("matcher")) {
    auto parsed = domain::parse_matchers(text);
    if (!parsed)
      throw usage_error(topic, "--matcher '" + text +
                                   "': " + message_of(parsed.error()));
    for (auto& m : *parsed) {
      using domain::match_type;
      s.matchers.push_back(domain::silence_matcher{
          m.name, m.value,
          m.type == match_type::regex || m.type == match_type::not_regex,
          m.type == match_type::equal || m.type == match_type::regex});
    }
  }
  auto now = caf::make_timestamp();
  s.starts_at = now;
  if (auto tz = inv.get("time-zone")) {
    s.recurrence.time_zone = *tz;
    if (auto days = inv.get("days")) {
      std::string day;
      for (auto c : *days + ",") {
        if (c != ',') {
          day += c;
        } else if (!day.empty()) {
          s.recurrence.days.push_back(day);
          day.clear();
        }
      }
    }
    s.recurrence.start = inv.get("start").value_or("");
    s.recurrence.cron = inv.get("cron").value_or("");
    if (!inv.get("window"))
      throw usage_error(topic, "a maintenance window needs --window");
    s.recurrence.duration_seconds =
        std::chrono::duration_cast<std::chrono::seconds>(
            parse_duration(*inv.get("window"), "--window"))
            .count();
    // Without --duration it recurs forever; the node checks the rest.
    s.ends_at = inv.get("duration") ? now + parse_duration(*inv.get("duration"))
                                    : domain::forever;
  } else {
    for (auto flag : {"days", "start", "cron", "window"})
      if (inv.get(flag))
        throw usage_error(topic, std::string{"--"} + flag +
                                     " needs --time-zone (a maintenance "
                                     "window)");
    s.ends_at = now + parse_duration(inv.get("duration").value_or("1h"));
  }
  s.comment = inv.require("comment");
  s.created_by = inv.get("by").value_or("argusctl");
  s.event_manager_id = inv.get("manager").value_or("");
  return s;
}

int print_one(session& s, const domain::silence& x) {
  auto now = caf::make_timestamp();
  if (s.inv.json)
    print_json(s.out, http::to_json(x, now));
  else
    print_rows(s.out, {x}, now);
  return int{exit_ok};
}

} // namespace

action prepare_silences(const invocation& inv) {
  auto verb = inv.words.size() > 1 ? inv.words[1] : "";
  if (verb == "list") {
    inv.allow_flags({});
    inv.expect_positionals(2, 0, "");
    return [](session& s) {
      auto found =
          s.node.ask<silences>(atom::list::value, atom::silence::value);
      if (!found)
        return s.fail(found.error());
      auto now = caf::make_timestamp();
      if (s.inv.json) {
        auto out = json::array();
        for (auto& x : *found)
          out.push_back(http::to_json(x, now));
        print_json(s.out, out);
      } else {
        print_rows(s.out, *found, now);
      }
      return int{exit_ok};
    };
  }
  if (verb == "add") {
    inv.allow_flags({"matcher", "duration", "comment", "by", "manager",
                     "time-zone", "days", "start", "cron", "window"});
    inv.expect_positionals(2, 0, "");
    auto wanted = silence_of(inv);
    return [=](session& s) {
      auto created = s.node.ask<domain::silence>(atom::create::value, wanted);
      if (!created)
        return s.fail(created.error());
      return print_one(s, *created);
    };
  }
  if (verb == "expire") {
    inv.allow_flags({});
    inv.expect_positionals(2, 1, "an ID");
    auto id = inv.words[2];
    return [=](session& s) {
      auto expired = s.node.ask<domain::silence>(atom::erase::value,
                                                 atom::silence::value, id);
      if (!expired)
        return s.fail(expired.error());
      return print_one(s, *expired);
    };
  }
  throw usage_error(topic, "unknown silences command '" + verb + "'");
}

} // namespace argus::ctl
