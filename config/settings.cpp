#include "config/settings.hpp"

#include "domain/error.hpp"
#include "domain/rate_limit.hpp"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>
#include <thread>

namespace argus::config {

size_t default_malloc_arenas() {
  return size_t{2} * std::max(1u, std::thread::hardware_concurrency());
}

namespace {

caf::error bad(const std::string& key, const std::string& what) {
  return make_error(ec::validation_failed, key + ": " + what);
}

/// Reads one scalar of type T from `node` into `out`, naming `key` on error.
template <class T>
caf::error read(const YAML::Node& node, const std::string& key, T& out) {
  if (!node.IsScalar())
    return bad(key, "expected a single value");
  try {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      auto value = node.as<long long>();
      if (value < 0 ||
          static_cast<unsigned long long>(value) >
              static_cast<unsigned long long>(std::numeric_limits<T>::max()))
        return bad(key, "out of range: " + node.Scalar());
      out = static_cast<T>(value);
    } else {
      out = node.as<T>();
    }
  } catch (const YAML::Exception&) {
    return bad(key, "not a valid value: " + node.Scalar());
  }
  return {};
}

using reader = std::function<caf::error(const YAML::Node&, const std::string&)>;

template <class T>
reader field(T& out) {
  return [&out](const YAML::Node& node, const std::string& key) {
    return read(node, key, out);
  };
}

/// A setting whose absence means "the default for the context".
template <class T>
reader field(std::optional<T>& out) {
  return [&out](const YAML::Node& node, const std::string& key) -> caf::error {
    T value{};
    if (auto err = read(node, key, value))
      return err;
    out = value;
    return {};
  };
}

/// A list of strings (or one string).
reader strings(std::vector<std::string>& out) {
  return [&out](const YAML::Node& node, const std::string& key) -> caf::error {
    out.clear();
    if (node.IsNull())
      return {};
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return {};
    }
    if (!node.IsSequence())
      return bad(key, "expected a list of host:port");
    for (auto item : node) {
      if (!item.IsScalar())
        return bad(key, "expected a list of host:port");
      out.push_back(item.Scalar());
    }
    return {};
  };
}

caf::error read_section(const YAML::Node& node, const std::string& name,
                        const std::map<std::string, reader>& fields) {
  if (!node || node.IsNull())
    return {};
  if (!node.IsMap())
    return bad(name, "expected a mapping");
  for (auto kv : node) {
    auto key = kv.first.as<std::string>();
    auto full = name + "." + key;
    auto it = fields.find(key);
    if (it == fields.end())
      return bad(full, "unknown key");
    if (auto err = it->second(kv.second, full))
      return err;
  }
  return {};
}

/// The node's default rate limit: 0 or a rate the domain accepts, and a
/// burst of 0 (derived) or at least 1.
caf::error check_rate_limit(const rate_limit_settings& r) {
  auto rate = r.events_per_second;
  if (!std::isfinite(rate) || rate < 0 ||
      (rate > 0 && rate < domain::min_events_per_second) ||
      rate > domain::max_events_per_second)
    return bad("rate_limit.events_per_second",
               "must be 0 (unlimited) or from " +
                   domain::format_rate(domain::min_events_per_second) + " to " +
                   domain::format_rate(domain::max_events_per_second));
  if (r.burst < 0 || r.burst > domain::max_burst)
    return bad("rate_limit.burst",
               "must be 0 (the rate rounded up) or from 1 to " +
                   std::to_string(domain::max_burst));
  return {};
}

