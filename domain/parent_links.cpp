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

template <class Text>
parent_links& parent_link_map::links_of(const Text& parent) {
  if (!table_)
    table_ = std::make_unique<table>();
  return (*table_)[table_->place_or_append(parent)];
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
  auto at = table_->place_of(parent);
  return at < table_->size() ? &(*table_)[at] : nullptr;
}

void parent_link_map::erase(std::string_view parent) {
  if (!table_)
    return;
  auto at = table_->place_of(parent);
  if (at == table_->size())
    return;
  table_->erase_at(at);
  if (table_->empty())
    table_.reset(); // the group's last parent with children resolved
}

} // namespace argus::domain
