#pragma once

// An alert's id. Nearly every one is a UUID (`alert_id_for`), and as a
// std::string each alert held its 36 characters in a heap block of their
// own (48 bytes with tcmalloc's size classes) behind a 32-byte string, and
// every copy of an alert (copy-on-write in its group) allocated again. An
// alert_id keeps such a UUID as its 16 bytes and writes the text only when
// it is read out (JSON, SQL, a notification). Any other text (an id a store
// holds from elsewhere, upper-case hex, a test's "a1") is kept as it is, in
// a shared_text, so an id always reads back as exactly the text it was
// given.

#include "domain/shared_text.hpp"

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>

namespace argus::domain {

/// The length of a UUID's text: 32 hex digits and four dashes.
inline constexpr size_t uuid_text_length = 36;

/// Writes the canonical lowercase text of the UUID whose bits are `hi`
/// then `lo` (most significant first) into `out`, exactly
/// `uuid_text_length` characters (no terminator).
void write_uuid(char* out, uint64_t hi, uint64_t lo);

class alert_id;

/// Whether `Text` is a text other than alert_id: what alert_id compares
/// with.
template <class Text>
constexpr bool is_text_not_id =
    std::is_convertible_v<const Text&, std::string_view> &&
    !std::is_same_v<Text, alert_id>;

class alert_id {
public:
  alert_id() noexcept { new (&text_) shared_text{}; }
  /// Keeps a canonical lowercase RFC 4122 UUID as its bits, anything else
  /// as text.
  alert_id(std::string_view text);
  alert_id(const char* text) : alert_id(std::string_view{text}) {}
  alert_id(const std::string& text) : alert_id(std::string_view{text}) {}
  alert_id(const alert_id& other) noexcept;
  alert_id(alert_id&& other) noexcept { take(std::move(other)); }
  alert_id& operator=(alert_id other) noexcept {
    swap(other);
    return *this;
  }
  ~alert_id() { destroy(); }

  /// The UUID with these bits, with RFC 4122's variant (the two top bits
  /// of `lo` 10) set, as every UUID `format_uuid` makes has it.
  static alert_id from_uuid(uint64_t hi, uint64_t lo) noexcept;

  /// Whether it holds a UUID's bits rather than a text.
  bool holds_uuid() const noexcept { return is_uuid(); }
  bool empty() const noexcept { return !is_uuid() && text_.empty(); }
  /// The length of its text.
  size_t size() const noexcept {
    return is_uuid() ? uuid_text_length : text_.size();
  }
  /// Writes its text into `out`, `size()` characters; returns their end.
  char* write(char* out) const noexcept;
  /// Its text.
  std::string str() const;
  void append_to(std::string& out) const;
  /// Calls `f` with its text as a std::string_view that lives only for the
  /// call: a UUID's text is written on the stack, not the heap.
  template <class F>
  decltype(auto) with_text(F&& f) const {
    if (!is_uuid())
      return f(text_.view());
    char text[uuid_text_length];
    write_uuid(text, hi_, lo_);
    return f(std::string_view{text, sizeof text});
  }

  void swap(alert_id& other) noexcept;

  friend bool operator==(const alert_id& x, const alert_id& y) noexcept;
  friend bool operator!=(const alert_id& x, const alert_id& y) noexcept {
    return !(x == y);
  }
  /// The order of their texts.
  friend bool operator<(const alert_id& x, const alert_id& y);

  // Comparisons with any other text (std::string, string_view, literals).
  template <class Text, class = std::enable_if_t<is_text_not_id<Text>>>
  friend bool operator==(const alert_id& x, const Text& y) {
    return x.equals(std::string_view{y});
  }
  template <class Text, class = std::enable_if_t<is_text_not_id<Text>>>
  friend bool operator==(const Text& x, const alert_id& y) {
    return y.equals(std::string_view{x});
  }
  template <class Text, class = std::enable_if_t<is_text_not_id<Text>>>
  friend bool operator!=(const alert_id& x, const Text& y) {
    return !x.equals(std::string_view{y});
  }
  template <class Text, class = std::enable_if_t<is_text_not_id<Text>>>
  friend bool operator!=(const Text& x, const alert_id& y) {
    return !y.equals(std::string_view{x});
  }

private:
  /// The two top bits of `lo_` are 10 for a UUID (RFC 4122's variant) and
  /// 00 for text: a text id keeps `lo_` at 0.
  bool is_uuid() const noexcept { return (lo_ >> 62) == 2; }
  bool equals(std::string_view text) const noexcept;
  /// Takes what `from` holds; this holds nothing alive (constructed or
  /// destroyed). A UUID is copied; a text is moved, leaving `from` empty.
  void take(alert_id&& from) noexcept {
    lo_ = from.lo_;
    if (from.is_uuid())
      hi_ = from.hi_;
    else
      new (&text_) shared_text{std::move(from.text_)};
  }
  void destroy() noexcept {
    if (!is_uuid())
      text_.~shared_text();
  }

  // Which member is alive is told by `lo_` (see `is_uuid`): the UUID's
  // high bits, or the text.
  union {
    uint64_t hi_;
    shared_text text_;
  };
  uint64_t lo_ = 0;
};

/// Crosses the wire as its text, as the std::string it replaced did.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, alert_id& x) {
  return inspect_as_text(f, x);
}

/// Prints as its text.
template <class OStream>
OStream& operator<<(OStream& out, const alert_id& x) {
  out << x.str();
  return out;
}

/// nlohmann::json (found by argument-dependent lookup): a JSON string.
template <class Json>
void to_json(Json& j, const alert_id& x) {
  j = x.str();
}
template <class Json>
void from_json(const Json& j, alert_id& x) {
  x = alert_id{j.template get<std::string>()};
}

} // namespace argus::domain
