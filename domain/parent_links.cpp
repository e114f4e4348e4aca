#include "domain/parent_links.hpp"

#include <stdexcept>

namespace argus::domain {

// A copy's keys view the blocks its values share with the original's, which
// live as long as either holds them.
parent_link_map::parent_link_map(const parent_link_map& other)
    : links_(other.links_ ? std::make_unique<map>(*other.links_) : nullptr) {}

parent_link_map& parent_link_map::operator=(const parent_link_map& other) {
  if (this != &other)
    links_ = other.links_ ? std::make_unique<map>(*other.links_) : nullptr;
  return *this;
}

template <class Text>
parent_links& parent_link_map::links_of(const Text& parent) {
  if (!links_)
    links_ = std::make_unique<map>();
  if (auto it = links_->find(std::string_view{parent}); it != links_->end())
    return it->second;
  parent_links fresh;
  fresh.parent = parent;
  std::string_view own_key = fresh.parent;
  return links_->emplace(own_key, std::move(fresh)).first->second;
}

parent_links& parent_link_map::operator[](std::string_view parent) {
  return links_of(parent);
}

parent_links& parent_link_map::operator[](const shared_text& parent) {
  return links_of(parent);
}

parent_links& parent_link_map::at(std::string_view parent) {
  auto it = find(parent);
  if (it == end())
    throw std::out_of_range("no links of parent '" + std::string{parent} + "'");
  return it->second;
}

parent_link_map::iterator parent_link_map::find(std::string_view parent) {
  return links_ ? links_->find(parent) : end();
}

parent_link_map::const_iterator
parent_link_map::find(std::string_view parent) const {
  return links_ ? links_->find(parent) : end();
}

void parent_link_map::erase(std::string_view parent) {
  if (!links_)
    return;
  links_->erase(parent);
  if (links_->empty())
    links_.reset(); // the group's last parent with children resolved
}

} // namespace argus::domain
