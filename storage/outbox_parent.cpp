#include "storage/outbox_parent.hpp"

#include "config/log.hpp"
#include "delivery/outbox.hpp"
#include "domain/error.hpp"

namespace argus::storage {

std::optional<named_parent> parent_named_in(const std::string& body,
                                            uint64_t seq) {
  auto env = delivery::envelope_from_stored(body);
  if (!env) {
    LOG_WARNING("retention keeps notification "
                << seq << ": its body does not read ("
                << message_of(env.error()) << ")");
    return std::nullopt;
  }
  return named_parent{env->parent->dedup_key.str(), env->parent->id.str()};
}

} // namespace argus::storage
