#pragma once

#include "actors/actors.hpp"
#include "tools/argusctl/cli.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>

#include <memory>
#include <optional>
#include <string>

/// The connection from argusctl to a node's admin actor.
namespace argus::ctl {

/// A failure with the exit code it maps to and the line to print.
struct failure {
  exit_code code = exit_node_error;
  std::string message;
};

/// Owns a small actor system with remoting, connects to the node's admin
/// actor and sends it requests, each with the invocation's timeout. Blocking
/// is fine here: this is the CLI's main thread, not an actor.
class node_client {
public:
  /// Builds the actor system; TLS files are checked first, because CAF
  /// would abort the process on a bad one at the first connection.
  static caf::expected<std::unique_ptr<node_client>>
  make(const invocation& inv);

  ~node_client();

  /// Connects within the timeout, and checks that the peer speaks the admin
  /// interface of this build.
  std::optional<failure> connect();

  /// Sends `xs...` to the admin actor and waits for its single-value reply.
  template <class T, class... Ts>
  caf::expected<T> ask(Ts&&... xs) {
    caf::expected<T> result = caf::sec::request_timeout;
    (*self_)
        ->request(admin_, inv_.timeout, std::forward<Ts>(xs)...)
        .receive([&](T& value) { result = std::move(value); },
                 [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// The exit code and message for a failed request.
  failure classify(const caf::error& err) const;

private:
  explicit node_client(const invocation& inv) : inv_(inv) {}

  const invocation& inv_;
  std::unique_ptr<caf::actor_system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::unique_ptr<caf::scoped_actor> self_;
  actors::admin_actor admin_;
};

} // namespace argus::ctl
