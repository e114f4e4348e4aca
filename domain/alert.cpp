#include "domain/alert.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace argus::domain {

alert& mutable_alert(owned_alert& p) {
  if (p.use_count() > 1) {
    p = std::make_shared<alert>(*p);
  } else {
    // The others who held it let go on other threads: see their last reads
    // of it happen before our writes (pairs with the release of their
    // reference count decrement).
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return *p;
}

void merge_into(alert& stored, const alert_write& w) {
  auto id = std::move(stored.id);
  auto created_at = stored.created_at;
  auto count = stored.event_count + w.event_count_delta;
  auto last_seq = std::max(stored.last_seq, w.snapshot->last_seq);
  stored = *w.snapshot;
  stored.last_seq = last_seq;
  stored.id = std::move(id);
  stored.created_at = created_at;
  stored.event_count = count;
}

namespace {

/// Two 64-bit FNV-1a hashes with different offset bases, fed the same
/// bytes.
struct fnv1a_pair {
  uint64_t hi = 0xcbf29ce484222325ULL;
  uint64_t lo = 0x84222325cbf29ce4ULL;

  // Both in one pass: each byte's multiply waits on the last one's, so
  // two hashes in one loop take hardly longer than one (a uuid is made
  // for every new alert and every notification).
  void mix(unsigned char c) {
    hi = (hi ^ c) * prime;
    lo = (lo ^ c) * prime;
  }
  void mix(std::string_view s) {
    // In locals, four bytes a step, written out (GCC at -O2 does not
    // unroll even a fixed inner loop of four): the loop's own count was a
    // third of each byte's instructions.
    auto h = hi;
    auto l = lo;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    for (; end - p >= 4; p += 4) {
      h = (h ^ p[0]) * prime;
      l = (l ^ p[0]) * prime;
      h = (h ^ p[1]) * prime;
      l = (l ^ p[1]) * prime;
      h = (h ^ p[2]) * prime;
      l = (l ^ p[2]) * prime;
      h = (h ^ p[3]) * prime;
      l = (l ^ p[3]) * prime;
    }
    for (; p != end; ++p) {
      h = (h ^ *p) * prime;
      l = (l ^ *p) * prime;
    }
    hi = h;
    lo = l;
  }

private:
  static constexpr uint64_t prime = 0x100000001b3ULL;
};

/// The hashes after `a` and the separator.
fnv1a_pair fnv1a_prefix(std::string_view a) {
  fnv1a_pair h;
  h.mix(a);
  h.mix(static_cast<unsigned char>(0xff)); // cannot occur inside UTF-8 text
  return h;
}

/// The hashes over `a`, the separator and the concatenation of `b`'s
/// parts.
fnv1a_pair fnv1a(std::string_view a,
                 std::initializer_list<std::string_view> b) {
  auto h = fnv1a_prefix(a);
  for (auto part : b)
    h.mix(part);
  return h;
}

/// `fnv1a_prefix(manager)`, kept for the last manager this thread asked
/// about. Every alert id of a manager starts with its id, a 36-character
/// uuid and most of the bytes an id hashes, and a thread mostly makes new
/// alerts for one manager in a row. The text is compared, not its
/// address, so another manager never gets a stale state; a miss costs
/// the compare and a copy of the id.
const fnv1a_pair& manager_prefix(std::string_view manager) {
  thread_local std::string last;
  thread_local fnv1a_pair state = fnv1a_prefix("");
  if (manager != last) {
    state = fnv1a_prefix(manager);
    last.assign(manager);
  }
  return state;
}

/// Final avalanche step (splitmix64) so similar inputs spread over all bits.
uint64_t avalanche(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

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

std::string format_uuid(uint64_t hi, uint64_t lo, unsigned version) {
  hi = (hi & ~0xf000ULL) | (uint64_t{version} << 12);
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // RFC 4122 variant
  // By hand into a buffer rather than snprintf or appends: ids are made
  // for every new alert and looked up for every stored one (printf's
  // parsing was 2% of a batch, appending a character at a time 1%).
  char digits[32];
  put_hex32(digits, hi, lo);
  char text[36];
  std::memcpy(text, digits, 8);
  text[8] = '-';
  std::memcpy(text + 9, digits + 8, 4);
  text[13] = '-';
  std::memcpy(text + 14, digits + 12, 4);
  text[18] = '-';
  std::memcpy(text + 19, digits + 16, 4);
  text[23] = '-';
  std::memcpy(text + 24, digits + 20, 12);
  return std::string(text, sizeof text);
}

/// The name-based uuid of hashes `h`.
std::string uuid_of(const fnv1a_pair& h) {
  return format_uuid(avalanche(h.hi), avalanche(h.lo),
                     8); // version 8: custom, name-based
}

} // namespace

std::string name_based_uuid(std::string_view a, std::string_view b) {
  return name_based_uuid(a, {b});
}

std::string name_based_uuid(std::string_view a,
                            std::initializer_list<std::string_view> b) {
  return uuid_of(fnv1a(a, b));
}

std::string alert_id_for(std::string_view event_manager_id,
                         std::string_view dedup_key) {
  // name_based_uuid(event_manager_id, dedup_key), from the cached prefix.
  auto h = manager_prefix(event_manager_id);
  h.mix(dedup_key);
  return uuid_of(h);
}

std::string random_uuid() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return format_uuid(gen(), gen(), 4);
}

alert_filter every_active_alert_of(const std::string& manager_id) {
  alert_filter f;
  f.event_manager_id = manager_id;
  f.status = to_string(alert_status::active);
  f.limit = -1;
  return f;
}

bool column_filter::admits(const alert& a) const {
  if (!restricted)
    return true;
  auto in = [](const std::vector<std::string>& values, std::string_view x) {
    return std::find(values.begin(), values.end(), x) != values.end();
  };
  return in(severity, to_string(a.sev)) ||
         in(class_name, a.class_name.view()) || in(summary, a.summary) ||
         in(dedup_key, a.dedup_key.view());
}

bool matches(const alert& a, const alert_filter& filter) {
  if (!filter.event_manager_id.empty() &&
      a.event_manager_id != filter.event_manager_id)
    return false;
  if (!filter.status.empty() && to_string(a.status) != filter.status)
    return false;
  if (!filter.type.empty() && to_string(a.type) != filter.type)
    return false;
  return true;
}

} // namespace argus::domain
