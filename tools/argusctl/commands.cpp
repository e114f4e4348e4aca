#include "tools/argusctl/commands.hpp"

#include "domain/admission.hpp"

#include "domain/error.hpp"
#include "http/active_alerts.hpp"
#include "http/error_codes.hpp"
#include "http/json.hpp"
#include "http/silence_json.hpp"
#include "tools/argusctl/output.hpp"

#include <array>
#include <cstdlib>
#include <map>
#include <memory>
#include <string_view>

namespace argus::ctl {

namespace {

using nlohmann::json;
using alerts = std::vector<domain::alert>;

/// The flag behind each JSON field that http/json.cpp may name in an error.
const std::map<std::string, std::string> flag_of_field = {
    {"event_manager_id", "--manager"},
    {"dedupKey", "--dedup"},
    {"action", "--action"},
    {"summary", "--summary"},
    {"severity", "--severity"},
    {"class", "--class"},
    {"name", "--name"},
    {"grouping_key", "--key"},
    {"time_window_minutes", "--window-minutes"},
    {"time_window_seconds", "--window-seconds"},
    {"id", "--id"},
    {"grouping_rule_id", "--rule"},
    {"description", "--description"},
    {"notification_config.webhook_url", "--webhook"},
    {"auto_resolve_after", "--auto-resolve-after"},
    {"rate_limit.events_per_second", "--rate-limit"},
    {"rate_limit.burst", "--burst"},
};

/// The top-level fields `--field` may not set: they have flags of their own.
constexpr std::array<std::string_view, 6> standard_fields = {
    "event_manager_id", "dedupKey", "action", "summary", "severity", "class",
};

void print_alert_rows(std::ostream& out, const alerts& xs, const char* none) {
  if (xs.empty()) {
    out << none << '\n';
    return;
  }
  table t{{"DEDUPKEY", "MANAGER", "TYPE", "STATUS", "SEVERITY", "VALUE",
           "PARENT", "CHILDREN", "EVENTS", "CREATED", "SUMMARY"}};
  for (auto& a : xs)
    t.add({a.dedup_key.str(), a.event_manager_id.str(),
           std::string{to_string(a.type)}, std::string{to_string(a.status)},
           std::string{to_string(a.sev)},
           a.has_grouping_value ? a.grouping_value.str() : "",
           a.parent_dedup_key.str(), std::to_string(a.child_count),
           std::to_string(a.event_count), time_text(a.created_at), a.summary});
  t.print(out);
}

void print_alert(std::ostream& out, const domain::alert& a) {
  print_record(
      out,
      {{"id", a.id.str()},
       {"dedupKey", a.dedup_key.str()},
       {"event_manager_id", a.event_manager_id.str()},
       {"summary", a.summary},
       {"severity", std::string{to_string(a.sev)}},
       {"class", a.class_name.str()},
       {"type", std::string{to_string(a.type)}},
       {"status", std::string{to_string(a.status)}},
       {"grouping_value", a.has_grouping_value ? a.grouping_value.str() : ""},
       {"parent_dedupKey", a.parent_dedup_key.str()},
       {"child_count", std::to_string(a.child_count)},
       {"resolve_requested", a.resolve_requested ? "true" : "false"},
       {"event_count", std::to_string(a.event_count)},
       {"created_at", time_text(a.created_at)},
       {"updated_at", time_text(a.updated_at)},
       {"resolved_at", time_text(a.resolved_at)},
       {"acknowledged", a.acknowledged ? "true" : "false"},
       {"acknowledged_at", time_text(a.acknowledged_at)},
       {"acknowledged_by", a.acknowledged ? a.acknowledged_by.str() : ""},
       {"details", a.details}});
}

/// Per manager, read once per command: its inhibit rules, and its active
/// alerts once one of its alerts may be inhibited.
struct manager_inhibition {
  std::vector<domain::inhibit_rule> rules;
  std::unique_ptr<http::active_alerts> active;
};
using inhibition_cache = std::map<std::string, manager_inhibition>;

/// The dedupKeys of the active alerts that inhibit `a`, as the API shows
/// them (none for a resolved alert or one no rule of its manager targets).
std::vector<std::string> inhibitors_of(session& s, const domain::alert& a,
                                       inhibition_cache& cache) {
  if (!a.is_active())
    return {};
  auto manager_id = a.event_manager_id.str();
  auto it = cache.find(manager_id);
  if (it == cache.end()) {
    manager_inhibition entry;
    auto manager = s.node.ask<domain::event_manager>(
        atom::get::value, atom::manager::value, manager_id);
    if (manager)
      entry.rules = std::move(manager->inhibit_rules);
    it = cache.emplace(manager_id, std::move(entry)).first;
  }
  auto& m = it->second;
  if (!http::active_alerts::may_be_inhibited(m.rules, a))
    return {};
  if (!m.active) {
    auto active = s.node.ask<alerts>(atom::list::value,
                                     domain::every_active_alert_of(manager_id));
    m.active = std::make_unique<http::active_alerts>(
        m.rules, active ? std::move(*active) : alerts{});
  }
  return m.active->inhibitors_of(a);
}

/// An alert as the HTTP API shows it, `silenced_by` and `inhibited_by`
/// included (computed from the node's silences and the manager's inhibit
/// rules, as the API does at read time).
json alert_json(session& s, const domain::alert& a, inhibition_cache& cache) {
  auto out = http::to_json(a);
  auto found = s.node.ask<std::vector<domain::silence>>(atom::list::value,
                                                        atom::silence::value);
  std::map<std::string, domain::silence> all;
  if (found)
    for (auto& x : *found)
      all.emplace(x.id, x);
  out["silenced_by"] = http::silenced_by(all, a, caf::make_timestamp());
  out["inhibited_by"] = inhibitors_of(s, a, cache);
  return out;
}

json alert_json(session& s, const domain::alert& a) {
  inhibition_cache cache;
  return alert_json(s, a, cache);
}

int print_alerts(session& s, const alerts& xs, const char* none) {
  if (s.inv.json) {
    auto out = json::array();
    inhibition_cache cache;
    for (auto& a : xs)
      out.push_back(alert_json(s, a, cache));
    print_json(s.out, out);
  } else {
    print_alert_rows(s.out, xs, none);
  }
  return exit_ok;
}

action prepare_alerts_list(const invocation& inv) {
  inv.allow_flags({"manager", "status", "type", "limit", "offset"});
  inv.expect_positionals(2, 0, "");
  domain::alert_filter filter;
  filter.event_manager_id = inv.get("manager").value_or("");
  filter.status = inv.get("status").value_or("");
  filter.type = inv.get("type").value_or("");
  // Admission's rules, in the CLI's words (flags, not query parameters).
  auto bad = domain::invalid_field(filter);
  if (bad == domain::filter_field::status)
    throw usage_error(inv.topic(), "--status must be active or resolved");
  if (bad == domain::filter_field::type)
    throw usage_error(inv.topic(), "--type must be parent or child");
  filter.limit =
      inv.get_int("limit", 1, domain::max_alert_limit).value_or(filter.limit);
  filter.offset =
      inv.get_int("offset", 0, domain::max_alert_offset).value_or(0);
  return [=](session& s) {
    auto found = s.node.ask<alerts>(atom::list::value, filter);
    if (!found)
      return s.fail(found.error());
    return print_alerts(s, *found, "no alerts");
  };
}

} // namespace

int session::fail(const caf::error& error) {
  auto f = node.classify(error);
  if (inv.json && f.code == exit_node_error) {
    auto mapped = http::http_error_of(code_of(error));
    print_json(out,
               {{"success", false},
                {"error", {{"code", mapped.code}, {"message", f.message}}}});
  }
  err << "argusctl: " << cell(f.message) << '\n';
  return f.code;
}

void throw_input_error(const std::string& topic, const caf::error& err) {
  auto message = message_of(err);
  for (auto& [field, flag] : flag_of_field)
    if (message.find("'" + field + "'") != std::string::npos) {
      message += " (" + flag + ")";
      break;
    }
  throw usage_error(topic, message);
}

/// `alerts ack|unack|resolve`: the alert's own event for the action, sent
/// through the node's ingest as `events send` does.
action prepare_alert_action(const invocation& inv, domain::action act) {
  inv.allow_flags({"manager", "by"});
  inv.expect_positionals(2, 1, "a DEDUPKEY");
  auto dedup = inv.words[2];
  auto manager = inv.get("manager").value_or("");
  auto by = inv.get("by");
  if (!by) {
    auto* user = std::getenv("USER");
    by = user != nullptr && *user != '\0' ? user : "argusctl";
  }
  return [=](session& s) {
    auto found = s.node.ask<domain::alert>(atom::get::value, atom::alert::value,
                                           manager, dedup);
    if (!found)
      return s.fail(found.error());
    if (!found->is_active())
      return s.fail(
          make_error(ec::conflict, "alert '" + dedup + "' is resolved"));
    actors::event_submission submission;
    auto& e = submission.event;
    e.event_manager_id = found->event_manager_id;
    e.dedup_key = found->dedup_key;
    e.act = act;
    e.actor = *by;
    auto done = s.node.ask<atom::ok>(atom::ingest::value, submission);
    if (!done)
      return s.fail(done.error());
    if (s.inv.json)
      print_json(s.out, {{"status", "accepted"},
                         {"dedupKey", e.dedup_key},
                         {"event_manager_id", e.event_manager_id},
                         {"action", to_string(act)}});
    else
      s.out << "accepted " << to_string(act) << " for dedupKey "
            << cell(e.dedup_key) << " of manager " << cell(e.event_manager_id)
            << '\n';
    return int{exit_ok};
  };
}

action prepare_alerts(const invocation& inv) {
  auto topic = inv.topic();
  if (inv.words.size() < 2)
    throw usage_error(topic, "'alerts' needs list, get or children");
  auto& verb = inv.words[1];
  if (verb == "list")
    return prepare_alerts_list(inv);
  if (verb == "ack")
    return prepare_alert_action(inv, domain::action::acknowledge);
  if (verb == "unack")
    return prepare_alert_action(inv, domain::action::unacknowledge);
  if (verb == "resolve")
    return prepare_alert_action(inv, domain::action::resolve);
  if (verb != "get" && verb != "children")
    throw usage_error(topic, "unknown alerts command '" + verb + "'");
  inv.allow_flags({"manager"});
  inv.expect_positionals(2, 1, "a DEDUPKEY");
  auto dedup = inv.words[2];
  auto manager = inv.get("manager").value_or("");
  if (verb == "get")
    return [=](session& s) {
      auto found = s.node.ask<domain::alert>(
          atom::get::value, atom::alert::value, manager, dedup);
      if (!found)
        return s.fail(found.error());
      if (s.inv.json)
        print_json(s.out, alert_json(s, *found));
      else
        print_alert(s.out, *found);
      return int{exit_ok};
    };
  return [=](session& s) {
    auto found = s.node.ask<alerts>(atom::children::value, manager, dedup);
    if (!found)
      return s.fail(found.error());
    return print_alerts(s, *found, "no children");
  };
}

action prepare_events(const invocation& inv) {
  auto topic = inv.topic();
  if (inv.words.size() < 2)
    throw usage_error(topic, "'events' needs send");
  if (inv.words[1] != "send")
    throw usage_error(topic, "unknown events command '" + inv.words[1] + "'");
  inv.allow_flags(
      {"manager", "dedup", "action", "summary", "severity", "class", "field"});
  inv.expect_positionals(2, 0, "");
  // The body an HTTP client would post, mapped by the same parser.
  json body{{"event_manager_id", inv.require("manager")},
            {"dedupKey", inv.require("dedup")},
            {"action", inv.require("action")}};
  for (auto name : {"summary", "severity", "class"})
    if (auto value = inv.get(name))
      body[name] = *value;
  if (inv.has("field"))
    for (auto& kv : inv.flags.at("field")) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw usage_error(topic,
                          "--field must be NAME=VALUE, not '" + kv + "'");
      auto name = kv.substr(0, eq);
      for (auto standard : standard_fields)
        if (name == standard)
          throw usage_error(topic, "--field cannot set '" + name +
                                       "'; it has a flag of its own");
      if (body.contains(name))
        throw usage_error(topic, "--field " + name + " given more than once");
      body[name] = kv.substr(eq + 1);
    }
  auto parsed = http::parse_event(body);
  if (!parsed)
    throw_input_error(topic, parsed.error());
  actors::event_submission submission;
  submission.event = std::move(*parsed);
  for (auto& [name, value] : body.items())
    submission.fields.emplace(name, value.get<std::string>());
  return [=](session& s) {
    auto done = s.node.ask<atom::ok>(atom::ingest::value, submission);
    if (!done)
      return s.fail(done.error());
    auto& e = submission.event;
    if (s.inv.json)
      print_json(s.out, {{"status", "accepted"}, {"dedupKey", e.dedup_key}});
    else
      s.out << "accepted " << to_string(e.act) << " for dedupKey "
            << cell(e.dedup_key) << " of manager " << cell(e.event_manager_id)
            << '\n';
    return int{exit_ok};
  };
}

