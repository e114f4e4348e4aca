#pragma once

// A text that many alerts hold alike: their event manager, grouping value,
// class and parent's dedupKey are the same for every alert of a group. As
// std::string each alert kept a 32-byte copy of each, and a heap block per
// copy once the text outgrew the 15 bytes std::string keeps inline (a
// loadgen grouping value has 17). A shared_text is one pointer to a
// reference-counted block, so a group's alerts share one block per text.
//
// It reads like a `const std::string&` (it converts to one, and to a
// std::string_view), compares with any text, and is assigned from one; it
// never changes in place, so a block is safe to share across actors. An
// empty text holds no block.

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>

#include <atomic>
#include <cstddef>
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
  shared_text(std::string text);
  shared_text(const char* text) : shared_text(std::string{text}) {}
  shared_text(std::string_view text) : shared_text(std::string{text}) {}
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

  const std::string& str() const noexcept {
    return block_ != nullptr ? block_->text : empty_text();
  }
  operator const std::string&() const noexcept { return str(); }
  operator std::string_view() const noexcept { return str(); }
  std::string_view view() const noexcept { return str(); }

  bool empty() const noexcept { return block_ == nullptr; }
  size_t size() const noexcept { return str().size(); }
  void clear() noexcept { *this = shared_text{}; }

  /// Whether both hold the same block: equal without reading the text.
  bool shares_with(const shared_text& other) const noexcept {
    return block_ == other.block_;
  }

  friend bool operator==(const shared_text& x, const shared_text& y) {
    return x.block_ == y.block_ || x.str() == y.str();
  }
  friend bool operator!=(const shared_text& x, const shared_text& y) {
    return !(x == y);
  }
  friend bool operator<(const shared_text& x, const shared_text& y) {
    return x.str() < y.str();
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
    std::string out = x.str();
    out.append(std::string_view{y});
    return out;
  }
  template <class Text, class = std::enable_if_t<is_other_text<Text>>>
  friend std::string operator+(const Text& x, const shared_text& y) {
    std::string out{std::string_view{x}};
    out += y.str();
    return out;
  }

private:
  struct block {
    explicit block(std::string text) : text(std::move(text)) {}
    std::atomic<uint32_t> refs{1};
    const std::string text;
  };

  static const std::string& empty_text() noexcept;
  void release() noexcept;

  block* block_ = nullptr;
};

/// Crosses the wire and the stores as its text.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shared_text& x) {
  if constexpr (Inspector::reads_state) {
    return f(x.str());
  } else {
    std::string text;
    return f(text, caf::meta::load_callback([&]() -> caf::error {
               x = shared_text{std::move(text)};
               return caf::none;
             }));
  }
}

/// Prints as its text.
template <class OStream>
OStream& operator<<(OStream& out, const shared_text& x) {
  out << x.str();
  return out;
}

/// nlohmann::json (found by argument-dependent lookup, so the domain does
/// not depend on the JSON library): a JSON string.
template <class Json>
void to_json(Json& j, const shared_text& x) {
  j = x.str();
}
template <class Json>
void from_json(const Json& j, shared_text& x) {
  x = j.template get<std::string>();
}

} // namespace argus::domain

template <>
struct std::hash<argus::domain::shared_text> {
  size_t operator()(const argus::domain::shared_text& x) const noexcept {
    return std::hash<std::string_view>{}(x.view());
  }
};
