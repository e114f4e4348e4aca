// keys: create, list and revoke API keys; audit: the audit log. Both through
// the admin actor. A key's text is printed once, at creation.

#include "domain/alertmanager.hpp"
#include "domain/auth.hpp"
#include "domain/error.hpp"
#include "http/json.hpp"
#include "tools/argusctl/commands.hpp"
#include "tools/argusctl/output.hpp"

#include <caf/timestamp.hpp>

#include <charconv>

namespace argus::ctl {

namespace {

using nlohmann::json;
using keys = std::vector<domain::api_key>;

std::string managers_text(const domain::api_key& k) {
  std::string out;
  for (auto& m : k.managers)
    out += (out.empty() ? "" : ",") + m;
  return out.empty() ? "*" : out;
}

void print_keys(std::ostream& out, const keys& xs, domain::time_point now) {
  if (xs.empty()) {
    out << "no keys\n";
    return;
  }
  table t{
      {"ID", "PREFIX", "ROLE", "MANAGERS", "STATE", "EXPIRES", "CREATED BY"}};
  for (auto& k : xs)
    t.add({k.id, k.prefix + "...", std::string{to_string(k.key_role)},
           managers_text(k), std::string{domain::state_of(k, now)},
           k.expires_at == domain::no_time ? "never" : time_text(k.expires_at),
           k.created_by});
  t.print(out);
}

/// The key `create`'s flags describe: role, managers and expiry (a
/// duration from now, or an RFC 3339 time).
domain::api_key key_of(const invocation& inv) {
  constexpr const char* topic = "keys";
  domain::api_key k;
  auto role = domain::parse_role(inv.require("role"));
  if (!role)
    throw usage_error(topic, "--role must be admin, reader or ingest");
  k.key_role = *role;
  if (inv.has("manager"))
    k.managers = inv.flags.at("manager");
  if (auto expires = inv.get("expires")) {
    if (auto d = domain::parse_lifetime(*expires)) {
      k.expires_at = caf::make_timestamp() + *d;
    } else if (auto t = domain::parse_am_time(*expires)) {
      k.expires_at = *t;
    } else {
      throw usage_error(topic, "--expires must be a duration (90s, 30m, 12h, "
                               "90d) or an RFC 3339 time, not '" +
                                   *expires + "'");
    }
  }
  return k;
}

action prepare_create(const invocation& inv) {
  inv.allow_flags({"role", "manager", "expires"});
  inv.expect_positionals(2, 0, "");
  auto wanted = key_of(inv);
  return [=](session& s) {
    auto made = s.node.ask<domain::new_key>(atom::create::value,
                                            atom::key::value, wanted);
    if (!made)
      return s.fail(made.error());
    auto now = caf::make_timestamp();
    if (s.inv.json) {
      auto out = http::to_json(made->record, now);
      out["key"] = made->text;
      print_json(s.out, out);
    } else {
      print_keys(s.out, {made->record}, now);
      s.out << "\nkey (shown only now): " << made->text << "\n";
    }
    return int{exit_ok};
  };
}

domain::audit_filter audit_filter_of(const invocation& inv) {
  constexpr const char* topic = "audit";
  domain::audit_filter f;
  if (auto limit = inv.get("limit")) {
    auto [end, code] =
        std::from_chars(limit->data(), limit->data() + limit->size(), f.limit);
    if (code != std::errc{} || end != limit->data() + limit->size() ||
        f.limit < 1 || f.limit > domain::max_audit_limit)
      throw usage_error(topic, "--limit must be between 1 and " +
                                   std::to_string(domain::max_audit_limit));
  }
  if (auto since = inv.get("since")) {
    if (auto d = domain::parse_lifetime(*since))
      f.since = caf::make_timestamp() - *d;
    else if (auto t = domain::parse_am_time(*since))
      f.since = *t;
    else
      throw usage_error(topic, "--since must be a duration back from now "
                               "(30m, 2h, 7d) or an RFC 3339 time");
  }
  return f;
}

void print_audit(std::ostream& out,
                 const std::vector<domain::audit_entry>& xs) {
  if (xs.empty()) {
    out << "no audit entries\n";
    return;
  }
  table t{{"AT", "ACTOR", "ACTION", "KIND", "ID", "MANAGER"}};
  for (auto& e : xs)
    t.add({time_text(e.at), e.actor, e.action, e.kind, e.object_id,
           e.event_manager_id});
  t.print(out);
}

} // namespace

action prepare_keys(const invocation& inv) {
  auto verb = inv.words.size() > 1 ? inv.words[1] : "";
  if (verb == "create")
    return prepare_create(inv);
  if (verb == "list") {
    inv.allow_flags({});
    inv.expect_positionals(2, 0, "");
    return [](session& s) {
      auto found = s.node.ask<keys>(atom::list::value, atom::key::value);
      if (!found)
        return s.fail(found.error());
      auto now = caf::make_timestamp();
      if (s.inv.json) {
        auto out = json::array();
        for (auto& k : *found)
          out.push_back(http::to_json(k, now));
        print_json(s.out, out);
      } else {
        print_keys(s.out, *found, now);
      }
      return int{exit_ok};
    };
  }
  if (verb == "revoke") {
    inv.allow_flags({});
    inv.expect_positionals(2, 1, "an ID");
    auto id = inv.words[2];
    return [=](session& s) {
      auto revoked =
          s.node.ask<domain::api_key>(atom::erase::value, atom::key::value, id);
      if (!revoked)
        return s.fail(revoked.error());
      auto now = caf::make_timestamp();
      if (s.inv.json)
        print_json(s.out, http::to_json(*revoked, now));
      else
        print_keys(s.out, {*revoked}, now);
      return int{exit_ok};
    };
  }
  throw usage_error("keys", "unknown keys command '" + verb + "'");
}

action prepare_audit(const invocation& inv) {
  inv.allow_flags({"limit", "since"});
  inv.expect_positionals(1, 0, "");
  auto filter = audit_filter_of(inv);
  return [=](session& s) {
    auto found = s.node.ask<std::vector<domain::audit_entry>>(
        atom::audit::value, filter);
    if (!found)
      return s.fail(found.error());
    if (s.inv.json) {
      auto out = json::array();
      for (auto& e : *found)
        out.push_back(http::to_json(e));
      print_json(s.out, out);
    } else {
      print_audit(s.out, *found);
    }
    return int{exit_ok};
  };
}

} // namespace argus::ctl
