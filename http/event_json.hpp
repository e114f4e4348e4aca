#pragma once

#include "domain/admission.hpp"
#include "domain/event.hpp"

#include <caf/error.hpp>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Reads the bodies of `POST /v1/events` and `POST /v1/events/batch`
/// straight into domain events, without building a JSON DOM: simdjson's
/// On-Demand API walks the body, the standard fields are copied out as
/// text and the other fields (`details`) are kept as slices of the body.
/// What it accepts and how it words every error is exactly what the DOM
/// path (`parse_body`, `parse_event`, `fields_of`) does: a body the fast
/// path is not sure about (invalid JSON, duplicate keys, a root or batch
/// element that is not an object) is handed to the DOM path as a whole.
namespace argus::http {

/// What a body must hold: one event object, or an array of them.
enum class events_body { one, batch };

/// One parsed events body. Use one reader per request on one thread: for a
/// body up to 32 KiB the reader borrows the calling thread's parser and
/// buffers, so the events stay readable until the thread parses its next
/// body; a larger body is read into a set of buffers of the reader's own,
/// taken from the spare sets of earlier large bodies.
class event_reader {
public:
  event_reader();
  event_reader(const event_reader&) = delete;
  event_reader& operator=(const event_reader&) = delete;
  /// Gives a large body's buffers to the spare sets (or frees them).
  ~event_reader();

  /// Validates all of `body` as `shape` (one object, or an array of at
  /// most `max_events` elements) and reads its events. On an error of the
  /// body as a whole (not JSON, not UTF-8, the wrong shape, too many
  /// events, nested too deep) nothing can be visited.
  caf::error parse(std::string_view body, events_body shape, size_t max_events);

  /// Events in the body (the elements of a batch, 1 for one event).
  size_t size() const;

  /// Whether the body went to the DOM path (tests and profiles).
  bool used_dom() const { return used_dom_; }

  /// Reads element `i` into `out`, a default-constructed event (a batch's
  /// events are read where they stay): the event as `parse_event` makes it
  /// (grouping value and window unset), or its error, after which `out`
  /// must be dropped.
  caf::error read_event(size_t i, domain::event& out) const;

  /// Admission's view of element `i`'s fields (see `grouping_text`); valid
  /// as long as the reader.
  domain::field_lookup lookup(size_t i) const;

  /// The grouping text of field `key` of element `i` (see `grouping_text`).
  std::optional<std::string> field(size_t i, const std::string& key) const;

  /// One field of an event object as the fast path read it.
  struct field_view {
    std::string_view key;  ///< unescaped
    std::string_view raw;  ///< the value's JSON text
    std::string_view text; ///< a string value, unescaped
    enum kind_t : uint8_t { string, null, other } kind = other;
  };

  /// Where an element's fields are in `fields_`.
  struct element {
    uint32_t first = 0;
    uint32_t count = 0;
  };

  /// The parser and lists a body is read into.
  struct buffers;

  /// How many spare sets of buffers large bodies left (tests).
  static size_t spare_buffer_sets();

private:
  /// A large body's buffers; null while reading into the thread's own.
  std::unique_ptr<buffers> large_;
  std::vector<field_view>* fields_ = nullptr;
  std::vector<element>* elements_ = nullptr;
  std::shared_ptr<nlohmann::json> dom_;
  events_body shape_ = events_body::one;
  bool used_dom_ = false;
};

/// JSON text of `s` as a string literal (quotes included) written to `out`,
/// escaped as nlohmann-json escapes it.
void append_json_string(std::string& out, std::string_view s);

} // namespace argus::http
