#pragma once

// Clusters of real Argus nodes on 127.0.0.1 sharing one PostgreSQL schema,
// for the cluster integration tests.

#include "integration/harness.hpp"
#include "support/postgres.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace argus::test {

inline std::string address_of(uint16_t node_port) {
  return "127.0.0.1:" + std::to_string(node_port);
}

/// A cluster of `n` nodes sharing `schema`, each seeded with every node's
/// address (its own is skipped).
struct cluster {
  pg_schema schema;
  std::vector<uint16_t> node_ports;
  std::vector<std::unique_ptr<server>> nodes;
  std::string node_yaml;
  /// Top-level YAML sections every node's config gets.
  std::string extra_yaml;

  explicit cluster(size_t n, std::string tls_yaml = "", std::string extra = "")
      : node_yaml(std::move(tls_yaml)), extra_yaml(std::move(extra)) {
    for (size_t i = 0; i < n; ++i)
      node_ports.push_back(free_port());
    for (size_t i = 0; i < n; ++i)
      nodes.push_back(std::make_unique<server>(options(i)));
  }

  server_options options(size_t i) const {
    server_options opts;
    opts.backend = "postgres";
    opts.dsn = schema.dsn();
    opts.log_level = "info";
    opts.node_yaml = node_yaml;
    opts.extra_yaml = extra_yaml;
    std::string seeds;
    for (auto p : node_ports)
      seeds += (seeds.empty() ? "'" : ", '") + address_of(p) + "'";
    auto node_port = node_ports[i];
    auto id = "n" + std::to_string(i + 1);
    opts.config = [opts, node_port, id, seeds](const fs::path& dir,
                                               uint16_t port) {
      return config_yaml(dir, port, opts, node_port) + "cluster:\n" +
             "  node_id: " + id + "\n  seeds: [" + seeds + "]\n" +
             "  heartbeat_interval_ms: 200\n  failure_timeout_ms: 1500\n";
    };
    return opts;
  }

  server& operator[](size_t i) { return *nodes[i]; }

  /// `argusctl cluster --json` of node i, by node id (empty on failure).
  std::map<std::string, json>
  members(size_t i, const std::vector<std::string>& tls = {}) {
    std::vector<std::string> args{"--node", address_of(node_ports[i])};
    args.insert(args.end(), tls.begin(), tls.end());
    args.push_back("cluster");
    args.push_back("--json");
    auto r = run_argusctl(args);
    std::map<std::string, json> out;
    if (r.exit_code != 0)
      return out;
    for (auto& m : r.json_out())
      out[m["node_id"].get<std::string>()] = m;
    return out;
  }

  /// Whether node i sees exactly these states (by node id).
  bool sees(size_t i, const std::map<std::string, std::string>& states,
            const std::vector<std::string>& tls = {}) {
    auto ms = members(i, tls);
    if (ms.size() != states.size())
      return false;
    for (auto& [id, state] : states)
      if (ms.count(id) == 0 || ms[id]["state"] != state)
        return false;
    return true;
  }

  /// Groups owned per node id, as node i counts them.
  std::map<std::string, uint64_t> owned(size_t i) {
    std::map<std::string, uint64_t> out;
    for (auto& [id, m] : members(i))
      out[id] = m["groups"].get<uint64_t>();
    return out;
  }
};

inline uint64_t total(const std::map<std::string, uint64_t>& owned) {
  uint64_t sum = 0;
  for (auto& [id, n] : owned)
    sum += n;
  return sum;
}

constexpr auto membership_deadline = std::chrono::milliseconds{15000};

} // namespace argus::test
