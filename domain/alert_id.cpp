#include "domain/alert_id.hpp"

#include <array>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace argus::domain {

namespace {

#if defined(__SSE2__)

/// The 32 lowercase hex digits of `hi`, then `lo`, most significant first,
/// sixteen bytes at once (SSE2 is x86-64's baseline): each byte's two
/// nibbles side by side, then '0'-'9' or 'a'-'f' by one compare. A table
/// of digit pairs took about 4 instructions a digit, for every new alert
/// and every notification.
void put_hex32(char* out, uint64_t hi, uint64_t lo) {
  auto bytes = _mm_set_epi64x(static_cast<long long>(__builtin_bswap64(lo)),
                              static_cast<long long>(__builtin_bswap64(hi)));
  auto nibble = _mm_set1_epi8(0x0f);
  auto high = _mm_and_si128(_mm_srli_epi16(bytes, 4), nibble);
  auto low = _mm_and_si128(bytes, nibble);
  auto to_text = [](__m128i n) {
    auto letters = _mm_and_si128(_mm_cmpgt_epi8(n, _mm_set1_epi8(9)),
                                 _mm_set1_epi8('a' - '0' - 10));
    return _mm_add_epi8(_mm_add_epi8(n, _mm_set1_epi8('0')), letters);
  };
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                   to_text(_mm_unpacklo_epi8(high, low)));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16),
                   to_text(_mm_unpackhi_epi8(high, low)));
}

#else

/// "00" to "ff": the two lowercase hex digits of each byte.
constexpr std::array<char, 512> hex_pairs = [] {
  constexpr char hex[] = "0123456789abcdef";
  std::array<char, 512> out{};
  for (size_t byte = 0; byte < 256; ++byte) {
    out[2 * byte] = hex[byte >> 4];
    out[2 * byte + 1] = hex[byte & 0xf];
  }
  return out;
}();

/// The 32 lowercase hex digits of `hi`, then `lo`, most significant first,
/// a byte at a time.
void put_hex32(char* out, uint64_t hi, uint64_t lo) {
  for (auto v : {hi, lo})
    for (int shift = 56; shift >= 0; shift -= 8) {
      auto byte = (v >> shift) & 0xff;
      *out++ = hex_pairs[2 * byte];
      *out++ = hex_pairs[2 * byte + 1];
    }
}

#endif

/// The value of a lowercase hex digit, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/// Where the dashes of a UUID's text are.
bool is_dash_position(size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

/// The bits of `text` if it is a UUID exactly as `write_uuid` writes one
/// (lowercase, dashes in place) with the RFC 4122 variant, so that writing
/// them gives `text` back.
bool parse_uuid(std::string_view text, uint64_t& hi, uint64_t& lo) {
  if (text.size() != uuid_text_length)
    return false;
  uint64_t halves[2] = {0, 0};
  size_t digit = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (is_dash_position(i)) {
      if (text[i] != '-')
        return false;
      continue;
    }
    auto value = hex_value(text[i]);
    if (value < 0)
      return false;
    auto& half = halves[digit / 16];
    half = (half << 4) | static_cast<uint64_t>(value);
    ++digit;
  }
  if ((halves[1] >> 62) != 2)
    return false;
  hi = halves[0];
  lo = halves[1];
  return true;
}

} // namespace

void write_uuid(char* out, uint64_t hi, uint64_t lo) {
  // By hand into a buffer rather than snprintf or appends: ids are written
  // for every alert read out and every notification (printf's parsing was
  // 2% of a batch, appending a character at a time 1%).
  char digits[32];
  put_hex32(digits, hi, lo);
  std::memcpy(out, digits, 8);
  out[8] = '-';
  std::memcpy(out + 9, digits + 8, 4);
  out[13] = '-';
  std::memcpy(out + 14, digits + 12, 4);
  out[18] = '-';
  std::memcpy(out + 19, digits + 16, 4);
  out[23] = '-';
  std::memcpy(out + 24, digits + 20, 12);
}

alert_id::alert_id(std::string_view text) {
  uint64_t hi = 0;
  uint64_t lo = 0;
  if (parse_uuid(text, hi, lo)) {
    hi_ = hi;
    lo_ = lo;
  } else {
    new (&text_) shared_text{text};
  }
}

alert_id::alert_id(const alert_id& other) noexcept : lo_(other.lo_) {
  if (other.is_uuid())
    hi_ = other.hi_;
  else
    new (&text_) shared_text{other.text_};
}

alert_id alert_id::from_uuid(uint64_t hi, uint64_t lo) noexcept {
  alert_id id;
  id.destroy();
  id.hi_ = hi;
  id.lo_ = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return id;
}

// The ways out below all read the text `with_text` gives: a UUID's is
// written on the stack, a text's is its own.

char* alert_id::write(char* out) const noexcept {
  return with_text([out](std::string_view text) {
    std::memcpy(out, text.data(), text.size());
    return out + text.size();
  });
}

std::string alert_id::str() const {
  return with_text([](std::string_view text) { return std::string{text}; });
}

void alert_id::append_to(std::string& out) const {
  with_text([&out](std::string_view text) { out.append(text); });
}

void alert_id::swap(alert_id& other) noexcept {
  if (this == &other)
    return;
  alert_id held{std::move(other)};
  // What is left of `other` after the move is destroyed, then refilled.
  other.destroy(); // NOLINT(bugprone-use-after-move)
  other.take(std::move(*this));
  destroy();
  take(std::move(held));
}

bool operator==(const alert_id& x, const alert_id& y) noexcept {
  // A text id is never a UUID's text (that would have been kept as bits),
  // so the two kinds never equal each other.
  if (x.is_uuid() != y.is_uuid())
    return false;
  if (x.is_uuid())
    return x.hi_ == y.hi_ && x.lo_ == y.lo_;
  return x.text_ == y.text_;
}

bool operator<(const alert_id& x, const alert_id& y) {
  // Two UUIDs' texts order as their bits do: the dashes stand at the same
  // places, and the hex digits' characters order as their values.
  if (x.is_uuid() && y.is_uuid())
    return x.hi_ != y.hi_ ? x.hi_ < y.hi_ : x.lo_ < y.lo_;
  return x.with_text([&y](std::string_view mine) {
    return y.with_text(
        [mine](std::string_view theirs) { return mine < theirs; });
  });
}

bool alert_id::equals(std::string_view text) const noexcept {
  return with_text([text](std::string_view mine) { return mine == text; });
}

} // namespace argus::domain