caf::expected<settings> from_yaml(const YAML::Node& root) {
  settings s;
  if (root && !root.IsNull() && !root.IsMap())
    return bad("config", "the top level must be a mapping");
  auto& sv = s.server;
  auto& st = s.storage;
  const std::map<std::string, std::map<std::string, reader>> sections = {
      {"server",
       {{"host", field(sv.host)},
        {"port", field(sv.port)},
        {"read_timeout", field(sv.read_timeout_seconds)},
        {"write_timeout", field(sv.write_timeout_seconds)},
        {"idle_timeout", field(sv.idle_timeout_seconds)},
        {"max_body_bytes", field(sv.max_body_bytes)},
        {"threads", field(sv.threads)},
        {"keep_alive_max_requests", field(sv.keep_alive_max_requests)},
        {"max_batch_events", field(sv.max_batch_events)},
        {"reserved_threads", field(sv.reserved_threads)},
        {"max_connections", field(sv.max_connections)},
        {"max_connections_per_address", field(sv.max_connections_per_address)},
        {"header_timeout", field(sv.header_timeout_seconds)},
        {"request_timeout", field(sv.request_timeout_seconds)},
        {"max_header_bytes", field(sv.max_header_bytes)},
        {"allow_plaintext", field(sv.allow_plaintext)},
        {"tls",
         [&tls = sv.tls](const YAML::Node& node, const std::string& key) {
           return read_section(node, key,
                               {{"certificate", field(tls.certificate)},
                                {"key", field(tls.key)},
                                {"client_ca", field(tls.client_ca)}});
         }}}},
      {"ingest",
       {{"max_pending_events", field(s.ingest.max_pending_events)},
        {"durability", field(s.ingest.durability)},
        {"journal_path", field(s.ingest.journal_path)}}},
      {"storage",
       {{"backend", field(st.backend)},
        {"path", field(st.path)},
        {"dsn", field(st.dsn)},
        {"batch_size", field(st.batch_size)},
        {"flush_interval_ms", field(st.flush_interval_ms)},
        {"sqlite_cache_mb", field(st.sqlite_cache_mb)},
        {"retention", field(st.retention)}}},
      {"node",
       {{"host", field(s.node.host)},
        {"port", field(s.node.port)},
        {"tls",
         [&tls = s.node.tls](const YAML::Node& node, const std::string& key) {
           return read_section(node, key,
                               {{"certificate", field(tls.certificate)},
                                {"key", field(tls.key)},
                                {"ca", field(tls.ca)}});
         }}}},
      {"log", {{"level", field(s.log.level)}}},
      {"rate_limit",
       {{"events_per_second", field(s.rate_limit.events_per_second)},
        {"burst", field(s.rate_limit.burst)}}},
      {"actors",
       {{"threads", field(s.actors.threads)},
        {"policy", field(s.actors.policy)},
        {"routers", field(s.actors.routers)},
        {"malloc_arenas", field(s.actors.malloc_arenas)}}},
      {"notifications",
       {{"keep", field(s.notifications.keep)},
        {"retry",
         [&n = s.notifications](const YAML::Node& node,
                                const std::string& key) {
           return read_section(node, key,
                               {{"initial_ms", field(n.retry_initial_ms)},
                                {"max_ms", field(n.retry_max_ms)},
                                {"max_attempts", field(n.retry_max_attempts)},
                                {"max_age", field(n.retry_max_age)}});
         }},
        {"max_in_flight", field(s.notifications.max_in_flight)},
        {"max_in_flight_per_receiver",
         field(s.notifications.max_in_flight_per_receiver)},
        {"external_url", field(s.notifications.external_url)},
        {"inhibition_check_wait",
         field(s.notifications.inhibition_check_wait)}}},
      {"cluster",
       {{"node_id", field(s.cluster.node_id)},
        {"seeds", strings(s.cluster.seeds)},
        {"heartbeat_interval_ms", field(s.cluster.heartbeat_interval_ms)},
        {"failure_timeout_ms", field(s.cluster.failure_timeout_ms)}}},
      {"auth",
       {{"mode", field(s.auth.mode)},
        {"metrics", field(s.auth.metrics)},
        {"bootstrap_key_file", field(s.auth.bootstrap_key_file)}}},
  };
  if (root && root.IsMap())
    for (auto kv : root) {
      auto name = kv.first.as<std::string>();
      auto it = sections.find(name);
      if (it == sections.end())
        return bad(name, "unknown section");
      if (auto err = read_section(kv.second, name, it->second))
        return err;
    }
  if (auto err = validate(s))
    return err;
  return s;
}

