#pragma once

#include "domain/labels.hpp"

#include <optional>
#include <string>
#include <string_view>

/// Reads what a listing of the Alertmanager API filters on (the `labels`
/// object and the `endsAt` text), and what it writes of the alerts it
/// lists, out of an alert's stored details without building a JSON DOM:
/// simdjson's On-Demand API walks the text and skips the rest. A listing
/// filtered to a few alerts of many read every alert's details into a DOM,
/// which was 72% of its CPU.
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

/// The members of the details a listing writes, besides the labels.
struct am_listing_fields {
  /// The members of `annotations` (empty when it is missing or not an
  /// object).
  domain::label_set annotations;
  /// `startsAt`, `endsAt` and `generatorURL` (each empty when missing or
  /// not a string).
  std::string starts_at;
  std::string ends_at;
  std::string generator_url;
};

/// `details` read as the DOM would give them, like `read_am_filter_fields`.
/// None also when a value in `annotations` is not a string: the DOM keeps
/// any JSON there, so the caller writes such an alert from the DOM.
std::optional<am_listing_fields>
read_am_listing_fields(std::string_view details);

} // namespace argus::http
