#pragma once

#include "tools/argusctl/cli.hpp"
#include "tools/argusctl/client.hpp"

#include <caf/error.hpp>

#include <functional>
#include <ostream>

/// argusctl's commands. Each one checks its command line first (before any
/// connection, so a usage error never waits for a node) and returns the
/// action that talks to the node.
namespace argus::ctl {

/// What an action works with.
struct session {
  const invocation& inv;
  node_client& node;
  std::ostream& out;
  std::ostream& err;

  /// Prints a failed request's message; returns its exit code.
  int fail(const caf::error& error);
};

using action = std::function<int(session&)>;

/// The action for the command in `inv`; throws `usage_error`.
action prepare(const invocation& inv);

// One prepare function per command word.
action prepare_rules(const invocation& inv);
action prepare_managers(const invocation& inv);
action prepare_alerts(const invocation& inv);
action prepare_events(const invocation& inv);
action prepare_groups(const invocation& inv);
action prepare_notifications(const invocation& inv);
action prepare_status(const invocation& inv);
action prepare_cluster(const invocation& inv);
action prepare_drain(const invocation& inv);
action prepare_silences(const invocation& inv);
action prepare_keys(const invocation& inv);
action prepare_audit(const invocation& inv);

/// A mapping error from http/json.cpp as a usage error of `topic`, naming
/// the flag behind the JSON field it mentions.
[[noreturn]] void throw_input_error(const std::string& topic,
                                    const caf::error& err);

} // namespace argus::ctl
