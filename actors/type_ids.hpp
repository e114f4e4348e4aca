#pragma once

#include "domain/alert.hpp"
#include "domain/catalog.hpp"
#include "domain/event.hpp"
#include "domain/notification.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>

/// Atoms and message types of Argus. Atom texts are at most 10 characters
/// (CAF 0.17); message type names must be the same on every node.
namespace argus::atom {

using apply = caf::atom_constant<caf::atom("apply")>;
using expire = caf::atom_constant<caf::atom("expire")>;
using stop = caf::atom_constant<caf::atom("stop")>;
using idle = caf::atom_constant<caf::atom("idle")>;
using deactivate = caf::atom_constant<caf::atom("deactivate")>;
using reactivate = caf::atom_constant<caf::atom("reactivate")>;
using reroute = caf::atom_constant<caf::atom("reroute")>;
using restore = caf::atom_constant<caf::atom("restore")>;
using drain = caf::atom_constant<caf::atom("drain")>;
using write = caf::atom_constant<caf::atom("write")>;
using flush = caf::atom_constant<caf::atom("flush")>;
using tick = caf::atom_constant<caf::atom("tick")>;
using list = caf::atom_constant<caf::atom("list")>;
using get = caf::atom_constant<caf::atom("get")>;
using children = caf::atom_constant<caf::atom("children")>;
using count = caf::atom_constant<caf::atom("count")>;
using put = caf::atom_constant<caf::atom("put")>;
using create = caf::atom_constant<caf::atom("create")>;
using update = caf::atom_constant<caf::atom("update")>;
using erase = caf::atom_constant<caf::atom("erase")>;
using rule = caf::atom_constant<caf::atom("rule")>;
using manager = caf::atom_constant<caf::atom("manager")>;
using notify = caf::atom_constant<caf::atom("notify")>;
using ok = caf::atom_constant<caf::atom("ok")>;

} // namespace argus::atom

namespace argus::actors {

/// Registers every Argus message type; call on every node before the actor
/// system is built.
void register_types(caf::actor_system_config& cfg);

} // namespace argus::actors