caf::error validate_notifications(const notifier_settings& n) {
  // Bounds keep the nanosecond arithmetic of the policy far from overflow.
  if (n.retry_initial_ms <= 0 || n.retry_initial_ms > 86400000)
    return bad("notifications.retry.initial_ms",
               "must be between 1 and 86400000");
  if (n.retry_max_ms < n.retry_initial_ms || n.retry_max_ms > 86400000)
    return bad("notifications.retry.max_ms",
               "must be between initial_ms and 86400000");
  if (n.retry_max_attempts <= 0 || n.retry_max_attempts > 1000)
    return bad("notifications.retry.max_attempts",
               "must be between 1 and 1000");
  if (n.retry_max_age <= 0 || n.retry_max_age > int64_t{366} * 86400)
    return bad("notifications.retry.max_age",
               "must be between 1 and 31622400 seconds");
  if (n.max_in_flight == 0 || n.max_in_flight > 4096)
    return bad("notifications.max_in_flight", "must be between 1 and 4096");
  if (n.max_in_flight_per_receiver == 0 ||
      n.max_in_flight_per_receiver > n.max_in_flight)
    return bad("notifications.max_in_flight_per_receiver",
               "must be between 1 and max_in_flight");
  if (!n.external_url.empty() && n.external_url.rfind("http://", 0) != 0 &&
      n.external_url.rfind("https://", 0) != 0)
    return bad("notifications.external_url",
               "must start with http:// or https://");
  if (n.inhibition_check_wait < 0 || n.inhibition_check_wait > 86400)
    return bad("notifications.inhibition_check_wait",
               "must be between 0 and 86400 seconds");
  return {};
}

/// A TLS file must be readable now: CAF would only notice at the first
/// connection, and then abort the process.
caf::error check_readable(const std::string& key, const std::string& path) {
  if (path.empty())
    return bad(key, "must be set (node.tls needs certificate, key and ca)");
  std::ifstream in{path};
  if (!in)
    return bad(key, "cannot read " + path);
  return {};
}

caf::error validate_node(const node_settings& n) {
  if (n.host.empty())
    return bad("node.host", "must not be empty");
  if (n.tls.enabled()) {
    if (auto err = check_readable("node.tls.certificate", n.tls.certificate))
      return err;
    if (auto err = check_readable("node.tls.key", n.tls.key))
      return err;
    if (auto err = check_readable("node.tls.ca", n.tls.ca))
      return err;
  } else if (n.port != 0 && !is_loopback(n.host)) {
    // Remoting has no authentication of its own: anyone who reaches the
    // port may administer the node.
    return bad("node.host", "'" + n.host +
                                "' is not a loopback address; binding to it "
                                "requires node.tls (certificate, key, ca)");
  }
  return {};
}

} // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1")
    return true;
  in_addr addr{};
  return ::inet_pton(AF_INET, host.c_str(), &addr) == 1 &&
         (ntohl(addr.s_addr) >> 24) == 127;
}

bool parse_host_port(const std::string& text, std::string& host,
                     uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']')
      return false;
    host = host.substr(1, host.size() - 2);
  }
  unsigned long value = 0;
  for (auto c : text.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535)
      return false;
  }
  if (value == 0)
    return false;
  port = static_cast<uint16_t>(value);
  return true;
}

