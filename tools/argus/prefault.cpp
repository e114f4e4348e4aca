#include "prefault.hpp"

#include <gperftools/malloc_extension.h>
#include <sys/mman.h>

#include <cstddef>

namespace argus {

namespace {

#ifdef MADV_POPULATE_WRITE
constexpr int populate_write = MADV_POPULATE_WRITE;
#else
constexpr int populate_write = 23; // Linux 5.14; older headers lack it
#endif

/// tcmalloc's own system allocator (sbrk, then mmap), with each chunk it
/// returns populated for writing.
class prefaulting_allocator final : public SysAllocator {
public:
  explicit prefaulting_allocator(SysAllocator* next) : next_(next) {}

  void* Alloc(size_t size, size_t* actual_size, size_t alignment) override {
    void* chunk = next_->Alloc(size, actual_size, alignment);
    // The first failure (an old kernel: EINVAL) turns it off, and pages
    // fault in one by one as without it.
    if (chunk != nullptr && !unsupported_ &&
        madvise(chunk, *actual_size, populate_write) != 0)
      unsupported_ = true;
    return chunk;
  }

private:
  SysAllocator* next_;
  // tcmalloc calls Alloc under its system-allocation lock: no race.
  bool unsupported_ = false;
};

} // namespace

void prefault_heap_growth() {
  auto* extension = MallocExtension::instance();
  // Never destroyed: tcmalloc may grow the heap until the process ends.
  static auto* wrapper =
      new prefaulting_allocator{extension->GetSystemAllocator()};
  extension->SetSystemAllocator(wrapper);
}

} // namespace argus
