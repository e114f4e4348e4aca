#include "domain/shared_text.hpp"

#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>

namespace argus::domain {

shared_text::shared_text(std::string_view text) {
  if (text.empty())
    return;
  if (text.size() > std::numeric_limits<uint32_t>::max())
    throw std::length_error("shared_text: longer than 4 GiB");
  // The characters follow the count and length in the same heap block.
  void* memory = ::operator new(sizeof(block) + text.size());
  block_ = new (memory) block;
  block_->size = static_cast<uint32_t>(text.size());
  std::memcpy(reinterpret_cast<char*>(block_ + 1), text.data(), text.size());
}

void shared_text::release() noexcept {
  // The last holder deletes; acquire/release orders every holder's reads of
  // the text before the delete, as std::shared_ptr does.
  if (block_ != nullptr &&
      block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    block_->~block();
    ::operator delete(block_);
  }
  block_ = nullptr;
}

} // namespace argus::domain
