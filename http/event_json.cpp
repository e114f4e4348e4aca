#include "http/event_json.hpp"

#include "domain/error.hpp"
#include "http/json.hpp"
#include "http/json_scan.hpp"
#include "http/simdjson_body.hpp"
#include "http/strict_json.hpp"

#include <simdjson.h>

#include <mutex>

namespace argus::http {

namespace od = simdjson::ondemand;
using nlohmann::json;

/// Kept from one body to the next, so a body costs no allocation once the
/// buffers have grown to its size.
struct event_reader::buffers {
  od::parser parser;
  std::string padded; ///< the body and simdjson's padding
  std::vector<field_view> fields;
  std::vector<element> elements;
};

namespace {

using buffers = event_reader::buffers;

/// The buffers of a body up to 32 KiB: the calling thread's.
buffers& thread_buffers() {
  static thread_local buffers s;
  return s;
}

/// Larger bodies' buffers, handed from one large body to the next on any
/// thread. Each of 64 workers keeping a large body's worth (several times
/// the body) would hold tens of MiB, and freeing them after every body
/// made each batch of 1,000 events regrow its field list by doubling
/// (copying it each time) and fault every page of it in afresh. A few
/// sets, for bodies up to 1 MiB, are kept instead.
class spare_buffers {
public:
  static constexpr size_t max_sets = 4;
  static constexpr size_t max_body = size_t{1} << 20;

  std::unique_ptr<buffers> take() {
    {
      std::lock_guard<std::mutex> guard{mx_};
      if (!sets_.empty()) {
        auto set = std::move(sets_.back());
        sets_.pop_back();
        return set;
      }
    }
    return std::make_unique<buffers>();
  }

  /// Keeps `set` unless enough are kept or it grew past `max_body`; else
  /// frees it (after the lock is let go).
  void give(std::unique_ptr<buffers> set) {
    if (set->padded.capacity() > max_body + simdjson::SIMDJSON_PADDING)
      return;
    std::lock_guard<std::mutex> guard{mx_};
    if (sets_.size() < max_sets)
      sets_.push_back(std::move(set));
  }

