#pragma once

#include "actors/ask_all.hpp"
#include "actors/node.hpp"
#include "actors/thread_self.hpp"

#include <caf/scoped_actor.hpp>

/// The node's blocking fan-out requests, shared by its translation units
/// (never included outside `node*.cpp`).
namespace argus::actors {

template <class Send>
caf::error node::ask_routers(Send send) {
  caf::scoped_actor self{*system_};
  return first_error(ask_all<atom::ok>(
      self, routers_, send, [](size_t, atom::ok) { return caf::error{}; }));
}

template <class T, class Items, class Send, class Take>
std::vector<caf::error> node::ask_all_from_thread(const Items& items, Send send,
                                                  Take take) {
  auto errors = ask_all<T>(thread_self(*system_, false), items, send, take);
  // A late reply to a timed-out request must not be taken for the answer
  // to a later one.
  for (auto& err : errors)
    if (err && err.category() != caf::atom("argus")) {
      thread_self(*system_, true);
      break;
    }
  return errors;
}

} // namespace argus::actors
