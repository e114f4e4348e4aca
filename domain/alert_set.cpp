#include "domain/alert_set.hpp"

#include <stdexcept>
#include <string>

namespace argus::domain {

alert_set::slot* alert_set::slot_of(std::string_view key, uint32_t bits) {
  if (size_ == 0)
    return nullptr;
  // At most every slot: two alerts fill two slots, with no empty one to
  // end the probe.
  size_t i = bits & mask();
  for (size_t seen = 0; seen < slots_.size() && slots_[i].alert;
       ++seen, i = (i + 1) & mask())
    if (slots_[i].hash_bits == bits && slots_[i].alert->dedup_key == key)
      return &slots_[i];
  return nullptr;
}

owned_alert& alert_set::at(std::string_view dedup_key) {
  if (auto* a = find(dedup_key))
    return *a;
  throw std::out_of_range("no active alert '" + std::string{dedup_key} + "'");
}

bool alert_set::insert(owned_alert&& a, size_t hash) {
  // At most three quarters full, so a probe ends soon at an empty slot;
  // but two alerts may fill two slots. A group's second alert is nearly
  // always its first child, and growing to four slots for it was a third
  // of the cost of its insert; probing two slots is short either way.
  bool fits = slots_.size() <= 2 ? size_ < slots_.size()
                                 : (size_ + 1) * 4 <= slots_.size() * 3;
  if (!fits)
    grow();
  std::string_view key = a->dedup_key;
  auto bits = bits_from(hash);
  size_t i = bits & mask();
  // One probe: it meets the key if it is here, else ends where it goes.
  for (; slots_[i].alert; i = (i + 1) & mask())
    if (slots_[i].hash_bits == bits && slots_[i].alert->dedup_key == key)
      return false;
  slots_[i] = slot{std::move(a), bits};
  ++size_;
  return true;
}

bool alert_set::erase(std::string_view dedup_key) {
  auto* s = slot_of(dedup_key, bits_from(text_hash(dedup_key)));
  if (s == nullptr)
    return false;
  size_t i = static_cast<size_t>(s - slots_.data());
  // Move later slots of the same run back, so every probe still finds them
  // (no tombstones): slot j may fill hole i unless its home is in (i, j].
  // A full table's run is every other slot.
  size_t j = (i + 1) & mask();
  for (size_t seen = 1; seen < slots_.size() && slots_[j].alert;
       ++seen, j = (j + 1) & mask()) {
    size_t home = slots_[j].hash_bits & mask();
    bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!stays) {
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
  }
  slots_[i] = slot{};
  --size_;
  return true;
}

void alert_set::grow() {
  // Two slots first: most groups hold one alert (their parent) while open,
  // or it and a first child; a probe of two slots stays short.
  std::vector<slot> old(slots_.empty() ? 2 : slots_.size() * 2);
  old.swap(slots_);
  for (auto& s : old)
    if (s.alert) {
      size_t i = s.hash_bits & mask();
      while (slots_[i].alert)
        i = (i + 1) & mask();
      slots_[i] = std::move(s);
    }
}

} // namespace argus::domain
