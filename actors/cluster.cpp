#include "actors/cluster.hpp"

#include "config/log.hpp"
#include "config/settings.hpp"
#include "domain/cluster.hpp"
#include "domain/error.hpp"
#include "domain/keys.hpp"
#include "domain/ownership.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/typed_response_promise.hpp>

#include <chrono>
#include <set>

namespace argus::actors {

namespace {

using self_ptr = cluster_actor::stateful_pointer<cluster_state>;

/// How long one connection attempt or membership request may take.
constexpr auto connect_timeout = std::chrono::seconds{3};

/// The pause before reconnecting. The first one matters: CAF's middleman
/// keeps a dead peer's proxy cached until it handled the peer's down
/// message, and an immediate reconnect can get that dead proxy back.
std::chrono::milliseconds retry_delay(uint32_t attempt) {
  return attempt == 0 ? std::chrono::milliseconds{300}
                      : std::chrono::milliseconds{std::min(
                            2000u, 300u + 300u * std::min(attempt, 6u))};
}

/// Most active parents counted for `argusctl cluster`.
constexpr int64_t max_group_rows = 100000;

member_info info_of(const std::string& id, const cluster_state::member& m) {
  return {id, m.address, m.state, false, 0, m.incarnation};
}

member_info self_info(self_ptr self, const cluster_env& env) {
  return {env.node_id, env.address, self->state.leaving ? "leaving" : "up",
          true,        0,           env.incarnation};
}

/// Tells the node the membership changed (once the first round is done).
void publish_view(self_ptr self, const cluster_env& env) {
  auto& st = self->state;
  if (!st.first_round_done || !env.on_view)
    return;
  cluster_view view;
  view.live = st.live(env.node_id);
  view.incarnations[env.node_id] = env.incarnation;
  for (auto& [id, m] : st.peers) {
    if (!m.incarnation.empty())
      view.incarnations[id] = m.incarnation;
    if (m.state == "up" && m.handle)
      view.peers[id] = m.handle;
  }
  env.on_view(std::move(view));
}

/// A seed of the first round answered or failed.
void seed_tried(self_ptr self, const cluster_env& env,
                const std::string& address) {
  auto& st = self->state;
  if (st.first_round_done || st.first_round.erase(address) == 0 ||
      !st.first_round.empty())
    return;
  st.first_round_done = true;
  publish_view(self, env);
}

void connect(self_ptr self, const cluster_env& env, const std::string& address,
             uint32_t attempt);

/// Records the peer `id` as up, reached (and monitored) through `handle`.
void mark_up(self_ptr self, const cluster_env& env, const std::string& id,
             const std::string& address, const std::string& incarnation,
             caf::actor handle) {
  auto& m = self->state.peers[id];
  m.incarnation = incarnation;
  if (m.handle && m.handle != handle)
    self->demonitor(m.handle.address());
  if (m.handle != handle) {
    m.handle = handle;
    self->monitor(handle);
  }
  if (m.state != "up")
    LOG_INFO("cluster: member " << id << " at " << address << " is up");
  m.address = address;
  m.state = "up";
  publish_view(self, env);
}

/// Asks the peer whose admin actor is `peer` to take us in, and learns the
/// members it knows.
void introduce(self_ptr self, const cluster_env& env,
               const std::string& address, admin_actor peer) {
  auto me = self_info(self, env);
  self->request(peer, connect_timeout, atom::join::value, me)
      .then(
          [=](std::vector<member_info>& known) {
            self->state.connecting.erase(address);
            if (known.empty()) {
              seed_tried(self, env, address);
              return;
            }
            auto& head = known.front();
            if (head.node_id == env.node_id) {
              LOG_ERROR("cluster: the node at "
                        << address << " has this node's id '" << env.node_id
                        << "'");
              seed_tried(self, env, address);
              return;
            }
            mark_up(self, env, head.node_id, address, head.incarnation,
                    caf::actor_cast<caf::actor>(peer));
            // Members the peer knows about that we do not reach yet.
            for (size_t i = 1; i < known.size(); ++i) {
              auto& other = known[i];
              if (other.node_id == env.node_id || other.state != "up")
                continue;
              auto it = self->state.peers.find(other.node_id);
              if (it == self->state.peers.end() || it->second.state != "up")
                connect(self, env, other.address, 0);
            }
            seed_tried(self, env, address);
          },
          [=](caf::error& err) {
            self->state.connecting.erase(address);
            seed_tried(self, env, address);
            if (err.category() == caf::atom("argus") &&
                code_of(err) == ec::conflict) {
              // Our own address under another name, or a duplicate id.
              LOG_WARNING("cluster: not joining via " << address << ": "
                                                      << message_of(err));
              return;
            }
            LOG_DEBUG("cluster: join via "
                      << address << " failed: " << self->system().render(err));
            self->delayed_send(self, retry_delay(1), atom::reconnect::value,
                               address, uint32_t{1});
          });
}

void connect(self_ptr self, const cluster_env& env, const std::string& address,
             uint32_t attempt) {
  if (self->state.leaving || address == env.address ||
      self->state.connecting.count(address) > 0)
    return;
  std::string host;
  uint16_t port = 0;
  if (!config::parse_host_port(address, host, port))
    return;
  self->state.connecting[address] = true;
  auto& sys = self->system();
  auto mm = env.tls ? sys.openssl_manager().actor_handle()
                    : sys.middleman().actor_handle();
  self->request(mm, connect_timeout, caf::connect_atom::value, host, port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
              const std::set<std::string>& ifs) {
            auto& sys = self->system();
            if (!ptr ||
                !sys.assignable(ifs, sys.message_types<admin_actor>())) {
              self->state.connecting.erase(address);
              seed_tried(self, env, address);
              LOG_WARNING("cluster: " << address
                                      << " is not an Argus node of this "
                                         "version");
              return;
            }
            introduce(self, env, address,
                      caf::actor_cast<admin_actor>(std::move(ptr)));
          },
          [=](caf::error&) {
            self->state.connecting.erase(address);
            seed_tried(self, env, address);
            // Seeds and members that went down are retried until they are
            // back; a node that left cleanly rejoins through its own seeds.
            self->delayed_send(self, retry_delay(attempt + 1),
                               atom::reconnect::value, address, attempt + 1);
          });
}

/// Whether `address` still needs a connection: a seed or a down member that
/// is not up under any id.
bool wanted(self_ptr self, const cluster_env& env, const std::string& address) {
  bool known_down = false;
  for (auto& [id, m] : self->state.peers)
    if (m.address == address) {
      if (m.state == "up" || m.state == "left")
        return false;
      known_down = true;
    }
  if (known_down)
    return true;
  for (auto& s : env.seeds)
    if (s == address)
      return true;
  return false;
}

/// Counts the open groups each live member owns.
caf::typed_response_promise<std::vector<member_info>>
members(self_ptr self, const cluster_env& env) {
  auto rp = self->make_response_promise<std::vector<member_info>>();
  domain::alert_filter parents{"", "active", "parent", max_group_rows, 0};
  // Without flushing first: a node far behind on its store still answers.
  self->request(env.repository, connect_timeout, atom::peek::value, parents)
      .then(
          [=](std::vector<domain::alert>& ps) mutable {
            auto live = self->state.live(env.node_id);
            std::map<std::string, uint64_t> owned;
            for (auto& p : ps)
              ++owned[domain::group_owner(live, p.event_manager_id,
                                          p.has_grouping_value,
                                          p.grouping_value)];
            std::vector<member_info> out;
            auto me = self_info(self, env);
            me.groups = owned[env.node_id];
            out.push_back(std::move(me));
            for (auto& [id, m] : self->state.peers) {
              auto info = info_of(id, m);
              info.groups = m.state == "up" ? owned[id] : 0;
              out.push_back(std::move(info));
            }
            rp.deliver(std::move(out));
          },
          [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

/// Asks every router where each alert key is active and merges the
/// answers (a router knows only its own managers).
caf::typed_response_promise<std::vector<domain::alert_location>>
locate(self_ptr self, const cluster_env& env,
       const std::vector<domain::alert_key>& keys) {
  auto rp = self->make_response_promise<std::vector<domain::alert_location>>();
  auto merged =
      std::make_shared<std::vector<domain::alert_location>>(keys.size());
  auto pending = std::make_shared<size_t>(env.routers.size());
  if (*pending == 0) {
    rp.deliver(*merged);
    return rp;
  }
  for (auto& r : env.routers)
    self->request(r, connect_timeout, atom::get::value, keys)
        .then(
            [=](const std::vector<domain::alert_location>& found) mutable {
              domain::merge_locations(*merged, found);
              if (--*pending == 0)
                rp.deliver(std::move(*merged));
            },
            [=](caf::error&) mutable {
              if (--*pending == 0)
                rp.deliver(std::move(*merged));
            });
  return rp;
}

} // namespace

std::vector<std::string> cluster_state::live(const std::string& self_id) const {
  std::vector<std::string> out;
  if (!leaving)
    out.push_back(self_id);
  for (auto& [id, m] : peers)
    if (m.state == "up")
      out.push_back(id);
  return out;
}

cluster_actor::behavior_type
cluster(cluster_actor::stateful_pointer<cluster_state> self, cluster_env env) {
  self->set_down_handler([=](caf::down_msg& dm) {
    for (auto& [id, m] : self->state.peers) {
      if (!m.handle || m.handle.address() != dm.source)
        continue;
      m.handle = nullptr;
      if (m.state == "up") {
        m.state = "down";
        LOG_WARNING("cluster: member "
                    << id << " at " << m.address << " is down ("
                    << self->system().render(dm.reason) << ")");
        // Both sides may try to reconnect, and two new connections at once
        // would displace each other: the larger id tries soon, the smaller
        // one only if the peer has not come back to it by then.
        auto delay = env.node_id > id ? std::chrono::milliseconds{300}
                                      : std::chrono::milliseconds{3000};
        self->delayed_send(self, delay, atom::reconnect::value, m.address,
                           uint32_t{0});
      }
    }
    publish_view(self, env);
  });
  self->state.first_round.insert(env.seeds.begin(), env.seeds.end());
  if (self->state.first_round.empty()) {
    self->state.first_round_done = true;
    publish_view(self, env);
  }
  return {
      [=](atom::reconnect, const std::string& address, uint32_t attempt) {
        if (wanted(self, env, address))
          connect(self, env, address, attempt);
      },
      [=](atom::members) { return members(self, env); },
      [=](atom::join,
          member_info& peer) -> caf::result<std::vector<member_info>> {
        if (peer.node_id == env.node_id)
          return make_error(ec::conflict, "cluster.node_id '" + env.node_id +
                                              "' is taken by the node at " +
                                              env.address);
        std::vector<member_info> out;
        out.push_back(self_info(self, env));
        for (auto& [id, m] : self->state.peers)
          if (id != peer.node_id)
            out.push_back(info_of(id, m));
        // The joiner's cluster actor asked (through our admin actor), over
        // the connection it opened: we monitor it and never connect back.
        // CAF 0.17 keeps one connection per pair of nodes, and a second one
        // makes the proxies of the first go down.
        mark_up(self, env, peer.node_id, peer.address, peer.incarnation,
                caf::actor_cast<caf::actor>(self->current_sender()));
        return out;
      },
      [=](atom::leave, const std::string& id) {
        auto it = self->state.peers.find(id);
        if (it == self->state.peers.end())
          return;
        LOG_INFO("cluster: member " << id << " left");
        it->second.state = "left";
        if (it->second.handle)
          self->demonitor(it->second.handle.address());
        it->second.handle = nullptr;
        publish_view(self, env);
      },
      [=](atom::publish, const catalog_change& change) {
        for (auto& [id, m] : self->state.peers)
          if (m.state == "up" && m.handle)
            caf::anon_send(m.handle, atom::sync::value, change);
      },
      [=](atom::sync, catalog_change& change) {
        self->send(env.catalog, atom::sync::value, std::move(change));
      },
      [=](atom::leave) -> atom::ok {
        if (!self->state.leaving) {
          self->state.leaving = true;
          LOG_INFO("cluster: leaving");
          for (auto& [id, m] : self->state.peers)
            if (m.state == "up" && m.handle)
              caf::anon_send(m.handle, atom::leave::value, env.node_id);
          publish_view(self, env);
        }
        return atom::ok::value;
      },
      [=](atom::forward,
          std::vector<domain::event>& events) -> caf::delegated<atom::ok> {
        auto& st = self->state;
        auto& to = env.receivers[st.next_receiver++ % env.receivers.size()];
        return self->delegate(to, atom::apply::value, std::move(events));
      },
      [=](atom::get, const std::vector<domain::alert_key>& keys) {
        return locate(self, env, keys);
      },
      [=](atom::handover, std::string& from, std::vector<std::string>& live) {
        if (env.on_handover)
          env.on_handover(from, std::move(live));
      },
      [=](atom::handover, const std::vector<std::string>& live) {
        for (auto& [id, m] : self->state.peers)
          if (m.state == "up" && m.handle)
            caf::anon_send(m.handle, atom::handover::value, env.node_id, live);
      },
  };
}

} // namespace argus::actors
