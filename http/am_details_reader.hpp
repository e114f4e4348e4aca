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

/// The parts of an alert's details a listing reads.
enum class am_parts {
  /// What it filters on: `labels` and `endsAt`.
  filter = 1,
  /// What it writes of an alert besides the labels: `annotations`,
  /// `startsAt`, `endsAt` and `generatorURL`.
  listing = 2,
  /// Both, in one walk: for a listing that lists most alerts it reads.
  both = 3,
};

/// The members of an alert's details a listing reads, each empty when it
/// is missing, of another type, or not in the parts read.
struct am_fields {
  /// The string members of `labels`.
  domain::label_set labels;
  /// The members of `annotations`; see `annotations_are_strings`.
  domain::label_set annotations;
  std::string starts_at;
  std::string ends_at;
  std::string generator_url;
  /// False when a value in `annotations` is not a string: the DOM keeps
  /// any JSON there, so the caller writes such an alert from the DOM.
  bool annotations_are_strings = true;
  /// With the filter part, what a lookup of a field by name can take from
  /// `labels` instead of walking the details again: whether `labels` holds
  /// every `labels.<name>` there is (the last `labels` member is an
  /// object of strings only, or there is none), and whether the details
  /// have root members other than the five above.
  bool labels_exact = true;
  bool other_members = false;
};

/// Reads the `parts` of `details` into `out` (as it is default-made) as
/// nlohmann-json's DOM would give them: of a member given twice, the last.
/// False when the text is not a JSON object simdjson reads (the DOM path
/// decides). The details are JSON Argus wrote, so the walk does not
/// re-check the grammar of what it skips. Filled in place: a listing reads
/// every alert of its manager, and moving the fields out of an optional
/// cost a filtered one about 3% of its instructions.
bool read_am_fields(std::string_view details, am_parts parts, am_fields& out);

} // namespace argus::http
