#include "tools/argusctl/cli.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>

namespace argus::ctl {

namespace {

/// Command flags that take a value; every other "--x" is unknown.
const std::set<std::string> value_flags = {
    "name",
    "key",
    "window-minutes",
    "window-seconds",
    "rule",
    "webhook",
    "description",
    "id",
    "manager",
    "status",
    "type",
    "limit",
    "offset",
    "dedup",
    "action",
    "summary",
    "severity",
    "class",
    "field",
    "by",
    "state",
    "receiver",
    "auto-resolve-after",
    "rate-limit",
    "burst",
    "matcher",
    "comment",
    "duration",
    "time-zone",
    "days",
    "start",
    "cron",
    "window",
    "role",
    "expires",
    "since",
};

const char* global_usage =
    R"(usage: argusctl [--node HOST:PORT] [--json] [--timeout SECONDS]
                [--tls-certificate FILE --tls-key FILE --tls-ca FILE]
                <command> [arguments]

Administers a running Argus node through its admin actor (CAF remoting).

commands:
  status                               the node's vital signs
  rules list|get|create|update|delete  grouping rules
  managers list|get|create|update|delete
                                       event managers (tenants)
  alerts list|get|children|ack|unack|resolve
                                       alerts, one alert, a parent's children;
                                       an operator's action on an alert
  events send                          send one trigger or resolve
  groups list                          open groups: value, parent, children,
                                       window left
  notifications [retry ID]             stored notifications and their
                                       deliveries; retry a failed one
  cluster                              cluster members, their state and the
                                       open groups each owns
  drain                                the node leaves its cluster cleanly
                                       and shuts down
  silences list|add|expire             mute notifications of matching alerts
  keys create|list|revoke              API keys for the HTTP API
  audit                                who changed what, newest first

global options (anywhere on the line):
  --node HOST:PORT   the node's admin endpoint (node.host:node.port); default
                     $ARGUS_NODE, else 127.0.0.1:4242
  --json             print JSON with the HTTP API's field names, not tables
  --timeout SECONDS  how long to wait to connect and for each answer
                     (default 10)
  --tls-certificate FILE, --tls-key FILE, --tls-ca FILE
                     connect with TLS: this client certificate and key,
                     trusting node certificates signed by this CA. All three
                     or none; defaults $ARGUS_TLS_CERTIFICATE, $ARGUS_TLS_KEY,
                     $ARGUS_TLS_CA
  -h, --help         this text; `argusctl <command> --help` explains a command

exit codes:
  0  success
  1  the node answered with an error (its message is printed)
  2  usage error (with the usage text)
  3  the node is unreachable or did not answer in time
)";

const std::map<std::string, std::string> command_usage = {
    {"status", R"(usage: argusctl status

Shows the node's id, version, uptime and storage backend; events received,
accepted, rejected, processed and ignored; events queued in the router and
grouping mailboxes; active and resolved alerts; live grouping actors (per
router); notifications sent and store errors.
)"},
    {"rules", R"(usage: argusctl rules list
       argusctl rules get ID
       argusctl rules create --name NAME --key FIELD
                             (--window-minutes M | --window-seconds S)
                             [--auto-resolve-after SECONDS]
       argusctl rules update ID [--name NAME] [--key FIELD]
                             [--window-minutes M | --window-seconds S]
                             [--auto-resolve-after SECONDS]
       argusctl rules delete ID

Grouping rules: alerts of a manager group by the event field a rule names,
within its time window.
  --name NAME           the rule's name
  --key FIELD           the top-level event field to group by (e.g. class)
  --window-minutes M    the window, in whole minutes
  --window-seconds S    the window, in seconds (give one of the two)
  --auto-resolve-after SECONDS
                        an alert with no new trigger for that long resolves
                        by itself (resolved_by "auto"); 0 turns it off
update changes only the fields given. delete fails while a manager uses the
rule.
)"},
    {"managers", R"(usage: argusctl managers list
       argusctl managers get ID
       argusctl managers create --name NAME --rule RULE_ID [--id ID]
                                [--description TEXT] [--webhook URL]
                                [--auto-resolve-after SECONDS]
                                [--rate-limit N|default [--burst M]]
       argusctl managers update ID [--name NAME] [--rule RULE_ID]
                                [--description TEXT] [--webhook URL]
                                [--auto-resolve-after SECONDS]
                                [--rate-limit N|default [--burst M]]
       argusctl managers delete ID

Event managers (tenants). Each one points to a grouping rule.
  --name NAME           the manager's name
  --rule RULE_ID        the grouping rule it uses (must exist)
  --id ID               the new manager's id (generated when missing)
  --description TEXT    free text
  --webhook URL         notification webhook (http:// or https://; "" clears)
  --auto-resolve-after SECONDS
                        overrides the rule's auto-resolve limit (0: the
                        rule's applies)
  --rate-limit N|default
                        the manager's own rate limit in events per second
                        (fractions allowed; 0: unlimited); "default" returns
                        it to the node's rate_limit setting
  --burst M             events it may send at once (default: N rounded up)
update changes only the fields given. A deleted manager takes no more
events; its alerts stay readable.
)"},
    {"alerts",
     R"(usage: argusctl alerts list [--manager ID] [--status active|resolved]
                          [--type parent|child] [--limit N] [--offset N]
       argusctl alerts get DEDUPKEY [--manager ID]
       argusctl alerts children DEDUPKEY [--manager ID]
       argusctl alerts ack|unack|resolve DEDUPKEY [--manager ID] [--by NAME]

Alerts, newest first.
  --manager ID    only this event manager's alerts; for get and children it
                  picks the manager when several use the dedupKey
  --status S      active or resolved
  --type T        parent or child
  --limit N       at most N alerts (1 to 1000, default 100)
  --offset N      skip the first N
children lists a parent's children (a child has none).
ack acknowledges an active alert (a parent with its group), unack undoes
that, resolve resolves it (a parent with active children waits for them);
--by names who acts (default: $USER).
)"},
    {"events",
     R"(usage: argusctl events send --manager ID --dedup KEY --action trigger|resolve
                          [--summary TEXT] [--severity high|medium|low]
                          [--class CLASS] [--field NAME=VALUE ...]

Sends one event, checked as POST /v1/events checks it, to the router of its
manager.
  --manager ID      the event manager (event_manager_id)
  --dedup KEY       the alert's dedupKey
  --action A        trigger or resolve
  --summary TEXT    required for a trigger
  --severity S      required for a trigger: high, medium or low
  --class CLASS     the event's class
  --field NAME=VALUE
                    any other top-level field (a string), repeatable; a
                    rule may group by it, and the alert keeps it in details
)"},
    {"groups", R"(usage: argusctl groups list [--manager ID]

Open groups: every active parent alert with its grouping value, its children
(active/all) and the time left in its window ("closed" once later triggers
no longer join it; "-" for a parent whose event lacked the grouping field).
  --manager ID    only this event manager's groups
)"},
    {"cluster", R"(usage: argusctl cluster

The members of the node's cluster as that node sees them: node id, address
(node.host:node.port), state (up, down, left, leaving) and the open groups
(active parents in the shared store) each live member owns by rendezvous
hashing. The answering node is marked with '*'.
)"},
    {"silences", R"(usage: argusctl silences list
       argusctl silences add --matcher M [--matcher M ...] --comment TEXT
                             [--duration D] [--by NAME] [--manager ID]
                             [--time-zone TZ (--days D,D --start HH:MM |
                              --cron EXPR) --window D]
       argusctl silences expire ID

Silences mute the notifications of the alerts they match while active; the
alerts are still grouped, stored and listed. A matcher is written as amtool
writes one: name=value, name!=value, name=~regex, name!~regex (a quoted
value may hold commas). Names are alert fields (severity, class, summary,
dedupKey, event_manager_id, grouping_value) or labels and details.
  --duration D       how long from now: 90s, 30m, 2h, 1d (default 1h)
  --by NAME          who creates it (default argusctl)
  --manager ID       only this manager's alerts (default: every manager)
A maintenance window mutes only during its occurrences:
  --time-zone TZ     an IANA time zone, e.g. Europe/Berlin
  --days D,D         days of the week: sun,mon,...,sat
  --start HH:MM      the local start time of each occurrence
  --cron EXPR        instead of --days and --start: minute hour dom month dow
  --window D         how long each occurrence lasts: 90s, 30m, 2h, 1d
  (a window without --duration recurs forever)
'expire' ends a silence now; it stays listed as expired.
)"},
    {"keys", R"(usage: argusctl keys create --role ROLE [--manager ID ...]
                             [--expires DURATION|TIME]
       argusctl keys list
       argusctl keys revoke ID

API keys for the HTTP API (sent as Authorization: Bearer <key>). Roles:
admin (everything), reader (reads; of the --manager ones only when given),
ingest (sends events for its --manager ones, at least one). 'create' prints
the key once; only its SHA-256 is stored, listings show its prefix.
  --expires D        a duration from now (90s, 30m, 12h, 90d) or an RFC 3339
                     time (default: never)
'revoke' ends a key now; it stays listed as revoked.
)"},
    {"audit", R"(usage: argusctl audit [--limit N] [--since DURATION|TIME]

The audit log, newest first: every change to rules, managers, keys and
silences and every manual alert action, with who made it (a key id,
argusctl, or anonymous when auth is off).
  --limit N          at most N entries (default 100)
  --since D          only entries of the last D (2h, 7d) or since an RFC 3339
                     time
)"},
    {"drain", R"(usage: argusctl drain

Makes the node leave its cluster cleanly: it tells every member it is going
(they take over its groups at once), answers, then shuts down as on SIGTERM,
applying and storing every event it accepted.
)"},
    {"notifications",
     R"(usage: argusctl notifications [--state S] [--receiver NAME] [--limit N]

Stored notifications (parent opened and resolved, child added) with the
state of their delivery to each receiver, newest first.
  --state S          only those with a delivery that is pending, delivered,
                     failed (the dead letter) or suppressed (silenced)
  --receiver NAME    only those with a delivery to this receiver
  --limit N          at most N (1 to 10000, default 100)
)"},
    {"notifications retry",
     R"(usage: argusctl notifications retry ID [--receiver NAME]

Makes the failed deliveries of notification ID pending again, due now, with
a fresh attempt and age budget.
  --receiver NAME    only the delivery to this receiver
)"},
};

/// Reads "--name value" or "--name=value" at args[i]; advances i past the
/// value.
std::string flag_value(const std::vector<std::string>& args, size_t& i,
                       const std::string& name, const std::string& inline_value,
                       bool has_inline, const std::string& topic) {
  if (has_inline)
    return inline_value;
  if (i + 1 >= args.size())
    throw usage_error(topic, "flag --" + name + " needs a value");
  return args[++i];
}

const char* env_or_null(const char* name) {
  auto value = std::getenv(name);
  return value && *value ? value : nullptr;
}

} // namespace

bool parse_address(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  auto h = text.substr(0, colon);
  if (h.front() == '[') {
    if (h.back() != ']' || h.size() < 3)
      return false;
    h = h.substr(1, h.size() - 2);
  } else if (h.find(':') != std::string::npos) {
    return false; // IPv6 needs brackets
  }
  auto p = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, err] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (err != std::errc{} || end != p.data() + p.size() || value == 0 ||
      value > 65535)
    return false;
  host = h;
  port = static_cast<uint16_t>(value);
  return true;
}

