#include "tools/argusctl/client.hpp"

#include "actors/admin.hpp"
#include "actors/type_ids.hpp"
#include "domain/error.hpp"

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/node_id.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/sec.hpp>

#include <algorithm>
#include <set>

namespace argus::ctl {

namespace {

/// CAF's renderings may span lines; the CLI promises one.
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

/// Why a connection failed, in words for an operator.
std::string reason_of(caf::actor_system& sys, const caf::error& err) {
  if (err == caf::sec::cannot_connect_to_node)
    return "connection failed (is a node listening there?)";
  if (err == caf::sec::disconnect_during_handshake)
    return "the connection closed during the handshake (do the TLS settings "
           "and certificates match the node's?)";
  return one_line(sys.render(err));
}

} // namespace

caf::expected<std::unique_ptr<node_client>>
node_client::make(const invocation& inv) {
  if (auto err = actors::check_tls(inv.tls, "--tls-"))
    return err;
  std::unique_ptr<node_client> c{new node_client(inv)};
  c->cfg_ = std::make_unique<caf::actor_system_config>();
  auto& cfg = *c->cfg_;
  actors::register_types(cfg);
  actors::enable_remoting(cfg, inv.tls);
  cfg.set("scheduler.max-threads", 2);
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  c->sys_ = std::make_unique<caf::actor_system>(cfg);
  c->self_ = std::make_unique<caf::scoped_actor>(*c->sys_, true);
  return c;
}

node_client::~node_client() {
  // The order CAF needs: handles and the scoped actor before the system.
  admin_ = nullptr;
  self_.reset();
  sys_.reset();
}

std::optional<failure> node_client::connect() {
  auto& sys = *sys_;
  // The blocking remote_actor() waits forever on a peer that accepts but
  // never answers; a request to the middleman actor has a timeout.
  auto mm = inv_.tls.enabled() ? sys.openssl_manager().actor_handle()
                               : sys.middleman().actor_handle();
  std::optional<failure> result;
  auto unreachable = [&](const std::string& why) {
    return failure{exit_unreachable, "cannot reach node at " + inv_.address() +
                                         ": " + one_line(why)};
  };
  (*self_)
      ->request(mm, inv_.timeout, caf::connect_atom::value, inv_.host,
                inv_.port)
      .receive(
          [&](const caf::node_id&, caf::strong_actor_ptr& ptr,
              const std::set<std::string>& ifs) {
            if (!ptr)
              result = unreachable("no admin actor is published there");
            else if (!sys.assignable(ifs,
                                     sys.message_types<actors::admin_actor>()))
              result = unreachable("the peer is not an Argus admin endpoint of "
                                   "this version");
            else
              admin_ = caf::actor_cast<actors::admin_actor>(std::move(ptr));
          },
          [&](caf::error& err) {
            if (err == caf::sec::request_timeout)
              result =
                  unreachable("no answer within " +
                              std::to_string(inv_.timeout.count()) + " ms");
            else
              result = unreachable(reason_of(sys, err));
          });
  return result;
}

failure node_client::classify(const caf::error& err) const {
  if (err.category() == caf::atom("argus"))
    return {exit_node_error, message_of(err)};
  if (err == caf::sec::request_timeout)
    return {exit_unreachable, "node at " + inv_.address() +
                                  " did not answer within " +
                                  std::to_string(inv_.timeout.count()) + " ms"};
  return {exit_unreachable, "lost node at " + inv_.address() + ": " +
                                one_line(sys_->render(err))};
}

} // namespace argus::ctl
