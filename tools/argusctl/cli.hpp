#pragma once

#include "config/settings.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

/// argusctl's command line: global options, the command words and the
/// command's flags, plus the usage texts.
namespace argus::ctl {

/// Exit codes, as documented in `argusctl --help`.
enum exit_code : int {
  exit_ok = 0,
  /// The node answered with an error.
  exit_node_error = 1,
  exit_usage = 2,
  /// The node is unreachable or did not answer in time.
  exit_unreachable = 3,
};

/// A usage error; `topic` is the command whose usage text applies ("" for
/// the global one).
struct usage_error : std::runtime_error {
  usage_error(std::string topic, const std::string& what)
      : std::runtime_error(what), topic(std::move(topic)) {}
  std::string topic;
};

/// A parsed command line.
struct invocation {
  std::string host = "127.0.0.1";
  uint16_t port = 4242;
  bool json = false;
  bool help = false;
  std::chrono::milliseconds timeout{10000};
  config::tls_settings tls;
  /// The command words and positional arguments, in order.
  std::vector<std::string> words;
  /// Command flags by name (without "--"), each with its values in order.
  std::map<std::string, std::vector<std::string>> flags;

  /// "rules", "rules list", ... : the words that name the command.
  std::string topic() const;
  /// "host:port" as the user would write it.
  std::string address() const;

  /// Whether the flag was given.
  bool has(const std::string& name) const { return flags.count(name) > 0; }
  /// The flag's value, if given (once at most).
  std::optional<std::string> get(const std::string& name) const;
  /// The flag's value; a usage error when it is missing.
  std::string require(const std::string& name) const;
  /// The flag's value as an integer within [low, high], if given.
  std::optional<int64_t> get_int(const std::string& name, int64_t low,
                                 int64_t high) const;
  /// Fails unless the command got exactly `n` positional arguments after
  /// its `command_words` words, named `names` in the error.
  void expect_positionals(size_t command_words, size_t n,
                          const char* names) const;
  /// Fails on any flag not in `allowed`.
  void allow_flags(const std::vector<std::string>& allowed) const;
};

/// Parses `args` (argv without the program name) and the environment
/// defaults ($ARGUS_NODE, $ARGUS_TLS_*); throws `usage_error`.
invocation parse(const std::vector<std::string>& args);

/// Parses "HOST:PORT" (IPv6 as "[::1]:4242").
bool parse_address(const std::string& text, std::string& host, uint16_t& port);

/// The usage text of a command word ("" for the global one).
std::string usage_of(const std::string& topic);

} // namespace argus::ctl
