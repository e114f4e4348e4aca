#include "domain/parent_links.hpp"

#include <stdexcept>

namespace argus::domain {

parent_link_map::parent_link_map(const parent_link_map& other)
    : links_(other.links_ ? std::make_unique<map>(*other.links_) : nullptr) {}

parent_link_map& parent_link_map::operator=(const parent_link_map& other) {
  if (this != &other)
    links_ = other.links_ ? std::make_unique<map>(*other.links_) : nullptr;
  return *this;
}

parent_links& parent_link_map::operator[](const std::string& parent) {
  if (!links_)
    links_ = std::make_unique<map>();
  return (*links_)[parent];
}

parent_links& parent_link_map::at(const std::string& parent) {
  if (!links_)
    throw std::out_of_range("no links of parent '" + parent + "'");
  return links_->at(parent);
}

parent_link_map::iterator parent_link_map::find(const std::string& parent) {
  return links_ ? links_->find(parent) : end();
}

parent_link_map::const_iterator
parent_link_map::find(const std::string& parent) const {
  return links_ ? links_->find(parent) : end();
}

void parent_link_map::erase(const std::string& parent) {
  if (!links_)
    return;
  links_->erase(parent);
  if (links_->empty())
    links_.reset(); // the group's last parent with children resolved
}

} // namespace argus::domain
