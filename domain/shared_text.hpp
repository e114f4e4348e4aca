#pragma once

// A text that many alerts hold alike: their event manager, grouping value,
// class and parent's dedupKey are the same for every alert of a group. As
// std::string each alert kept a 32-byte copy of each, and a heap block per
// copy once the text outgrew the 15 bytes std::string keeps inline (a
// loadgen grouping value has 17). A shared_text is one pointer to a
// reference-counted block, so a group's alerts share one block per text.
// The block holds the characters themselves after its count and length:
// one heap block of 8 bytes plus the text (32 for a loadgen value), where
// a std::string inside the block took 40 and a second block of its own
// past 15 bytes (80 bytes in all with tcmalloc's size classes).
//
// It reads like a std::string_view (it converts to one and compares with
// any text), is assigned from any text, and converts to a std::string only
// when asked (`str()`), since that copies. It never changes in place, so a
// block is safe to share across actors. An empty text holds no block.

#include "domain/text_hash.hpp"

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace argus::domain {

class shared_text;

/// Whether `Text` is a text other than shared_text (std::string, a literal,
/// a string_view): what shared_text compares and concatenates with.
template <class Text>
constexpr bool is_other_text =
    std::is_convertible_v<const Text&, std::string_view> &&
    !std::is_same_v<Text, shared_text>;

class shared_text {
public:
  shared_text() noexcept = default;
  shared_text(std::string_view text);
  shared_text(const char* text) : shared_text(std::string_view{text}) {}
  shared_text(const std::string& text) : shared_text(std::string_view{text}) {}
  shared_text(const shared_text& other) noexcept : block_(other.block_) {
    if (block_ != nullptr)
      block_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  shared_text(shared_text&& other) noexcept : block_(other.block_) {
    other.block_ = nullptr;
  }
  shared_text& operator=(shared_text other) noexcept {
    std::swap(block_, other.block_);
    return *this;
  }
  ~shared_text() { release(); }

  /// An empty text's view points at "", not null, as an empty
  /// std::string's data() does: C APIs (SQLite, libpq) read null as NULL.
  std::string_view view() const noexcept {
    return block_ != nullptr ? std::string_view{block_->chars(), block_->size}
                             : std::string_view{""};
  }
  operator std::string_view() const noexcept { return view(); }
  /// A copy as a std::string.
  std::string str() const { return std::string{view()}; }

  bool empty() const noexcept { return block_ == nullptr; }
  size_t size() const noexcept { return block_ != nullptr ? block_->size : 0; }
  void clear() noexcept { *this = shared_text{}; }
  /// Whether this is the only holder of its (non-empty) block: nobody else
  /// can see the text, e.g. an interning table's entry no alert uses.
  bool sole_holder() const noexcept {
    return block_ != nullptr &&
           block_->refs.load(std::memory_order_acquire) == 1;
  }

  /// Starts loading the text (a hint, for loops that read the texts of
  /// many cold objects: see `flat_map::prefetch`).
  void prefetch() const noexcept {
    if (block_ != nullptr)
      __builtin_prefetch(block_);
  }

  /// Whether both hold the same block: equal without reading the text.
  bool shares_with(const shared_text& other) const noexcept {
    return block_ == other.block_;
  }

  friend bool operator==(const shared_text& x, const shared_text& y) {
    return x.block_ == y.block_ || x.view() == y.view();
  }
  friend bool operator!=(const shared_text& x, const shared_text& y) {
    return !(x == y);
  }
  friend bool operator<(const shared_text& x, const shared_text& y) {
    return x.view() < y.view();
  }

  // Comparisons with any other text (std::string, string_view, literals).
  template <class Text, class = std::enable_if_t<is_other_text<Text>>>
  friend bool operator==(const shared_text& x, const Text& y) {
    return x.view() == std::string_view{y};
  }
  template <class Text, class = std::enable_if_t<is_other_text<Text>>>
  friend bool operator==(const Text& x, const shared_text& y) {
    return y == x;
  }
  template <class Text, class = std::enable_if_t<is_other_text<Text>>>
  friend bool operator!=(const shared_text& x, const Text& y) {
    return !(x == y);
  }
  template <class Text, class = std::enable_if_t<is_other_text<Text>>>
  friend bool operator!=(const Text& x, const shared_text& y) {
    return !(y == x);
  }

  // Concatenation with any other text makes a std::string.
  template <class Text, class = std::enable_if_t<is_other_text<Text>>>
  friend std::string operator+(const shared_text& x, const Text& y) {
    std::string out{x.view()};
    out.append(std::string_view{y});
    return out;
  }
  template <class Text, class = std::enable_if_t<is_other_text<Text>>>
  friend std::string operator+(const Text& x, const shared_text& y) {
    std::string out{std::string_view{x}};
    out.append(y.view());
    return out;
  }

private:
  /// Allocated with its `size` characters right after it (see
  /// `shared_text(std::string_view)`).
  struct block {
    std::atomic<uint32_t> refs{1};
    uint32_t size = 0;
    const char* chars() const noexcept {
      return reinterpret_cast<const char*>(this + 1);
    }
  };

  void release() noexcept;

  block* block_ = nullptr;
};

/// Makes shared_texts for a run of texts that often repeat the one before,
/// such as one column over the rows of one read: a repeat shares the
/// previous block instead of allocating one of its own.
class repeated_text {
public:
  const shared_text& operator()(std::string_view text) {
    if (last_ != text)
      last_ = shared_text{text};
    return last_;
  }

private:
  shared_text last_;
};

/// Inspects `x` as its text, for a type that `str()` gives the text of
/// and that is made again from it: CAF 0.17 inspects std::string, not
/// views.
template <class Inspector, class Text>
typename Inspector::result_type inspect_as_text(Inspector& f, Text& x) {
  if constexpr (Inspector::reads_state) {
    auto text = x.str();
    return f(text);
  } else {
    std::string text;
    return f(text, caf::meta::load_callback([&]() -> caf::error {
               x = Text{text};
               return caf::none;
             }));
  }
}

/// Crosses the wire and the stores as its text.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shared_text& x) {
  return inspect_as_text(f, x);
}

/// Prints as its text.
template <class OStream>
OStream& operator<<(OStream& out, const shared_text& x) {
  out << x.view();
  return out;
}

/// nlohmann::json (found by argument-dependent lookup, so the domain does
/// not depend on the JSON library): a JSON string.
template <class Json>
void to_json(Json& j, const shared_text& x) {
  j = x.view();
}
template <class Json>
void from_json(const Json& j, shared_text& x) {
  x = j.template get<std::string>();
}

} // namespace argus::domain

template <>
struct std::hash<argus::domain::shared_text> {
  size_t operator()(const argus::domain::shared_text& x) const noexcept {
    return argus::domain::text_hash(x.view());
  }
};
