#pragma once

#include <cstdint>
#include <cstring>

/// Finding, in the text of a JSON string, the next byte that cannot stand
/// as itself: what the strict checker stops at and what the writer escapes.
namespace argus::http {

/// Whether byte `c` cannot stand as itself inside a JSON string: the
/// quote, the backslash and the control characters below 0x20.
constexpr bool json_special(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\';
}

/// The first byte in [p, end) for which `json_special` holds, or `end`.
/// Eight bytes are tested at once (in one 64-bit word, as Bit Twiddling
/// Hacks' "has less" and "has zero"), so plain text costs about a quarter
/// of the instructions of a test per byte: the scan was most of writing an
/// Alertmanager alert's details and of checking a body's strings.
inline const char* find_json_special(const char* p, const char* end) {
  constexpr uint64_t ones = 0x0101010101010101ULL;
  constexpr uint64_t highs = 0x8080808080808080ULL;
  while (end - p >= 8) {
    uint64_t word = 0;
    std::memcpy(&word, p, sizeof word);
    uint64_t quote = word ^ (ones * '"');
    uint64_t backslash = word ^ (ones * '\\');
    // A byte below 0x20 of `word`, or a zero byte of `quote` or
    // `backslash`, sets its high bit here. A subtraction's borrow can
    // flag a byte above a match too, but never one below the first.
    uint64_t found =
        (((word - ones * 0x20) & ~word) | ((quote - ones) & ~quote) |
         ((backslash - ones) & ~backslash)) &
        highs;
    if (found != 0) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      // The lowest flagged byte is the first match: no byte scan after a
      // word test (most strings end in their first word).
      return p + __builtin_ctzll(found) / 8;
#else
      break;
#endif
    }
    p += 8;
  }
  while (p != end && !json_special(static_cast<unsigned char>(*p)))
    ++p;
  return p;
}

} // namespace argus::http
