#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace argus::actors {

/// The size of an outbox's last burst, to size the next one: a group's
/// traffic comes in bursts of similar size, and a vector grown from empty
/// moves every element at each doubling. Capped, so that one huge burst
/// does not make every later outbox reserve as much.
class burst_hint {
public:
  static constexpr size_t cap = 1024;

  /// Notes the size of a burst as it leaves.
  void remember(size_t burst) {
    last_ = static_cast<uint32_t>(std::min(burst, cap));
  }

  /// Reserves room in `outbox`, just emptied, for a burst like the last and
  /// for at least `at_least` elements.
  template <class Vector>
  void reserve(Vector& outbox, size_t at_least = 0) const {
    outbox.reserve(std::max<size_t>(at_least, last_));
  }

private:
  uint32_t last_ = 0;
};

} // namespace argus::actors
