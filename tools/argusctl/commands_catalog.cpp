// rules and managers: the catalog's CRUD, with the bodies built as an HTTP
// client would send them and mapped by the same parsers.

#include "domain/error.hpp"
#include "http/json.hpp"
#include "tools/argusctl/commands.hpp"
#include "tools/argusctl/output.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>

namespace argus::ctl {

namespace {

using nlohmann::json;

std::string window_text(int64_t seconds) {
  return duration_text(std::chrono::seconds{seconds});
}

/// "off", or the limit as a duration and in seconds.
std::string auto_resolve_text(int64_t seconds) {
  if (seconds == 0)
    return "off";
  return window_text(seconds) + " (" + std::to_string(seconds) + " s)";
}

/// "default", "unlimited" or "N events/s, burst M".
std::string rate_limit_text(const domain::event_manager& m) {
  if (!m.has_rate_limit)
    return "default";
  auto limit = domain::normalized(m.rate);
  if (limit.unlimited())
    return "unlimited";
  return domain::format_rate(limit.events_per_second) + " events/s, burst " +
         std::to_string(limit.burst);
}

/// Copies `--auto-resolve-after` into the body; the parser checks it.
void add_auto_resolve(const invocation& inv, json& j) {
  constexpr int64_t any = INT64_MAX / 2;
  if (auto s = inv.get_int("auto-resolve-after", -any, any))
    j["auto_resolve_after"] = *s;
}

void print_rows(std::ostream& out,
                const std::vector<domain::grouping_rule>& rules) {
  if (rules.empty()) {
    out << "no grouping rules\n";
    return;
  }
  table t{{"ID", "NAME", "KEY", "WINDOW", "UPDATED"}};
  for (auto& r : rules)
    t.add({r.id, r.name, r.grouping_key, window_text(r.time_window_seconds),
           time_text(r.updated_at)});
  t.print(out);
}

void print_one(std::ostream& out, const domain::grouping_rule& r) {
  print_record(
      out,
      {{"id", r.id},
       {"name", r.name},
       {"grouping_key", r.grouping_key},
       {"time_window", window_text(r.time_window_seconds) + " (" +
                           std::to_string(r.time_window_seconds) + " s)"},
       {"auto_resolve_after", auto_resolve_text(r.auto_resolve_after_seconds)},
       {"created_at", time_text(r.created_at)},
       {"updated_at", time_text(r.updated_at)}});
}

void print_rows(std::ostream& out,
                const std::vector<domain::event_manager>& managers) {
  if (managers.empty()) {
    out << "no event managers\n";
    return;
  }
  table t{{"ID", "NAME", "RULE", "WEBHOOK", "DESCRIPTION"}};
  for (auto& m : managers)
    t.add({m.id, m.name, m.grouping_rule_id, m.webhook_url, m.description});
  t.print(out);
}

void print_one(std::ostream& out, const domain::event_manager& m) {
  print_record(out, {{"id", m.id},
                     {"name", m.name},
                     {"description", m.description},
                     {"grouping_rule_id", m.grouping_rule_id},
                     {"webhook_url", m.webhook_url},
                     {"auto_resolve_after",
                      auto_resolve_text(m.auto_resolve_after_seconds)},
                     {"rate_limit", rate_limit_text(m)},
                     {"created_at", time_text(m.created_at)},
                     {"updated_at", time_text(m.updated_at)}});
}

/// The body fields of a rule the flags give (create or update).
json rule_body(const invocation& inv) {
  json j = json::object();
  if (auto name = inv.get("name"))
    j["name"] = *name;
  if (auto key = inv.get("key"))
    j["grouping_key"] = *key;
  constexpr int64_t any = INT64_MAX / 2;
  if (auto m = inv.get_int("window-minutes", -any, any))
    j["time_window_minutes"] = *m;
  if (auto s = inv.get_int("window-seconds", -any, any))
    j["time_window_seconds"] = *s;
  add_auto_resolve(inv, j);
  return j;
}

/// Copies `--rate-limit N|default [--burst M]` into the body: N events per
/// second (fractions allowed, 0 unlimited), "default" for the node's
/// `rate_limit`; the parser checks the values.
void add_rate_limit(const invocation& inv, json& j) {
  auto rate = inv.get("rate-limit");
  if (!rate) {
    if (inv.has("burst"))
      throw usage_error(inv.topic(), "--burst needs --rate-limit");
    return;
  }
  if (*rate == "default") {
    if (inv.has("burst"))
      throw usage_error(inv.topic(), "--burst cannot go with --rate-limit "
                                     "default");
    j["rate_limit"] = nullptr;
    return;
  }
  char* end = nullptr;
  auto value = std::strtod(rate->c_str(), &end);
  if (rate->empty() || end != rate->c_str() + rate->size())
    throw usage_error(inv.topic(), "--rate-limit must be a number of events "
                                   "per second or 'default'");
  json limit{{"events_per_second", value}};
  if (auto burst = inv.get_int("burst", 0, domain::max_burst))
    limit["burst"] = *burst;
  j["rate_limit"] = std::move(limit);
}

/// The body fields of a manager the flags give (create or update).
json manager_body(const invocation& inv, bool create) {
  json j = json::object();
  if (create)
    if (auto id = inv.get("id"))
      j["id"] = *id;
  if (auto name = inv.get("name"))
    j["name"] = *name;
  if (auto description = inv.get("description"))
    j["description"] = *description;
  if (auto rule = inv.get("rule"))
    j["grouping_rule_id"] = *rule;
  if (auto webhook = inv.get("webhook"))
    j["notification_config"] = {{"webhook_url", *webhook}};
  add_auto_resolve(inv, j);
  add_rate_limit(inv, j);
  return j;
}

/// What differs between rules and managers.
template <class Entity>
struct entity_traits;

template <>
struct entity_traits<domain::grouping_rule> {
  using tag = atom::rule;
  static constexpr const char* noun = "grouping rule";
  static constexpr const char* plural = "rules";
  static std::vector<std::string> create_flags() {
    return {"name", "key", "window-minutes", "window-seconds",
            "auto-resolve-after"};
  }
  static json body(const invocation& inv, bool) { return rule_body(inv); }
  static caf::expected<domain::grouping_rule>
  parse(const json& j, const domain::grouping_rule* base) {
    return http::parse_rule(j, base);
  }
};

template <>
struct entity_traits<domain::event_manager> {
  using tag = atom::manager;
  static constexpr const char* noun = "event manager";
  static constexpr const char* plural = "managers";
  static std::vector<std::string> create_flags() {
    return {"name",       "rule", "description",
            "webhook",    "id",   "auto-resolve-after",
            "rate-limit", "burst"};
  }
  static json body(const invocation& inv, bool create) {
    return manager_body(inv, create);
  }
  static caf::expected<domain::event_manager>
  parse(const json& j, const domain::event_manager* base) {
    return http::parse_manager(j, base);
  }
};

template <class Entity>
action prepare_crud(const invocation& inv) {
  using traits = entity_traits<Entity>;
  auto topic = inv.topic();
  if (inv.words.size() < 2)
    throw usage_error(topic, std::string{"'"} + traits::plural +
                                 "' needs list, get, create, update or "
                                 "delete");
  auto& verb = inv.words[1];
  if (verb == "list") {
    inv.allow_flags({});
    inv.expect_positionals(2, 0, "");
    return [](session& s) {
      auto found = s.node.ask<std::vector<Entity>>(atom::list::value,
                                                   typename traits::tag{});
      if (!found)
        return s.fail(found.error());
      if (s.inv.json) {
        auto out = json::array();
        for (auto& x : *found)
          out.push_back(http::to_json(x));
        print_json(s.out, out);
      } else {
        print_rows(s.out, *found);
      }
      return int{exit_ok};
    };
  }
  auto print = [](session& s, const Entity& x) {
    if (s.inv.json)
      print_json(s.out, http::to_json(x));
    else
      print_one(s.out, x);
    return int{exit_ok};
  };
  if (verb == "get") {
    inv.allow_flags({});
    inv.expect_positionals(2, 1, "an ID");
    auto id = inv.words[2];
    return [=](session& s) {
      auto found =
          s.node.ask<Entity>(atom::get::value, typename traits::tag{}, id);
      if (!found)
        return s.fail(found.error());
      return print(s, *found);
    };
  }
  if (verb == "create") {
    inv.allow_flags(traits::create_flags());
    inv.expect_positionals(2, 0, "");
    auto item = traits::parse(traits::body(inv, true), nullptr);
    if (!item)
      throw_input_error(topic, item.error());
    return [=](session& s) {
      auto created = s.node.ask<Entity>(atom::create::value, *item);
      if (!created)
        return s.fail(created.error());
      return print(s, *created);
    };
  }
  if (verb == "update") {
    auto flags = traits::create_flags();
    flags.erase(std::remove(flags.begin(), flags.end(), "id"), flags.end());
    inv.allow_flags(flags);
    inv.expect_positionals(2, 1, "an ID");
    auto body = traits::body(inv, false);
    if (body.empty())
      throw usage_error(topic, "'" + topic +
                                   "' needs at least one field "
                                   "to change");
    auto id = inv.words[2];
    // As PUT does: the fields given replace those of the current version.
    return [=](session& s) {
      auto current =
          s.node.ask<Entity>(atom::get::value, typename traits::tag{}, id);
      if (!current)
        return s.fail(current.error());
      auto item = traits::parse(body, &*current);
      if (!item)
        throw_input_error(topic, item.error());
      item->id = id;
      auto updated = s.node.ask<Entity>(atom::update::value, *item);
      if (!updated)
        return s.fail(updated.error());
      return print(s, *updated);
    };
  }
  if (verb == "delete") {
    inv.allow_flags({});
    inv.expect_positionals(2, 1, "an ID");
    auto id = inv.words[2];
    return [=](session& s) {
      auto done =
          s.node.ask<atom::ok>(atom::erase::value, typename traits::tag{}, id);
      if (!done)
        return s.fail(done.error());
      if (s.inv.json)
        print_json(s.out, {{"id", id}, {"deleted", true}});
      else
        s.out << "deleted " << traits::noun << " " << cell(id) << '\n';
      return int{exit_ok};
    };
  }
  throw usage_error(topic, std::string{"unknown "} + traits::plural +
                               " command '" + verb + "'");
}

} // namespace

action prepare_rules(const invocation& inv) {
  return prepare_crud<domain::grouping_rule>(inv);
}

action prepare_managers(const invocation& inv) {
  return prepare_crud<domain::event_manager>(inv);
}

} // namespace argus::ctl
