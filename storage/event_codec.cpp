#include "storage/event_codec.hpp"

#include <cstring>

namespace argus::storage {

namespace {

/// 2 appended `expires_at`, 3 the actor and ack timeout of (un)acknowledge
/// events, 4 `auto_resolve_after`; records of older versions (journals
/// written before) still decode, without them.
constexpr uint8_t format_version = 4;

template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T)); // host order: journals stay local
  out.append(bytes, sizeof(T));
}

void put_text(std::string& out, const std::string& text) {
  put(out, static_cast<uint32_t>(text.size()));
  out.append(text);
}

/// Reads fields front to back; any read past the end poisons the reader.
struct reader {
  std::string_view rest;
  bool ok = true;

  template <class T>
  T get() {
    T value{};
    if (rest.size() < sizeof(T)) {
      ok = false;
      return value;
    }
    std::memcpy(&value, rest.data(), sizeof(T));
    rest.remove_prefix(sizeof(T));
    return value;
  }

  std::string text() {
    auto n = get<uint32_t>();
    if (!ok || rest.size() < n) {
      ok = false;
      return {};
    }
    std::string result{rest.substr(0, n)};
    rest.remove_prefix(n);
    return result;
  }
};

} // namespace

void encode(const domain::event& e, std::string& out) {
  put(out, format_version);
  put(out, e.seq);
  put(out, e.received_at.time_since_epoch().count());
  put(out, e.window.count());
  put(out, static_cast<uint8_t>(e.act));
  put(out, static_cast<uint8_t>(e.sev));
  put(out, static_cast<uint8_t>(e.has_grouping_value ? 1 : 0));
  put_text(out, e.event_manager_id);
  put_text(out, e.dedup_key);
  put_text(out, e.summary);
  put_text(out, e.class_name);
  put_text(out, e.details);
  put_text(out, e.grouping_value);
  put(out, e.expires_at.time_since_epoch().count());
  put_text(out, e.actor);
  put(out, e.ack_timeout.count());
  put(out, e.auto_resolve_after.count());
}

bool decode(std::string_view bytes, domain::event& e) {
  reader r{bytes};
  auto version = r.get<uint8_t>();
  if (version < 1 || version > format_version)
    return false;
  e.seq = r.get<uint64_t>();
  e.received_at = domain::time_point{domain::duration{r.get<int64_t>()}};
  e.window = domain::duration{r.get<int64_t>()};
  auto act = r.get<uint8_t>();
  auto sev = r.get<uint8_t>();
  auto has_value = r.get<uint8_t>();
  if (act > static_cast<uint8_t>(domain::action::unacknowledge) || sev > 2 ||
      has_value > 1)
    return false;
  e.act = static_cast<domain::action>(act);
  e.sev = static_cast<domain::severity>(sev);
  e.has_grouping_value = has_value == 1;
  e.event_manager_id = r.text();
  e.dedup_key = r.text();
  e.summary = r.text();
  e.class_name = r.text();
  e.details = r.text();
  e.grouping_value = r.text();
  e.expires_at = version >= 2
                     ? domain::time_point{domain::duration{r.get<int64_t>()}}
                     : domain::no_time;
  if (version >= 3) {
    e.actor = r.text();
    e.ack_timeout = domain::duration{r.get<int64_t>()};
  }
  if (version >= 4)
    e.auto_resolve_after = domain::duration{r.get<int64_t>()};
  return r.ok && r.rest.empty();
}

} // namespace argus::storage