namespace {

caf::error validate_cluster(const settings& s) {
  auto& c = s.cluster;
  if (c.heartbeat_interval_ms <= 0)
    return bad("cluster.heartbeat_interval_ms", "must be at least 1");
  if (c.failure_timeout_ms <= c.heartbeat_interval_ms)
    return bad("cluster.failure_timeout_ms",
               "must be longer than cluster.heartbeat_interval_ms");
  if (!c.enabled())
    return {};
  if (c.node_id.empty())
    return bad("cluster.node_id", "must be set when cluster.seeds is");
  if (c.node_id.size() > 255)
    return bad("cluster.node_id", "must be at most 255 bytes");
  for (auto& seed : c.seeds) {
    std::string host;
    uint16_t port = 0;
    if (!parse_host_port(seed, host, port))
      return bad("cluster.seeds",
                 "'" + seed +
                     "' is not host:port (a node's node.host:node.port)");
  }
  // Failover rebuilds a dead node's groups from the store the nodes share.
  if (s.storage.backend != "postgres")
    return bad("storage.backend", "a cluster needs the postgres backend (the "
                                  "nodes share its store), not '" +
                                      s.storage.backend + "'");
  if (s.node.port == 0)
    return bad("node.port", "must not be 0 in a cluster (nodes talk over it)");
  return {};
}

caf::error validate_server(const settings& s) {
  auto& sv = s.server;
  if (sv.reserved_threads > 256)
    return bad("server.reserved_threads", "must be between 0 and 256");
  if (sv.max_connections == 0)
    return bad("server.max_connections", "must be at least 1");
  if (sv.max_connections_per_address == 0)
    return bad("server.max_connections_per_address", "must be at least 1");
  if (sv.header_timeout_seconds <= 0)
    return bad("server.header_timeout", "must be a positive number of seconds");
  if (sv.request_timeout_seconds < sv.header_timeout_seconds)
    return bad("server.request_timeout",
               "must be at least server.header_timeout");
  if (sv.max_header_bytes < 1024 || sv.max_header_bytes > size_t{1024} * 1024)
    return bad("server.max_header_bytes", "must be between 1024 and 1048576");
  auto& tls = sv.tls;
  if (tls.enabled()) {
    if (tls.certificate.empty())
      return bad("server.tls.certificate", "must be set with server.tls.key");
    if (tls.key.empty())
      return bad("server.tls.key", "must be set with server.tls.certificate");
    for (auto [key, path] :
         {std::pair{"server.tls.certificate", &tls.certificate},
          std::pair{"server.tls.key", &tls.key}})
      if (!std::ifstream{*path})
        return bad(key, "cannot read " + *path);
  }
  if (!tls.client_ca.empty()) {
    if (!tls.enabled())
      return bad("server.tls.client_ca",
                 "needs server.tls.certificate and server.tls.key");
    if (!std::ifstream{tls.client_ca})
      return bad("server.tls.client_ca", "cannot read " + tls.client_ca);
  }
  // Keys sent in the clear can be sniffed by anyone on the path.
  if (auth_required(s) && !tls.enabled() && !sv.allow_plaintext &&
      !is_loopback(sv.host))
    return bad("server.tls",
               "'" + sv.host +
                   "' is not a loopback address and API keys are required: "
                   "set server.tls.certificate and server.tls.key (HTTPS), "
                   "or server.allow_plaintext: true behind a TLS proxy");
  return {};
}

caf::error validate_auth(const settings& s) {
  auto& a = s.auth;
  if (!a.mode.empty() && a.mode != "required" && a.mode != "off")
    return bad("auth.mode",
               "unknown mode '" + a.mode + "' (expected required or off)");
  if (a.mode == "off" && !is_loopback(s.server.host))
    return bad("auth.mode", "off is only allowed when server.host is a "
                            "loopback address, not '" +
                                s.server.host +
                                "'; anyone reaching the port could read and "
                                "change everything");
  if (a.metrics != "open" && a.metrics != "required")
    return bad("auth.metrics",
               "unknown mode '" + a.metrics + "' (expected open or required)");
  return {};
}

} // namespace

bool auth_required(const settings& s) {
  if (s.auth.mode.empty())
    return !is_loopback(s.server.host);
  return s.auth.mode == "required";
}

caf::error read_bootstrap_key(settings& s, const char* env_value) {
  std::string text;
  if (env_value != nullptr && *env_value != '\0') {
    text = env_value;
  } else if (!s.auth.bootstrap_key_file.empty()) {
    std::ifstream in{s.auth.bootstrap_key_file};
    if (!in)
      return bad("auth.bootstrap_key_file",
                 "cannot read " + s.auth.bootstrap_key_file);
    std::stringstream content;
    content << in.rdbuf();
    text = content.str();
  }
  auto first = text.find_first_not_of(" \t\r\n");
  auto last = text.find_last_not_of(" \t\r\n");
  s.auth.bootstrap_key =
      first == std::string::npos ? "" : text.substr(first, last - first + 1);
  return {};
}