action prepare_groups(const invocation& inv) {
  auto topic = inv.topic();
  if (inv.words.size() < 2 || inv.words[1] != "list")
    throw usage_error(topic, "'groups' needs list");
  inv.allow_flags({"manager"});
  inv.expect_positionals(2, 0, "");
  auto manager = inv.get("manager").value_or("");
  return [=](session& s) {
    auto found = s.node.ask<std::vector<actors::group_view>>(
        atom::groups::value, manager);
    if (!found)
      return s.fail(found.error());
    if (s.inv.json) {
      auto out = json::array();
      for (auto& g : *found)
        out.push_back(to_json(g));
      print_json(s.out, out);
      return int{exit_ok};
    }
    if (found->empty()) {
      s.out << "no open groups\n";
      return int{exit_ok};
    }
    table t{{"MANAGER", "VALUE", "PARENT", "CHILDREN", "WINDOW LEFT",
             "RESOLVE REQUESTED", "SUMMARY"}};
    for (auto& g : *found) {
      std::string left = "-";
      if (g.has_value)
        left =
            g.window_left.count() > 0 ? duration_text(g.window_left) : "closed";
      t.add({g.event_manager_id, g.has_value ? g.grouping_value : "",
             g.parent_dedup_key,
             std::to_string(g.active_children) + "/" +
                 std::to_string(g.child_count),
             left, g.resolve_requested ? "yes" : "no", g.summary});
    }
    t.print(s.out);
    return int{exit_ok};
  };
}