  size_t size() {
    std::lock_guard<std::mutex> guard{mx_};
    return sets_.size();
  }

private:
  std::mutex mx_;
  std::vector<std::unique_ptr<buffers>> sets_;
};

/// Never destroyed: a worker may finish a body while the process exits.
spare_buffers& spares() {
  static auto* pool = new spare_buffers;
  return *pool;
}

/// Why the fast path stopped: the DOM path decides, or the body is refused.
enum class outcome { ok, use_dom, too_deep };

outcome of(json_verdict v) {
  switch (v) {
  case json_verdict::ok:
    return outcome::ok;
  case json_verdict::too_deep:
    return outcome::too_deep;
  default:
    return outcome::use_dom;
  }
}

/// Reads one event object into `fields` (depth: the object's own level,
/// the body's root being level 1).
outcome read_object(od::object obj, size_t depth, buffers& s) {
  auto first = s.fields.size();
  uint32_t standard_seen = 0;
  for (auto member : obj) {
    od::field f;
    if (std::move(member).get(f))
      return outcome::use_dom;
    event_reader::field_view v;
    od::value& value = f.value();
    od::json_type type;
    if (!read_strict_key(f, value.raw_json_token().data(), v.key) ||
        value.type().get(type))
      return outcome::use_dom;
    if (type == od::json_type::string)
      v.kind = event_reader::field_view::string;
    else if (type == od::json_type::null)
      v.kind = event_reader::field_view::null;
    if (auto o = of(read_strict_value(value, type, depth, v.raw, v.text));
        o != outcome::ok)
      return o;
    // Duplicate keys: the DOM path keeps the last value of each; rare
    // enough to leave to it.
    // By index: an event_fields to probe, built per field, was 3% of the
    // batch path.
    if (auto index = event_fields::index_of(v.key); index >= 0) {
      auto bit = 1u << index;
      if (standard_seen & bit)
        return outcome::use_dom;
      standard_seen |= bit;
    } else {
      for (auto i = first; i < s.fields.size(); ++i)
        if (s.fields[i].key == v.key)
          return outcome::use_dom;
    }
    s.fields.push_back(v);
  }
  s.elements.push_back({static_cast<uint32_t>(first),
                        static_cast<uint32_t>(s.fields.size() - first)});
  return outcome::ok;
}

/// Reads the whole body into `s.fields` and `s.elements`.
outcome read_fast(std::string_view body, events_body shape, buffers& s) {
  s.fields.clear();
  s.elements.clear();
  od::document doc;
  if (!iterate_padded(s.parser, s.padded, body, doc))
    return outcome::use_dom;
  od::json_type type;
  if (doc.type().get(type))
    return outcome::use_dom;
  if (shape == events_body::one) {
    od::object obj;
    if (type != od::json_type::object || doc.get_object().get(obj))
      return outcome::use_dom;
    if (auto o = read_object(obj, 1, s); o != outcome::ok)
      return o;
  } else {
    od::array arr;
    if (type != od::json_type::array || doc.get_array().get(arr))
      return outcome::use_dom;
    for (auto item : arr) {
      od::value v;
      od::object obj;
      // simdjson's documented idiom: its result's get() consumes it.
      // NOLINTNEXTLINE(performance-move-const-arg)
      if (std::move(item).get(v) || v.type().get(type) ||
          type != od::json_type::object || v.get_object().get(obj))
        return outcome::use_dom;
      if (auto o = read_object(obj, 2, s); o != outcome::ok)
        return o;
    }
  }
  return nothing_after_root(doc) ? outcome::ok : outcome::use_dom;
}

caf::error too_deep() {
  return make_error(ec::bad_request, "request body is nested deeper than " +
                                         std::to_string(max_event_depth) +
                                         " levels");
}

/// The deepest nesting in `j` is more than `limit` levels (iteratively,
/// so a deep body cannot overflow the stack here).
bool deeper_than(const json& j, size_t limit) {
  std::vector<std::pair<const json*, size_t>> todo{{&j, 1}};
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (!node->is_structured())
      continue;
    if (depth > limit)
      return true;
    for (auto& child : *node)
      todo.emplace_back(&child, depth + 1);
  }
  return false;
}

void append_escaped(std::string& out, unsigned char c) {
  static constexpr char hex[] = "0123456789abcdef";
  switch (c) {
  case '"':
    out += "\\\"";
    break;
  case '\\':
    out += "\\\\";
    break;
  case '\b':
    out += "\\b";
    break;
  case '\f':
    out += "\\f";
    break;
  case '\n':
    out += "\\n";
    break;
  case '\r':
    out += "\\r";
    break;
  case '\t':
    out += "\\t";
    break;
  default:
    out += "\\u00";
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 0xF]);
  }
}

} // namespace

void append_json_string(std::string& out, std::string_view s) {
  // The text between escapes goes in as one append: a push_back per byte
  // was most of writing an Alertmanager alert's details.
  out.push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  while (true) {
    const char* special = find_json_special(p, end);
    out.append(p, static_cast<size_t>(special - p));
    if (special == end)
      break;
    append_escaped(out, static_cast<unsigned char>(*special));
    p = special + 1;
  }
  out.push_back('"');
}

event_reader::event_reader() = default;

event_reader::~event_reader() {
  if (large_)
    spares().give(std::move(large_));
}

size_t event_reader::spare_buffer_sets() {
  return spares().size();
}

