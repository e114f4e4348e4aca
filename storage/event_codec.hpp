#pragma once

#include "domain/event.hpp"

#include <string>
#include <string_view>

/// A compact, explicit binary form of an event for the ingest journal. The
/// layout is versioned by its first byte so old journals stay readable.
namespace argus::storage {

/// Appends the encoded event to `out`.
void encode(const domain::event& e, std::string& out);

/// Decodes one event; false if the bytes are not a complete event.
bool decode(std::string_view bytes, domain::event& e);

} // namespace argus::storage