/// "ops delivered, pager failed (3)": each receiver's state, attempts
/// where they tell something.
std::string deliveries_text(const std::vector<domain::delivery>& ds) {
  std::string out;
  for (auto& d : ds) {
    if (!out.empty())
      out += ", ";
    out += d.receiver + " " + std::string{to_string(d.state)};
    if (d.state != domain::delivery_state::delivered && d.attempts > 0)
      out += " (" + std::to_string(d.attempts) + ")";
  }
  return out.empty() ? "-" : out;
}

action prepare_notification_retry(const invocation& inv) {
  inv.allow_flags({"receiver"});
  inv.expect_positionals(2, 1, "a notification ID");
  auto id = inv.words[2];
  auto receiver = inv.get("receiver").value_or("");
  return [=](session& s) {
    auto done = s.node.ask<atom::ok>(atom::retry::value, id, receiver);
    if (!done)
      return s.fail(done.error());
    if (s.inv.json)
      print_json(s.out, json{{"id", id}, {"state", "pending"}});
    else
      s.out << "notification " << id << " is pending again\n";
    return int{exit_ok};
  };
}

action prepare_notifications(const invocation& inv) {
  if (inv.words.size() > 1 && inv.words[1] == "retry")
    return prepare_notification_retry(inv);
  inv.allow_flags({"limit", "state", "receiver"});
  inv.expect_positionals(1, 0, "");
  domain::notification_filter filter;
  filter.limit = inv.get_int("limit", 1, domain::max_notification_limit)
                     .value_or(domain::default_notification_limit);
  filter.state = inv.get("state").value_or("");
  filter.receiver = inv.get("receiver").value_or("");
  if (!filter.state.empty() && !domain::parse_delivery_state(filter.state))
    throw usage_error(
        inv.topic(),
        "--state must be pending, delivered, failed or suppressed");
  return [=](session& s) {
    auto found = s.node.ask<std::vector<domain::notification_record>>(
        atom::list::value, atom::notify::value, filter);
    if (!found)
      return s.fail(found.error());
    if (s.inv.json) {
      auto out = json::array();
      for (auto& r : *found)
        out.push_back(http::to_json(r));
      print_json(s.out, out);
      return int{exit_ok};
    }
    if (found->empty()) {
      s.out << "no notifications\n";
      return int{exit_ok};
    }
    table t{{"SEQ", "ID", "KIND", "AT", "MANAGER", "PARENT", "DELIVERIES",
             "SUMMARY"}};
    for (auto& r : *found)
      t.add({std::to_string(r.note.seq), r.note.id,
             std::string{to_string(r.note.kind)}, time_text(r.note.at),
             r.note.parent->event_manager_id.str(),
             r.note.parent->dedup_key.str(), deliveries_text(r.deliveries),
             r.note.parent->summary});
    t.print(s.out);
    return int{exit_ok};
  };
}

