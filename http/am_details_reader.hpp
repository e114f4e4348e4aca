#pragma once

#include "domain/labels.hpp"

#include <optional>
#include <string>
#include <string_view>

/// Reads what a listing of the Alertmanager API filters on (the `labels`
/// object and the `endsAt` text) out of an alert's stored details, without
/// building a JSON DOM: simdjson's On-Demand API walks the text and skips
/// the rest. A listing filtered to a few alerts of many read every alert's
/// details into a DOM, which was 72% of its CPU.
namespace argus::http {

/// The members of the details a listing filters on.
struct am_filter_fields {
  /// The string members of `labels` (empty when it is missing or not an
  /// object).
  domain::label_set labels;
  /// The `endsAt` text (empty when it is missing or not a string).
  std::string ends_at;
};

/// `details` read as nlohmann-json's DOM would give them: of a member
/// given twice, the last. None when the text is not a JSON object simdjson
/// reads (the DOM path decides). The details are JSON Argus wrote, so
/// the walk does not re-check the grammar of what it skips.
std::optional<am_filter_fields> read_am_filter_fields(std::string_view details);

} // namespace argus::http
