#include "domain/parent_links.hpp"

#include <stdexcept>

namespace argus::domain {

// A copy's index keys view the blocks its entries share with the
// original's, which live as long as either holds them.
parent_link_map::parent_link_map(const parent_link_map& other)
    : table_(other.table_ ? std::make_unique<table>(*other.table_) : nullptr) {}

parent_link_map& parent_link_map::operator=(const parent_link_map& other) {
  if (this != &other)
    table_ = other.table_ ? std::make_unique<table>(*other.table_) : nullptr;
  return *this;
}

size_t parent_link_map::place_of(std::string_view parent) const {
  auto& entries = table_->entries;
  if (!table_->index.empty()) {
    auto it = table_->index.find(parent);
    return it != table_->index.end() ? it->second : entries.size();
  }
  for (size_t i = 0; i < entries.size(); ++i)
    if (entries[i].parent.view() == parent)
      return i;
  return entries.size();
}

template <class Text>
parent_links& parent_link_map::links_of(const Text& parent) {
  if (!table_)
    table_ = std::make_unique<table>();
  auto& entries = table_->entries;
  auto at = place_of(parent);
  if (at < entries.size())
    return entries[at];
  entries.emplace_back().parent = parent;
  auto& index = table_->index;
  if (!index.empty())
    index.emplace(entries.back().parent.view(), at);
  else if (entries.size() > unindexed)
    for (size_t i = 0; i < entries.size(); ++i)
      index.emplace(entries[i].parent.view(), i);
  return entries.back();
}

parent_links& parent_link_map::operator[](std::string_view parent) {
  return links_of(parent);
}

parent_links& parent_link_map::operator[](const shared_text& parent) {
  return links_of(parent);
}

parent_links& parent_link_map::at(std::string_view parent) {
  auto* found = find(parent);
  if (found == nullptr)
    throw std::out_of_range("no links of parent '" + std::string{parent} + "'");
  return *found;
}

parent_links* parent_link_map::find(std::string_view parent) {
  if (!table_)
    return nullptr;
  auto at = place_of(parent);
  return at < table_->entries.size() ? &table_->entries[at] : nullptr;
}

void parent_link_map::erase(std::string_view parent) {
  if (!table_)
    return;
  auto& entries = table_->entries;
  auto at = place_of(parent);
  if (at == entries.size())
    return;
  auto& index = table_->index;
  if (!index.empty())
    index.erase(parent); // before the entry whose block its key views goes
  // The last entry takes the erased one's place.
  if (at + 1 != entries.size()) {
    entries[at] = std::move(entries.back());
    if (!index.empty())
      index[entries[at].parent.view()] = at;
  }
  entries.pop_back();
  if (entries.empty())
    table_.reset(); // the group's last parent with children resolved
  else if (entries.size() <= unindexed)
    index.clear();
}

} // namespace argus::domain
