#pragma once

#include <optional>
#include <string>
#include <string_view>

/// One field of an alert's stored details, as silences and inhibit rules
/// read it (`grouping_text` on the details' DOM), without building the DOM
/// when the value is a string or missing: matchers on labels and `equal`
/// fields read one or two fields of every alert they look at, and a DOM
/// per alert was most of a check.
namespace argus::http {

/// What the walk found.
struct details_field {
  enum kind_t {
    text,    ///< a string: `value`
    none,    ///< missing or null: `grouping_text` gives nothing
    unknown, ///< a number, object or array (grouped by its DOM's compact
             ///< dump), or a text simdjson does not read: ask the DOM
  } kind = unknown;
  std::string value;
};

/// Field `key` of the JSON object `details` as `grouping_text` finds it:
/// the top-level member named `key` if there is one, else `key`'s dotted
/// path; of a member given twice, the last. `details` must be JSON Argus
/// wrote: the walk does not re-check the grammar of what it skips.
details_field find_details_field(std::string_view details,
                                 std::string_view key);

} // namespace argus::http
