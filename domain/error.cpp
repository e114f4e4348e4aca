#include "domain/error.hpp"

#include <caf/atom.hpp>

namespace argus {

caf::error make_error(ec code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("argus"),
                    caf::make_message(std::move(message))};
}

std::string message_of(const caf::error& err) {
  const auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  if (err.category() != caf::atom("argus"))
    return "internal error (" + caf::to_string(err.category()) + " code " +
           std::to_string(err.code()) + ")";
  return "error";
}

ec code_of(const caf::error& err) {
  if (!err)
    return ec::none;
  if (err.category() != caf::atom("argus"))
    return ec::internal;
  return static_cast<ec>(err.code());
}

} // namespace argus