std::string usage_of(const std::string& topic) {
  auto word = topic.substr(0, topic.find(' '));
  auto it = command_usage.find(word);
  return it == command_usage.end() ? global_usage : it->second;
}

invocation parse(const std::vector<std::string>& args) {
  invocation inv;
  std::string node;
  if (auto env = env_or_null("ARGUS_NODE"))
    node = env;
  if (auto env = env_or_null("ARGUS_TLS_CERTIFICATE"))
    inv.tls.certificate = env;
  if (auto env = env_or_null("ARGUS_TLS_KEY"))
    inv.tls.key = env;
  if (auto env = env_or_null("ARGUS_TLS_CA"))
    inv.tls.ca = env;
  bool only_positionals = false;
  bool node_from_flag = false;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    if (only_positionals || arg.size() < 2 || arg[0] != '-' ||
        (arg[1] != '-' && arg != "-h")) {
      inv.words.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      inv.help = true;
      continue;
    }
    auto body = arg.substr(2);
    auto eq = body.find('=');
    auto name = body.substr(0, eq);
    auto has_inline = eq != std::string::npos;
    // Name the command if it is known yet: its usage lists its flags.
    auto topic = inv.words.empty() ? std::string{} : inv.words.front();
    auto inline_value = has_inline ? body.substr(eq + 1) : std::string{};
    if (name == "json") {
      if (has_inline)
        throw usage_error(topic, "flag --json takes no value");
      inv.json = true;
    } else if (name == "node") {
      node = flag_value(args, i, name, inline_value, has_inline, topic);
      node_from_flag = true;
    } else if (name == "timeout") {
      auto text = flag_value(args, i, name, inline_value, has_inline, topic);
      double secs = 0;
      auto [end, err] =
          std::from_chars(text.data(), text.data() + text.size(), secs);
      if (err != std::errc{} || end != text.data() + text.size() || secs <= 0 ||
          secs > 3600)
        throw usage_error("", "--timeout must be a number of seconds "
                              "(0 < SECONDS <= 3600)");
      inv.timeout =
          std::chrono::milliseconds{static_cast<int64_t>(secs * 1000 + 0.5)};
      if (inv.timeout.count() == 0)
        inv.timeout = std::chrono::milliseconds{1};
    } else if (name == "tls-certificate") {
      inv.tls.certificate =
          flag_value(args, i, name, inline_value, has_inline, topic);
    } else if (name == "tls-key") {
      inv.tls.key = flag_value(args, i, name, inline_value, has_inline, topic);
    } else if (name == "tls-ca") {
      inv.tls.ca = flag_value(args, i, name, inline_value, has_inline, topic);
    } else if (value_flags.count(name) > 0) {
      inv.flags[name].push_back(
          flag_value(args, i, name, inline_value, has_inline, topic));
    } else {
      throw usage_error(topic, "unknown flag --" + name);
    }
  }
  if (!node.empty() && !parse_address(node, inv.host, inv.port))
    throw usage_error("",
                      std::string{node_from_flag ? "--node" : "ARGUS_NODE"} +
                          " must be HOST:PORT, not '" + node + "'");
  return inv;
}

