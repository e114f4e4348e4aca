#include "domain/alert.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

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

/// The bits of a UUID of this version made of `hi` and `lo`.
std::pair<uint64_t, uint64_t> uuid_bits(uint64_t hi, uint64_t lo,
                                        unsigned version) {
  hi = (hi & ~0xf000ULL) | (uint64_t{version} << 12);
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; // RFC 4122 variant
  return {hi, lo};
}

std::string format_uuid(uint64_t hi, uint64_t lo, unsigned version) {
  auto [h, l] = uuid_bits(hi, lo, version);
  std::string text(uuid_text_length, '\0');
  write_uuid(text.data(), h, l);
  return text;
}

/// The name-based uuid of hashes `h` (version 8: custom, name-based).
std::string uuid_of(const fnv1a_pair& h) {
  return format_uuid(avalanche(h.hi), avalanche(h.lo), 8);
}

} // namespace

std::string name_based_uuid(std::string_view a, std::string_view b) {
  return name_based_uuid(a, {b});
}

std::string name_based_uuid(std::string_view a,
                            std::initializer_list<std::string_view> b) {
  return uuid_of(fnv1a(a, b));
}

alert_id alert_id_for(std::string_view event_manager_id,
                      std::string_view dedup_key) {
  // name_based_uuid(event_manager_id, dedup_key), from the cached prefix,
  // kept as its bits: no text until someone reads it.
  auto h = manager_prefix(event_manager_id);
  h.mix(dedup_key);
  auto [hi, lo] = uuid_bits(avalanche(h.hi), avalanche(h.lo), 8);
  return alert_id::from_uuid(hi, lo);
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

bool listed_before(const alert& a, const alert& b) {
  if (a.created_at != b.created_at)
    return a.created_at > b.created_at;
  if (int order = a.dedup_key.view().compare(b.dedup_key.view()); order != 0)
    return order < 0;
  return a.event_manager_id.view() < b.event_manager_id.view();
}

bool on_page(int64_t index, int64_t offset, int64_t limit) {
  return index >= offset && (limit < 0 || index - offset < limit);
}

void cut_page(std::vector<alert>& merged, int64_t offset, int64_t limit) {
  auto size = static_cast<int64_t>(merged.size());
  auto first = std::clamp<int64_t>(offset, 0, size);
  auto last = limit < 0 ? size : std::min(size, first + limit);
  std::partial_sort(merged.begin(), merged.begin() + last, merged.end(),
                    listed_before);
  merged.erase(merged.begin() + last, merged.end());
  merged.erase(merged.begin(), merged.begin() + first);
}

} // namespace argus::domain