action prepare_cluster(const invocation& inv) {
  inv.allow_flags({});
  inv.expect_positionals(1, 0, "");
  return [](session& s) {
    auto found =
        s.node.ask<std::vector<actors::member_info>>(atom::members::value);
    if (!found)
      return s.fail(found.error());
    if (s.inv.json) {
      auto out = json::array();
      for (auto& m : *found)
        out.push_back({{"node_id", m.node_id},
                       {"address", m.address},
                       {"state", m.state},
                       {"self", m.self},
                       {"groups", m.groups}});
      print_json(s.out, out);
      return int{exit_ok};
    }
    table t{{"NODE", "ADDRESS", "STATE", "GROUPS"}};
    for (auto& m : *found)
      t.add({m.self ? m.node_id + " *" : m.node_id, m.address, m.state,
             std::to_string(m.groups)});
    t.print(s.out);
    return int{exit_ok};
  };
}

action prepare_drain(const invocation& inv) {
  inv.allow_flags({});
  inv.expect_positionals(1, 0, "");
  return [](session& s) {
    auto done = s.node.ask<atom::ok>(atom::leave::value);
    if (!done)
      return s.fail(done.error());
    if (s.inv.json)
      print_json(s.out, {{"success", true}, {"data", {{"state", "left"}}}});
    else
      s.out << "node at " << s.inv.address()
            << " left its cluster and is shutting down\n";
    return int{exit_ok};
  };
}

