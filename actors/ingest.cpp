#include "actors/ingest.hpp"

#include <caf/result.hpp>

namespace argus::actors {

ingest_actor::behavior_type ingest(ingest_actor::pointer, ingest_fn fn) {
  return {
      [fn](atom::apply,
           std::vector<domain::event>& events) -> caf::result<atom::ok> {
        if (auto err = fn(std::move(events)))
          return err;
        return atom::ok::value;
      },
  };
}

} // namespace argus::actors
