#pragma once

#include <caf/error.hpp>
#include <caf/scoped_actor.hpp>

#include <iterator>
#include <vector>

namespace argus::actors {

/// Sends one request per item (`send(self, item)` returns its response
/// handle), all at once, then takes the answers in item order: `take(i,
/// answer)` for a reply of type `T` to item `i`, which may return an error.
/// Returns one error per item (none: success). Blocks: never from an actor.
template <class T, class Items, class Send, class Take>
std::vector<caf::error> ask_all(caf::scoped_actor& self, const Items& items,
                                Send send, Take take) {
  using handle = decltype(send(self, *std::begin(items)));
  std::vector<handle> pending;
  pending.reserve(items.size());
  for (auto& item : items)
    pending.push_back(send(self, item));
  std::vector<caf::error> errors(pending.size());
  for (size_t i = 0; i < pending.size(); ++i)
    pending[i].receive([&](T& answer) { errors[i] = take(i, answer); },
                       [&](caf::error& err) { errors[i] = std::move(err); });
  return errors;
}

/// The first of `errors` that is set, or none.
inline caf::error first_error(std::vector<caf::error> errors) {
  for (auto& err : errors)
    if (err)
      return std::move(err);
  return {};
}

} // namespace argus::actors
