#include "domain/shared_text.hpp"

namespace argus::domain {

shared_text::shared_text(std::string text) {
  if (!text.empty())
    block_ = new block(std::move(text));
}

const std::string& shared_text::empty_text() noexcept {
  static const std::string empty;
  return empty;
}

void shared_text::release() noexcept {
  // The last holder deletes; acquire/release orders every holder's reads of
  // the text before the delete, as std::shared_ptr does.
  if (block_ != nullptr &&
      block_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    delete block_;
  block_ = nullptr;
}

} // namespace argus::domain