caf::error validate(const settings& s) {
  if (s.server.host.empty())
    return bad("server.host", "must not be empty");
  if (s.server.port == 0)
    return bad("server.port", "must be between 1 and 65535");
  if (s.server.read_timeout_seconds <= 0)
    return bad("server.read_timeout", "must be a positive number of seconds");
  if (s.server.write_timeout_seconds <= 0)
    return bad("server.write_timeout", "must be a positive number of seconds");
  if (s.server.idle_timeout_seconds <= 0)
    return bad("server.idle_timeout", "must be a positive number of seconds");
  if (s.server.max_body_bytes < 1024)
    return bad("server.max_body_bytes", "must be at least 1024");
  if (s.server.threads < 2 || s.server.threads > 4096)
    return bad("server.threads", "must be between 2 and 4096");
  if (s.server.keep_alive_max_requests == 0)
    return bad("server.keep_alive_max_requests", "must be at least 1");
  if (s.server.max_batch_events == 0)
    return bad("server.max_batch_events", "must be at least 1");
  if (s.ingest.max_pending_events == 0)
    return bad("ingest.max_pending_events", "must be at least 1");
  if (auto err = check_rate_limit(s.rate_limit))
    return err;
  if (!s.ingest.durability.empty() && s.ingest.durability != "journal" &&
      s.ingest.durability != "none")
    return bad("ingest.durability", "unknown mode '" + s.ingest.durability +
                                        "' (expected journal or none)");
  if (s.ingest.durability == "journal" && s.storage.backend == "memory")
    return bad("ingest.durability",
               "journal needs a persistent storage.backend (sqlite or "
               "postgres), not memory");
  if (s.storage.backend != "sqlite" && s.storage.backend != "postgres" &&
      s.storage.backend != "memory")
    return bad("storage.backend",
               "unknown backend '" + s.storage.backend +
                   "' (expected sqlite, postgres or memory)");
  if (s.storage.backend == "sqlite" && s.storage.path.empty())
    return bad("storage.path", "must not be empty");
  if (s.storage.backend == "postgres" && s.storage.dsn.empty())
    return bad("storage.dsn", "must be set for the postgres backend (a libpq "
                              "connection string, e.g. 'host=db "
                              "dbname=argus user=argus')");
  if (s.storage.batch_size == 0)
    return bad("storage.batch_size", "must be at least 1");
  if (s.storage.sqlite_cache_mb == 0 || s.storage.sqlite_cache_mb > 65536)
    return bad("storage.sqlite_cache_mb", "must be between 1 and 65536");
  if (s.storage.retention < 0 || s.storage.retention > 100LL * 366 * 86400)
    return bad("storage.retention",
               "must be 0 (keep every resolved alert) or a number of seconds "
               "up to 100 years");
  if (s.storage.flush_interval_ms && *s.storage.flush_interval_ms < 0)
    return bad("storage.flush_interval_ms",
               "must be 0 (write as soon as the queued changes are in) or "
               "more");
  if (auto err = validate_node(s.node))
    return err;
  if (s.log.level != "debug" && s.log.level != "info" &&
      s.log.level != "warning" && s.log.level != "error")
    return bad("log.level", "unknown level '" + s.log.level +
                                "' (expected debug, info, warning or error)");
  if (s.actors.threads == 0 || s.actors.threads > 256)
    return bad("actors.threads", "must be between 1 and 256");
  if (s.actors.policy != "sharing" && s.actors.policy != "stealing" &&
      s.actors.policy != "lazy-sharing")
    return bad("actors.policy",
               "unknown policy '" + s.actors.policy +
                   "' (expected lazy-sharing, sharing or stealing)");
  if (s.actors.routers == 0 || s.actors.routers > 256)
    return bad("actors.routers", "must be between 1 and 256");
  if (s.actors.malloc_arenas > 1024)
    return bad("actors.malloc_arenas", "must be between 0 and 1024");
  if (s.notifications.keep == 0)
    return bad("notifications.keep", "must be at least 1");
  if (auto err = validate_notifications(s.notifications))
    return err;
  if (auto err = validate_cluster(s))
    return err;
  if (auto err = validate_auth(s))
    return err;
  return validate_server(s);
}

domain::retry_policy notifier_settings::retry_policy() const {
  domain::retry_policy p;
  p.initial = std::chrono::milliseconds{retry_initial_ms};
  p.max = std::chrono::milliseconds{retry_max_ms};
  p.max_attempts = static_cast<int32_t>(retry_max_attempts);
  p.max_age = std::chrono::seconds{retry_max_age};
  return p;
}

caf::expected<settings> load_text(const std::string& yaml) {
  try {
    return from_yaml(YAML::Load(yaml));
  } catch (const YAML::Exception& e) {
    return make_error(ec::bad_request,
                      std::string{"invalid YAML: "} + e.what());
  }
}

caf::expected<settings> load_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_error(ec::not_found, "cannot read config file " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto result = load_text(text.str());
  if (!result)
    return make_error(code_of(result.error()),
                      path + ": " + message_of(result.error()));
  return result;
}

int flush_interval_ms_of(const storage_settings& s) {
  return s.flush_interval_ms.value_or(s.backend == "memory" ? 0 : 5);
}

bool journaled(const settings& s) {
  if (!s.ingest.durability.empty())
    return s.ingest.durability == "journal";
  return s.storage.backend != "memory";
}

} // namespace argus::config