caf::error event_reader::parse(std::string_view body, events_body shape,
                               size_t max_events) {
  if (body.size() > small_body && !large_)
    large_ = spares().take();
  auto& s = large_ ? *large_ : thread_buffers();
  shape_ = shape;
  fields_ = &s.fields;
  elements_ = &s.elements;
  dom_.reset();
  used_dom_ = false;
  switch (read_fast(body, shape, s)) {
  case outcome::ok:
    if (shape == events_body::batch && s.elements.size() > max_events)
      return make_error(ec::payload_too_large,
                        "batch has " + std::to_string(s.elements.size()) +
                            " events; the limit is " +
                            std::to_string(max_events));
    return {};
  case outcome::too_deep:
    return too_deep();
  case outcome::use_dom:
    break;
  }
  // The DOM path: the same checks in the same order as before the fast
  // path existed.
  used_dom_ = true;
  auto parsed = parse_body(std::string{body});
  if (!parsed)
    return std::move(parsed.error());
  if (deeper_than(*parsed, max_event_depth))
    return too_deep();
  if (shape == events_body::one) {
    if (!parsed->is_object())
      return make_error(ec::bad_request, "request body must be a JSON object");
  } else {
    if (!parsed->is_array())
      return make_error(ec::bad_request,
                        "request body must be a JSON array of events");
    if (parsed->size() > max_events)
      return make_error(ec::payload_too_large,
                        "batch has " + std::to_string(parsed->size()) +
                            " events; the limit is " +
                            std::to_string(max_events));
  }
  dom_ = std::make_shared<json>(std::move(*parsed));
  return {};
}

size_t event_reader::size() const {
  if (dom_)
    return shape_ == events_body::one ? 1 : dom_->size();
  return elements_ ? elements_->size() : 0;
}

caf::error event_reader::read_event(size_t i, domain::event& out) const {
  if (dom_) {
    auto e = parse_event(shape_ == events_body::one ? *dom_ : (*dom_)[i]);
    if (!e)
      return std::move(e.error());
    out = std::move(*e);
    return {};
  }
  auto [first, count] = (*elements_)[i];
  auto* begin = fields_->data() + first;
  auto* end = begin + count;
  event_fields f;
  size_t extra_bytes = 2;
  for (auto* v = begin; v != end; ++v) {
    auto* slot = f.slot(v->key);
    if (slot == nullptr) {
      extra_bytes += v->key.size() + v->raw.size() + 4;
      continue;
    }
    if (v->kind == field_view::null)
      continue;
    slot->kind = v->kind == field_view::string ? event_field::string
                                               : event_field::other;
    slot->text = v->text;
  }
  if (auto err = fill_event(f, out))
    return err;
  if (extra_bytes == 2)
    return {};
  // The other fields as one JSON object, each value's text as the sender
  // wrote it (in the order sent): nothing is parsed into a DOM and dumped.
  auto& d = out.details;
  d.clear();
  d.reserve(extra_bytes);
  d.push_back('{');
  for (auto* v = begin; v != end; ++v) {
    if (f.slot(v->key) != nullptr)
      continue;
    if (d.size() > 1)
      d.push_back(',');
    append_json_string(d, v->key);
    d.push_back(':');
    d.append(v->raw);
  }
  d.push_back('}');
  return {};
}

std::optional<std::string> event_reader::field(size_t i,
                                               const std::string& key) const {
  if (dom_)
    return grouping_text(shape_ == events_body::one ? *dom_ : (*dom_)[i], key);
  auto [first, count] = (*elements_)[i];
  auto* begin = fields_->data() + first;
  auto* end = begin + count;
  auto find = [&](std::string_view name) -> const field_view* {
    for (auto* v = begin; v != end; ++v)
      if (v->key == name)
        return v;
    return nullptr;
  };
  // The whole key as a top-level name first (as grouping_text does).
  if (auto* v = find(key)) {
    switch (v->kind) {
    case field_view::null:
      return std::nullopt;
    case field_view::string:
      return std::string{v->text};
    default:
      // Numbers, objects and arrays group by their compact JSON, as the
      // DOM path dumps it.
      return json::parse(v->raw).dump();
    }
  }
  auto dot = key.find('.');
  if (dot == std::string::npos)
    return std::nullopt;
  // A dotted path: only the first step's value is parsed.
  auto* v = find(std::string_view{key}.substr(0, dot));
  if (v == nullptr || v->kind != field_view::other)
    return std::nullopt;
  json wrapper = json::object();
  wrapper[key.substr(0, dot)] = json::parse(v->raw);
  return grouping_text(wrapper, key);
}

domain::field_lookup event_reader::lookup(size_t i) const {
  return [this, i](const std::string& key) { return field(i, key); };
}

} // namespace argus::http