action prepare_status(const invocation& inv) {
  inv.allow_flags({});
  inv.expect_positionals(1, 0, "");
  return [](session& s) {
    auto st = s.node.ask<actors::node_status>(atom::status::value);
    if (!st)
      return s.fail(st.error());
    if (s.inv.json) {
      print_json(s.out, to_json(*st));
      return int{exit_ok};
    }
    uint64_t groups = 0;
    std::string per_router;
    for (auto n : st->groups_per_router) {
      groups += n;
      per_router += (per_router.empty() ? "" : ", ") + std::to_string(n);
    }
    print_record(
        s.out,
        {{"node", st->node_id},
         {"address", s.inv.address()},
         {"version", st->version},
         {"uptime", duration_text(std::chrono::seconds{st->uptime_seconds})},
         {"storage", st->storage},
         {"events in", std::to_string(st->events_received)},
         {"events accepted", std::to_string(st->events_accepted)},
         {"events rejected", std::to_string(st->events_rejected)},
         {"events processed", std::to_string(st->events_processed)},
         {"events ignored", std::to_string(st->events_ignored)},
         {"events queued", std::to_string(st->events_queued) +
                               " (router and grouping mailboxes)"},
         {"alerts active", std::to_string(st->alerts_active)},
         {"alerts resolved", std::to_string(st->alerts_resolved)},
         {"grouping actors",
          std::to_string(groups) + " (per router: " + per_router + ")"},
         {"notifications", std::to_string(st->notifications)},
         {"store errors", std::to_string(st->store_errors)}});
    return int{exit_ok};
  };
}

action prepare(const invocation& inv) {
  static const std::map<std::string, action (*)(const invocation&)> commands = {
      {"status", prepare_status},
      {"rules", prepare_rules},
      {"managers", prepare_managers},
      {"alerts", prepare_alerts},
      {"events", prepare_events},
      {"groups", prepare_groups},
      {"notifications", prepare_notifications},
      {"cluster", prepare_cluster},
      {"drain", prepare_drain},
      {"silences", prepare_silences},
      {"keys", prepare_keys},
      {"audit", prepare_audit}};
  if (inv.words.empty())
    throw usage_error("", "no command given");
  auto it = commands.find(inv.words.front());
  if (it == commands.end())
    throw usage_error("", "unknown command '" + inv.words.front() + "'");
  return it->second(inv);
}

} // namespace argus::ctl
