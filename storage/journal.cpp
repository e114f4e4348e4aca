#include "storage/journal.hpp"

#include "domain/error.hpp"

namespace argus::storage {

journal_backend::~journal_backend() = default;

caf::error journal_backend::adopt(const std::vector<domain::event>&,
                                  const std::string&,
                                  const std::vector<uint64_t>&) {
  return make_error(ec::internal,
                    "this journal cannot adopt another node's records");
}

journal_fence::~journal_fence() = default;

} // namespace argus::storage