std::string invocation::topic() const {
  if (words.empty())
    return "";
  if (words.size() == 1 || command_usage.count(words[0]) == 0 ||
      words[0] == "status" || words[0] == "cluster" || words[0] == "drain")
    return words[0];
  if (words[0] == "notifications" && words[1] != "retry")
    return words[0];
  return words[0] + " " + words[1];
}

std::string invocation::address() const {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<std::string> invocation::get(const std::string& name) const {
  auto it = flags.find(name);
  if (it == flags.end())
    return std::nullopt;
  if (it->second.size() > 1)
    throw usage_error(topic(), "flag --" + name + " given more than once");
  return it->second.front();
}

std::string invocation::require(const std::string& name) const {
  auto value = get(name);
  if (!value)
    throw usage_error(topic(), "'" + topic() + "' needs --" + name);
  return *value;
}

std::optional<int64_t> invocation::get_int(const std::string& name, int64_t low,
                                           int64_t high) const {
  auto text = get(name);
  if (!text)
    return std::nullopt;
  int64_t value = 0;
  auto [end, err] =
      std::from_chars(text->data(), text->data() + text->size(), value);
  if (err != std::errc{} || end != text->data() + text->size() || value < low ||
      value > high)
    throw usage_error(topic(), "--" + name + " must be an integer from " +
                                   std::to_string(low) + " to " +
                                   std::to_string(high));
  return value;
}

void invocation::expect_positionals(size_t command_words, size_t n,
                                    const char* names) const {
  auto given = words.size() - std::min(words.size(), command_words);
  if (given < n)
    throw usage_error(topic(), "'" + topic() + "' needs " + names);
  if (given > n)
    throw usage_error(topic(),
                      "unexpected argument '" + words[command_words + n] + "'");
}

void invocation::allow_flags(const std::vector<std::string>& allowed) const {
  for (auto& [name, values] : flags)
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end())
      throw usage_error(topic(), "'" + topic() + "' takes no flag --" + name);
}

} // namespace argus::ctl
